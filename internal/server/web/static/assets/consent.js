// jwtgate consent page: shows which app asks for what (GET
// /oauth2/consent/request?id=), and posts the user's answer to
// /oauth2/consent. The answer says where the browser goes next (back to the
// app, or to the login page); the page follows it by script, so no form is
// ever submitted to another origin.

import { $, notice, setBusy } from "./lib/dom.js";
import { request, readJSON, errorOf, busyText } from "./lib/http.js";

const id = new URLSearchParams(location.search).get("id") || "";
const allow = $("consent-allow");
const deny = $("consent-deny");
const errorBox = $("consent-error");

// What each scope lets the app see, in words.
const SCOPES = {
  openid: "who you are (your account id)",
  profile: "your name",
  email: "your email address",
  offline_access: "access while you are away (it stays signed in)",
};

function fail(text) {
  notice(errorBox, "alert", text);
}

async function load() {
  let res;
  try {
    res = await request("/oauth2/consent/request?id=" + encodeURIComponent(id));
  } catch {
    fail("Could not reach the server. Check your connection and reload the page.");
    return;
  }
  if (res.status === 401) {
    location.assign("/login?return_to=" + encodeURIComponent(location.href));
    return;
  }
  if (!res.ok) {
    const { message } = await errorOf(res);
    fail(message || busyText(res));
    return;
  }
  const info = await readJSON(res);
  if (!info || typeof info.client_name !== "string" || !Array.isArray(info.scopes)) {
    fail("The server's answer was not understood. Reload the page.");
    return;
  }
  $("consent-client").textContent = info.client_name;
  $("consent-user").textContent = typeof info.user === "string" ? info.user : "";
  const list = $("consent-scopes");
  for (const s of info.scopes) {
    const li = document.createElement("li");
    li.textContent = SCOPES[s] || s;
    list.append(li);
  }
  allow.disabled = false;
  deny.disabled = false;
}

async function decide(approve) {
  allow.disabled = true;
  deny.disabled = true;
  setBusy(approve ? allow : deny, true, approve ? "Allowing…" : "Denying…");
  let res;
  try {
    res = await request("/oauth2/consent", { method: "POST", json: { id, approve } });
  } catch {
    setBusy(approve ? allow : deny, false, approve ? "Allow" : "Deny");
    allow.disabled = false;
    deny.disabled = false;
    fail("Could not reach the server. Check your connection and try again.");
    return;
  }
  const body = await readJSON(res);
  if (res.ok && body && typeof body.redirect_to === "string") {
    location.assign(body.redirect_to);
    return;
  }
  setBusy(approve ? allow : deny, false, approve ? "Allow" : "Deny");
  fail((body && typeof body.message === "string" && body.message) || busyText(res));
}

allow.addEventListener("click", () => decide(true));
deny.addEventListener("click", () => decide(false));
load();
