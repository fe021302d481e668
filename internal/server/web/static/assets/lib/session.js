// The browser session, shared by every page that shows a logged-in user.
//
// The session lives in two HttpOnly cookies the browser sends by itself (a
// short-lived access token, and a refresh token sent only to
// /token/refresh); no script ever sees a token. A session
//   - asks GET /user who is logged in, renewing once through
//     POST /token/refresh when the access token has expired (whoami);
//   - keeps itself alive while a page shows it: it refreshes the access
//     token shortly before it expires (the server says when in /user's
//     "exp"), and again when the tab comes back after a while;
//   - calls the protected API (api), renewing and retrying once on a 401;
//   - tells the page when it was ended elsewhere (logout, "Sign out" from
//     another device, a password change, an administrator).

import { request, readJSON, busyText, retryAfterMs as retryAfter } from "./http.js";

// Refresh this long before the access token expires: 30 s, or a fifth of
// its remaining lifetime when that is shorter.
const MAX_LEAD_MS = 30000;
// Never schedule the next refresh sooner than this, so that a server with
// very short tokens (or a confused clock) cannot make the page loop.
const MIN_DELAY_MS = 1000;
// After a failed refresh that was not a 401 (server busy, network down):
// try again after this long, doubling up to the maximum.
const RETRY_MS = 5000;
const MAX_RETRY_MS = 60000;

// SessionEnded is thrown by api when the session ended while the page was
// using it (the page has been told already).
export class SessionEnded extends Error {}

// validUser reports whether a /user answer names a user.
export function validUser(user) {
  return !!user && typeof user.name === "string" && user.name !== "";
}

