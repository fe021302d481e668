// jwtgate pages: the browser session, shared by the home and admin pages.
//
// The session lives in two HttpOnly cookies the browser sends by itself (a
// short-lived access token, and a refresh token sent only to
// /token/refresh); these scripts never see a token. This file knows how to
//   - ask GET /user who is logged in, renewing once through
//     POST /token/refresh when the access token has expired (whoami);
//   - keep the session alive while a page shows it: refresh the access
//     token shortly before it expires (the server says when in /user's
//     "exp"), and again when the tab comes back after a while;
//   - call the protected API (api), renewing and retrying once on a 401;
//   - tell the page when the session was ended elsewhere (logout, "Sign
//     out" from another device, a password change, an administrator).
//
// It defines one global, JwtgateSession; a page makes its session with
// JwtgateSession.create(hooks) and keeps the rest to itself.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const REQUEST_TIMEOUT_MS = 15000;
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

  // The session ended while the page was using it.
  class SessionEnded extends Error {}

  async function readJSON(res) {
    try {
      return await res.json();
    } catch {
      return null;
    }
  }

  function validUser(user) {
    return !!user && typeof user.name === "string" && user.name !== "";
  }

  function busyText(res) {
    return res.status === 503 || res.status === 429
      ? "The server is busy right now. Please try again in a moment."
      : `The server answered with an error (HTTP ${res.status}). Please try again.`;
  }

  // request is fetch on the same origin, with cookies, JSON, no caching and
  // a time limit. options.json is sent as a JSON body.
  function request(path, options = {}) {
    const init = {
      method: options.method || "GET",
      headers: { Accept: "application/json" },
      cache: "no-store",
      credentials: "same-origin",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    };
    if (options.json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    return fetch(path, init);
  }

  // icon returns <svg class=…><use href="/assets/icons.svg#name"/></svg>.
  function icon(name, className = "icon") {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", className);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const use = document.createElementNS(SVG, "use");
    use.setAttribute("href", `/assets/icons.svg#${name}`);
    svg.append(use);
    return svg;
  }

  // notice fills a notice box with an icon, the text and an optional action.
  // Messages go in with textContent only: a server message is data, not
  // markup.
  function notice(box, iconName, text, action) {
    const span = document.createElement("span");
    span.textContent = text;
    const parts = [icon(iconName, "icon notice-icon"), span];
    if (action) {
      parts.push(action);
    }
    box.replaceChildren(...parts);
  }

  // create makes the session of a page. hooks (all optional):
  //   onUser(user)  a refresh read /user again while the session is active;
  //   onEnded()     the session ended while active: the page says so;
  //   onResume()    the tab shows again and the session goes on (after a
  //                 refresh, when one was due): reload what may have changed.
  function create(hooks = {}) {
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

    // Retry-After is either delay-seconds or an HTTP date.
    function retryAfterMs(res) {
      const raw = (res.headers.get("Retry-After") || "").trim();
      if (/^\d+$/.test(raw)) {
        return parseInt(raw, 10) * 1000;
      }
      const when = Date.parse(raw);
      return Number.isNaN(when) ? 0 : Math.max(0, when - serverNow());
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

  // loginCountdown drives the "not logged in" state of a page: it writes
  // "Going to the login page in 3…", then "3…2…", then "3…2…1" into
  // countdown, restarts the progress bar's animation on bar (the element
  // carrying the is-counting class), then goes to /login. start() returns
  // nothing; stop() cancels a countdown in progress.
  function loginCountdown(countdown, bar, seconds = 3) {
    let timer = 0;
    function stop() {
      clearInterval(timer);
      timer = 0;
    }
    function start() {
      stop();
      const ticks = [];
      let left = seconds;
      const render = () => {
        ticks.push(String(left));
        countdown.textContent = `Going to the login page in ${ticks.join("…")}…`;
      };
      render();
      // Restart the bar's animation from the beginning.
      void bar.offsetWidth;
      bar.classList.add("is-counting");
      timer = setInterval(() => {
        left -= 1;
        if (left <= 0) {
          stop();
          countdown.textContent = "Going to the login page now…";
          location.assign("/login");
          return;
        }
        render();
      }, 1000);
    }
    return Object.freeze({ start, stop });
  }

  window.JwtgateSession = Object.freeze({
    create, SessionEnded, readJSON, validUser, busyText, icon, notice, loginCountdown,
  });
})();
