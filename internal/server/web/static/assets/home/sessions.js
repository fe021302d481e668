// The home page's list of the user's sessions: where the account is signed
// in, with "Sign out" for each other device (GET /user/sessions, DELETE
// /user/sessions/{id}).

import { $, icon, notice, retryNotice, plural } from "../lib/dom.js";
import { readJSON } from "../lib/http.js";
import { SessionEnded } from "../lib/session.js";

// A short name for a user agent: "Chrome on Linux", "Safari on iPhone".
function deviceName(ua) {
  if (!ua) {
    return "Unknown device";
  }
  // A session an app's OpenID Connect login opened ("app: NAME").
  const app = /^app: (.+)$/.exec(ua);
  if (app) {
    return `${app[1]} (app)`;
  }
  let browser = "";
  if (/\bEdg(e|A|iOS)?\//.test(ua)) {
    browser = "Edge";
  } else if (/\bOPR\/|\bOpera\b/.test(ua)) {
    browser = "Opera";
  } else if (/\bSamsungBrowser\//.test(ua)) {
    browser = "Samsung Internet";
  } else if (/\bFirefox\/|\bFxiOS\//.test(ua)) {
    browser = "Firefox";
  } else if (/\bHeadlessChrome\//.test(ua)) {
    browser = "Headless Chrome";
  } else if (/\bChrom(e|ium)\/|\bCriOS\//.test(ua)) {
    browser = "Chrome";
  } else if (/\bVersion\/[\d.]+.*\bSafari\//.test(ua)) {
    browser = "Safari";
  }
  let os = "";
  if (/\biPad\b/.test(ua)) {
    os = "iPad";
  } else if (/\biPhone\b|\biPod\b/.test(ua)) {
    os = "iPhone";
  } else if (/\bAndroid\b/.test(ua)) {
    os = "Android";
  } else if (/\bCrOS\b/.test(ua)) {
    os = "ChromeOS";
  } else if (/\bWindows\b/.test(ua)) {
    os = "Windows";
  } else if (/\bMac OS X\b|\bMacintosh\b/.test(ua)) {
    os = "macOS";
  } else if (/\bLinux\b/.test(ua)) {
    os = "Linux";
  }
  if (browser && os) {
    return `${browser} on ${os}`;
  }
  if (browser || os) {
    return browser || os;
  }
  // Another client (curl/8.5.0, Go-http-client/1.1, …): its product name.
  const product = ua.trim().split(/[\s/;(]/)[0].slice(0, 40);
  return product || "Unknown device";
}

function deviceIcon(ua) {
  if (/^app: /.test(ua)) {
    return "key";
  }
  if (/\b(Mobi|iPhone|iPod|Android)\b/.test(ua)) {
    return "phone";
  }
  if (!ua || !/^Mozilla\//.test(ua)) {
    return "terminal";
  }
  return "monitor";
}

// "just now", "3 min ago", "2 hours ago", "5 days ago", or a date.
function ago(iso, now) {
  const when = Date.parse(iso);
  if (Number.isNaN(when)) {
    return "";
  }
  const seconds = Math.max(0, Math.round((now - when) / 1000));
  if (seconds < 60) {
    return "just now";
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return `${plural(hours, "hour")} ago`;
  }
  const days = Math.floor(hours / 24);
  if (days < 30) {
    return `${plural(days, "day")} ago`;
  }
  return `on ${new Date(when).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" })}`;
}

function fullDate(iso) {
  const when = Date.parse(iso);
  return Number.isNaN(when)
    ? ""
    : new Date(when).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// createSessionsPanel drives the panel for session. It returns
//   load()          read the list again (callers at the same time share one
//                   request); it rejects with SessionEnded when the session
//                   ended meanwhile;
//   onlyThis()      show at once that the other sessions ended (after a
//                   password change), before load() confirms it;
//   updateTimes()   rewrite the "last active 3 min ago" texts.
export function createSessionsPanel(session) {
  const { api } = session;
  const card = $("sessions-card");
  const title = $("sessions-title");
  const sessionsList = $("sessions");
  const sessionsStatus = $("sessions-status");
  const sessionsError = $("sessions-error");
  const reload = $("sessions-reload");

  let sessions = [];
  let sessionsLoading = null;

  function sessionRow(s) {
    const li = document.createElement("li");
    li.className = "session";
    li.dataset.id = s.id;
    const name = deviceName(s.user_agent);

    const figure = document.createElement("span");
    figure.className = "session-icon";
    figure.append(icon(deviceIcon(s.user_agent || ""), "icon"));

    const main = document.createElement("div");
    main.className = "session-main";
    const device = document.createElement("p");
    device.className = "session-device";
    const deviceText = document.createElement("span");
    deviceText.className = "session-name";
    deviceText.textContent = name;
    if (s.user_agent) {
      deviceText.title = s.user_agent;
    }
    device.append(deviceText);
    if (s.current) {
      li.classList.add("is-current");
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "This device";
      device.append(" ", badge);
    }
    const meta = document.createElement("p");
    meta.className = "session-meta";
    const parts = [];
    if (s.ip) {
      const ip = document.createElement("span");
      ip.className = "session-ip";
      ip.textContent = s.ip;
      parts.push(ip, " · ");
    }
    const last = document.createElement("time");
    last.className = "session-last";
    last.dateTime = s.last_used_at || "";
    const since = fullDate(s.created_at);
    last.title = `Last active ${fullDate(s.last_used_at)}${since ? `; signed in ${since}` : ""}`;
    last.textContent = `last active ${ago(s.last_used_at, session.serverNow())}`;
    parts.push(last);
    meta.append(...parts);
    main.append(device, meta);
    li.append(figure, main);

    if (!s.current) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button-small button-danger session-signout";
      button.dataset.id = s.id;
      const label = document.createElement("span");
      label.className = "button-label";
      label.textContent = "Sign out";
      const more = document.createElement("span");
      more.className = "visually-hidden";
      more.textContent = ` ${name}${s.ip ? `, ${s.ip}` : ""}`;
      button.append(icon("spinner", "icon spinner"), label, more);
      button.addEventListener("click", () => signOut(s, button));
      li.append(button);
    }
    return li;
  }

  // updateTimes rewrites the "last active 3 min ago" texts in place.
  function updateTimes() {
    for (const el of sessionsList.querySelectorAll("time.session-last")) {
      el.textContent = `last active ${ago(el.dateTime, session.serverNow())}`;
    }
  }

  function renderSessions() {
    if (sessions.length === 0) {
      const li = document.createElement("li");
      li.className = "session session-empty";
      li.textContent = "No active sessions.";
      sessionsList.replaceChildren(li);
      return;
    }
    // Keep the focused button in place when a re-render does not touch it.
    const focusedID = sessionsList.contains(document.activeElement) ? document.activeElement.dataset.id : "";
    sessionsList.replaceChildren(...sessions.map(sessionRow));
    if (focusedID) {
      const again = sessionsList.querySelector(`button[data-id="${CSS.escape(focusedID)}"]`);
      if (again) {
        again.focus();
      }
    }
  }

  // load reads GET /user/sessions and shows it: this device first,
  // then the most recently used. Callers at the same time share one request.
  function load() {
    if (!sessionsLoading) {
      sessionsLoading = fetchSessions().finally(() => {
        sessionsLoading = null;
      });
    }
    return sessionsLoading;
  }

  async function fetchSessions() {
    card.setAttribute("aria-busy", "true");
    reload.disabled = true;
    try {
      let res;
      try {
        res = await api("/user/sessions");
      } catch (err) {
        if (err instanceof SessionEnded) {
          throw err;
        }
        sessionsFailed("Could not reach the server to list your sessions.");
        return;
      }
      const body = res.ok ? await readJSON(res) : null;
      if (!body || !Array.isArray(body.sessions)) {
        sessionsFailed(
          res.ok ? "The server sent a list this page does not understand." : `Could not list your sessions (HTTP ${res.status}).`,
        );
        return;
      }
      session.noteClock(res);
      sessions = body.sessions
        .filter((s) => s && typeof s.id === "string")
        .sort((a, b) => Number(!!b.current) - Number(!!a.current) || Date.parse(b.last_used_at) - Date.parse(a.last_used_at));
      sessionsError.replaceChildren();
      renderSessions();
    } finally {
      card.setAttribute("aria-busy", "false");
      reload.disabled = false;
    }
  }

  function sessionsFailed(text) {
    retryNotice(sessionsError, text, () => {
      load().catch(() => {});
    });
  }

  async function signOut(s, button) {
    if (button.disabled) {
      return;
    }
    const name = deviceName(s.user_agent);
    button.disabled = true;
    button.classList.add("is-busy");
    button.querySelector(".button-label").textContent = "Signing out…";
    sessionsError.replaceChildren();
    let res;
    try {
      res = await api(`/user/sessions/${encodeURIComponent(s.id)}`, { method: "DELETE" });
    } catch (err) {
      if (!(err instanceof SessionEnded)) {
        resetButton(button);
        notice(sessionsError, "alert", "Could not reach the server. Please try again.");
      }
      return;
    }
    // 404: it had ended already; either way it is gone.
    if (res.ok || res.status === 404) {
      // Where the focus goes when the row goes: the next row's button, or
      // the list's heading.
      const rows = [...sessionsList.querySelectorAll(".session-signout")];
      const next = rows[rows.indexOf(button) + 1] || rows[rows.indexOf(button) - 1];
      const nextID = next ? next.dataset.id : "";
      sessions = sessions.filter((x) => x.id !== s.id);
      renderSessions();
      sessionsStatus.textContent = `Signed out ${name}${s.ip ? ` (${s.ip})` : ""}.`;
      const target = nextID && sessionsList.querySelector(`button[data-id="${CSS.escape(nextID)}"]`);
      (target || title).focus();
      load().catch(() => {});
      return;
    }
    resetButton(button);
    notice(
      sessionsError,
      "alert",
      res.status === 429 || res.status === 503
        ? "The server is busy right now. Please try again in a moment."
        : `Could not sign out that session (HTTP ${res.status}). Please try again.`,
    );
  }

  function resetButton(button) {
    button.disabled = false;
    button.classList.remove("is-busy");
    button.querySelector(".button-label").textContent = "Sign out";
  }

  reload.addEventListener("click", () => {
    sessionsStatus.textContent = "";
    load()
      .then(() => {
        if (session.active) {
          sessionsStatus.textContent = `${plural(sessions.length, "active session")}.`;
        }
      })
      .catch(() => {});
  });

  return Object.freeze({
    load,
    updateTimes,
    onlyThis() {
      sessions = sessions.filter((s) => s.current);
      renderSessions();
    },
  });
}