// create makes the session of a page. hooks (all optional):
//   onUser(user)  a refresh read /user again while the session is active;
//   onEnded()     the session ended while active: the page says so;
//   onResume()    the tab shows again and the session goes on (after a
//                 refresh, when one was due): reload what may have changed.
export function createSession(hooks = {}) {
  let active = false; // the page shows a logged-in user
  let leaving = false; // logging out: no more refreshes
  let expiresAt = 0; // when the access token expires, on this browser's clock (ms)
  let refreshTimer = 0;
  let refreshing = null; // the refresh in flight, shared by its callers
  let retryDelay = RETRY_MS;
  let skew = 0; // server clock minus this browser's clock (ms)

  // The server's clock, to read "exp" and the times it sends. The Date
  // header has whole seconds, so the server may be up to a second past
  // it; take the later end, to refresh early rather than late.
  function noteClock(res) {
    const date = Date.parse(res.headers.get("Date") || "");
    if (!Number.isNaN(date)) {
      skew = date + 1000 - Date.now();
    }
  }

  function serverNow() {
    return Date.now() + skew;
  }

  // retryAfterMs is how long the server asks to wait, by its clock.
  function retryAfterMs(res) {
    return retryAfter(res, serverNow());
  }

  function ended() {
    if (!active || leaving) {
      return;
    }
    if (hooks.onEnded) {
      hooks.onEnded();
    }
  }

  // api is request for the protected routes while logged in: a 401 means
  // the access token expired (or the cookie went), so it refreshes once
  // and retries once. It throws SessionEnded when the refresh says the
  // session is over, after telling the page.
  async function api(path, options = {}) {
    const res = await request(path, options);
    if (res.status !== 401 || !active) {
      return res;
    }
    const outcome = await refresh();
    if (outcome === "ok") {
      return request(path, options);
    }
    if (outcome === "ended") {
      ended();
      throw new SessionEnded();
    }
    // The server is busy or out of reach: let the caller report its 401.
    return res;
  }

  // refresh trades the refresh cookie for new cookies, then reads /user
  // again for the new expiry and schedules the next refresh. Callers at
  // the same time share one request. It resolves to
  //   "ok"      the session goes on;
  //   "ended"   the session is over (401 invalid_grant, or no refresh cookie);
  //   "failed"  the server is busy or out of reach: try again later.
  function refresh() {
    if (!refreshing) {
      clearTimeout(refreshTimer);
      refreshTimer = 0;
      refreshing = renew().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  async function renew() {
    let res;
    try {
      // An empty body: the server takes the refresh token from its cookie.
      res = await request("/token/refresh", { method: "POST" });
    } catch {
      return retryLater(0);
    }
    if (res.status === 401 || res.status === 400) {
      // 401: the session was revoked or expired; 400: the refresh cookie
      // is gone (a logout in another tab clears it).
      return "ended";
    }
    if (!res.ok) {
      return retryLater(retryAfterMs(res));
    }
    let userRes;
    try {
      userRes = await request("/user");
    } catch {
      return retryLater(0);
    }
    if (userRes.status === 401) {
      return "ended";
    }
    const user = userRes.ok ? await readJSON(userRes) : null;
    if (!validUser(user)) {
      return retryLater(retryAfterMs(userRes));
    }
    noteClock(userRes);
    retryDelay = RETRY_MS;
    if (active && hooks.onUser) {
      hooks.onUser(user);
    }
    noteExpiry(user);
    return "ok";
  }

  function retryLater(afterMs) {
    if (active && !leaving) {
      const delay = Math.max(afterMs, retryDelay);
      retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(onRefreshTimer, delay);
    }
    return "failed";
  }

  // noteExpiry reads "exp" (unix seconds on the server's clock) and
  // schedules the next refresh before it.
  function noteExpiry(user) {
    const exp = typeof user.exp === "number" && user.exp > 0 ? user.exp * 1000 : 0;
    // Without an exp, check again in a minute.
    expiresAt = exp ? exp - skew : Date.now() + 60000;
    schedule();
  }

  function leadFor(remaining) {
    return Math.min(MAX_LEAD_MS, Math.max(0, remaining) / 5);
  }

  function schedule() {
    clearTimeout(refreshTimer);
    refreshTimer = 0;
    if (!active || leaving) {
      return;
    }
    const remaining = expiresAt - Date.now();
    const delay = Math.max(MIN_DELAY_MS, remaining - leadFor(remaining));
    refreshTimer = setTimeout(onRefreshTimer, delay);
  }

  async function onRefreshTimer() {
    refreshTimer = 0;
    if (!active || leaving) {
      return;
    }
    if ((await refresh()) === "ended") {
      ended();
    }
  }

  function resume() {
    if (active && hooks.onResume) {
      hooks.onResume();
    }
  }

  // Timers in a hidden tab run late or not at all: when the tab shows
  // again, refresh now if the token has expired or is about to, then let
  // the page reload what may have changed meanwhile.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || !active || leaving) {
      return;
    }
    const remaining = expiresAt - Date.now();
    if (remaining <= leadFor(remaining) + MIN_DELAY_MS) {
      onRefreshTimer().then(resume);
    } else {
      schedule();
      resume();
    }
  });

  // whoami asks GET /user who is logged in; on a 401 the access token has
  // expired (its cookie with it) and the refresh token may still be good,
  // so it refreshes once and asks again. It resolves to
  //   {state: "in", user}     logged in;
  //   {state: "out"}          not logged in;
  //   {state: "error", text}  the session could not be checked.
  async function whoami() {
    let res;
    try {
      res = await request("/user");
      if (res.status === 401) {
        const outcome = await refresh();
        if (outcome === "ended") {
          return { state: "out" };
        }
        if (outcome === "failed") {
          return { state: "error", text: "The server could not renew your session. Please try again in a moment." };
        }
        res = await request("/user");
      }
    } catch {
      return { state: "error", text: "The server could not be reached. Check your connection and try again." };
    }
    if (res.status === 401) {
      return { state: "out" };
    }
    if (!res.ok) {
      return { state: "error", text: busyText(res) };
    }
    noteClock(res);
    const user = await readJSON(res);
    if (!validUser(user)) {
      return { state: "error", text: "The server sent an answer this page does not understand." };
    }
    return { state: "in", user };
  }

  return Object.freeze({
    request,
    api,
    refresh,
    whoami,
    noteClock,
    serverNow,
    retryAfterMs,
    get active() {
      return active;
    },
    // begin marks the session active before the page has shown it, so that
    // the first API calls can renew it and report its end.
    begin() {
      active = true;
      leaving = false;
    },
    // start marks it active and keeps it alive from the user's "exp".
    start(user) {
      active = true;
      leaving = false;
      retryDelay = RETRY_MS;
      noteExpiry(user);
    },
    // stop: the page no longer shows a logged-in user.
    stop() {
      active = false;
      clearTimeout(refreshTimer);
      refreshTimer = 0;
    },
    // leave: logging out; no refresh from now on, unless stay() is called.
    leave() {
      leaving = true;
      clearTimeout(refreshTimer);
      refreshTimer = 0;
    },
    // stay: the logout failed, the session goes on.
    stay() {
      leaving = false;
      schedule();
    },
  });
}
