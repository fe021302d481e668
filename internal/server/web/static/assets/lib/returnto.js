// Where the login page may send a browser after logging in.
//
// The server checks return_to before it serves the login page, but the
// page reads its URL with the browser's URLSearchParams, which keeps pairs
// Go's query parser drops (a ";" or a bad "%" escape): a target the server
// never saw. So the page checks again, with the same list the server uses
// (config.js): a path on this origin, or an http(s) URL on an allowed host.
//
// Browsers read URLs loosely ("\" is "/", tabs and newlines vanish, hosts
// are percent-decoded, "//host" is another host), so the check accepts only
// targets that every reader splits the same way, and navigates to the URL
// as the browser itself parsed it.

import { returnTo } from "./config.js";

const MAX_LENGTH = 2048;

// returnTarget returns the URL to go to for raw, or "" when raw must not be
// followed. allowed defaults to this page's origin and the server's list.
export function returnTarget(raw, allowed = {}) {
  const origin = allowed.origin || location.origin;
  const hosts = allowed.hosts || returnTo.hosts;
  const domain = (allowed.domain ?? returnTo.domain).toLowerCase().replace(/^\./, "");
  // Printable ASCII only, and no "\": nothing a browser would drop or turn
  // into "/" on the way.
  if (typeof raw !== "string" || raw === "" || raw.length > MAX_LENGTH || /[^\x21-\x7e]|\\/.test(raw)) {
    return "";
  }
  // A path on this origin; "//host" would be another host.
  if (raw.startsWith("/")) {
    if (raw.startsWith("//")) {
      return "";
    }
    const u = parse(raw, origin);
    return u && u.origin === origin ? u.href : "";
  }
  // An absolute http(s) URL whose authority is a plain host[:port]: no
  // userinfo ("good@evil"), no escapes ("evil%2eexample").
  const m = /^https?:\/\/([^/?#]*)/i.exec(raw);
  if (!m || !/^[a-z0-9.\-:[\]]+$/i.test(m[1])) {
    return "";
  }
  const u = parse(raw);
  if (!u || u.username || u.password) {
    return "";
  }
  // The browser must find the host the text shows (it drops a default
  // port, and rewrites numeric hosts such as 0x7f.1: those fail here).
  const authority = m[1].toLowerCase();
  const defaultPort = u.protocol === "https:" ? ":443" : ":80";
  const shown = authority.endsWith(defaultPort) ? authority.slice(0, -defaultPort.length) : authority;
  if (u.host !== shown) {
    return "";
  }
  if (u.origin === origin || hosts.includes(authority) || underDomain(u.hostname, domain)) {
    return u.href;
  }
  return "";
}

// underDomain reports whether name is domain or a host under it.
function underDomain(name, domain) {
  if (!domain || name.startsWith(".") || name.includes("..")) {
    return false;
  }
  return name === domain || name.endsWith(`.${domain}`);
}

function parse(raw, base) {
  try {
    return new URL(raw, base);
  } catch {
    return null;
  }
}

// afterLogin is where this page goes after logging in: its return_to when
// that may be followed, else the home page.
export function afterLogin() {
  const raw = new URLSearchParams(location.search).get("return_to");
  return (raw && returnTarget(raw)) || "/";
}
