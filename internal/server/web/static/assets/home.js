// jwtgate home page.
//
// Asks GET /user who is logged in. The session lives in two HttpOnly cookies
// the browser sends by itself (a short-lived access token, and a refresh
// token sent only to /token/refresh); this script never sees a token.
//   200 -> "Logged in as NAME", roles, the sessions list, the password form.
//   401 -> one POST /token/refresh; if that works, ask again; otherwise
//          "Not logged in", a short countdown, then the login page.
//   anything else -> an error with a retry button (no redirect loop).
//
// While logged in, the page refreshes the access token shortly before it
// expires (the server says when in /user's "exp"), and again when the tab
// comes back after a while. A refresh that answers 401 means the session was
// ended elsewhere (logout, "Sign out" from another device, a password
// change, an administrator): the page says so and goes to the login page.
"use strict";

(() => {
  const layout = document.getElementById("layout");
  const card = document.getElementById("home");
  const status = document.getElementById("status");
  const avatar = document.getElementById("avatar");
  const countdown = document.getElementById("countdown");
  const endedReason = document.getElementById("ended-reason");
  const stay = document.getElementById("stay");
  const rolesRow = document.getElementById("roles-row");
  const roles = document.getElementById("roles");
  const userID = document.getElementById("user-id");
  const logout = document.getElementById("logout");
  const logoutLabel = logout.querySelector(".button-label");
  const logoutError = document.getElementById("logout-error");
  const errorMessage = document.getElementById("error-message");
  const retry = document.getElementById("retry");

  const account = document.getElementById("account");
  const sessionsCard = document.getElementById("sessions-card");
  const sessionsTitle = document.getElementById("sessions-title");
  const sessionsList = document.getElementById("sessions");
  const sessionsStatus = document.getElementById("sessions-status");
  const sessionsError = document.getElementById("sessions-error");
  const sessionsReload = document.getElementById("sessions-reload");

  const passwordForm = document.getElementById("password-form");
  const passwordUsername = document.getElementById("password-username");
  const currentPassword = document.getElementById("current-password");
  const newPassword = document.getElementById("new-password");
  const confirmPassword = document.getElementById("confirm-password");
  const passwordSubmit = document.getElementById("password-submit");
  const passwordSubmitLabel = passwordSubmit.querySelector(".button-label");
  const passwordError = document.getElementById("password-error");
  const passwordDone = document.getElementById("password-done");

  const SVG = "http://www.w3.org/2000/svg";
  const REDIRECT_SECONDS = 3;
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
  const MIN_PASSWORD = 8;
  const MAX_PASSWORD_BYTES = 1024;

  let timer = 0; // the countdown to the login page
  let checking = false;
  let loggedInNow = false; // the page shows a logged-in user
  let leaving = false; // logging out or going to the login page
  let expiresAt = 0; // when the access token expires, on this browser's clock (ms)
  let refreshTimer = 0;
  let refreshing = null; // the refresh in flight, shared by its callers
  let retryDelay = RETRY_MS;
  let sessions = [];
  let sessionsLoading = null;
  let ticker = 0; // re-renders "last active 3 min ago"
  let changingPassword = false;

  // The session ended while the page was using it.
  class SessionEnded extends Error {}

  // ---- Requests ------------------------------------------------------------

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

  // api is request for the protected routes while logged in: a 401 means the
  // access token expired (or the cookie went), so it refreshes once and
  // retries once. It throws SessionEnded when the refresh says the session
  // is over, after showing so.
  async function api(path, options = {}) {
    const res = await request(path, options);
    if (res.status !== 401 || !loggedInNow) {
      return res;
    }
    const outcome = await refresh();
    if (outcome === "ok") {
      return request(path, options);
    }
    if (outcome === "ended") {
      sessionEnded();
      throw new SessionEnded();
    }
    // The server is busy or out of reach: let the caller report its 401.
    return res;
  }

  async function readJSON(res) {
    try {
      return await res.json();
    } catch {
      return null;
    }
  }

  // The server's clock, to read "exp" and the sessions' times. The Date
  // header has whole seconds, so the server may be up to a second past it;
  // take the later end, to refresh early rather than late.
  let skew = 0; // server clock minus this browser's clock (ms)
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

  // ---- Silent refresh ------------------------------------------------------

  // refresh trades the refresh cookie for new cookies, then reads /user
  // again for the new expiry and schedules the next refresh. Callers at the
  // same time share one request. It resolves to
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
      // 401: the session was revoked or expired; 400: the refresh cookie is
      // gone (a logout in another tab clears it).
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
    if (loggedInNow) {
      showUser(user);
    }
    noteExpiry(user);
    return "ok";
  }

  function retryLater(afterMs) {
    if (loggedInNow && !leaving) {
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
    if (!loggedInNow || leaving) {
      return;
    }
    const remaining = expiresAt - Date.now();
    const delay = Math.max(MIN_DELAY_MS, remaining - leadFor(remaining));
    refreshTimer = setTimeout(onRefreshTimer, delay);
  }

  async function onRefreshTimer() {
    refreshTimer = 0;
    if (!loggedInNow || leaving) {
      return;
    }
    if ((await refresh()) === "ended") {
      sessionEnded();
    }
  }

  // Timers in a hidden tab run late or not at all: when the tab shows again,
  // refresh now if the token has expired or is about to, and reload the
  // sessions list, which may have changed meanwhile.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || !loggedInNow || leaving) {
      return;
    }
    const remaining = expiresAt - Date.now();
    if (remaining <= leadFor(remaining) + MIN_DELAY_MS) {
      onRefreshTimer().then(() => {
        if (loggedInNow) {
          loadSessions().catch(() => {});
        }
      });
    } else {
      schedule();
      loadSessions().catch(() => {});
    }
  });

  // ---- The page's states ---------------------------------------------------

  function setState(state) {
    card.dataset.state = state;
    card.setAttribute("aria-busy", state === "loading" ? "true" : "false");
    card.classList.remove("is-counting", "is-cancelled");
    const inside = state === "in";
    account.hidden = !inside;
    layout.classList.toggle("is-in", inside);
    if (!inside) {
      loggedInNow = false;
      clearTimeout(refreshTimer);
      refreshTimer = 0;
      clearInterval(ticker);
      ticker = 0;
    }
  }

  function stopCountdown() {
    clearInterval(timer);
    timer = 0;
  }

  // "Going to the login page in 3…", then "3…2…", then "3…2…1", then go.
  function loggedOut(title = "Not logged in", ended = false) {
    stopCountdown();
    setState("out");
    status.textContent = title;
    endedReason.hidden = !ended;
    document.title = `${title} · jwtgate`;
    const ticks = [];
    let left = REDIRECT_SECONDS;
    const render = () => {
      ticks.push(String(left));
      countdown.textContent = `Going to the login page in ${ticks.join("…")}…`;
    };
    render();
    // Restart the bar's animation from the beginning.
    void card.offsetWidth;
    card.classList.add("is-counting");
    timer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        stopCountdown();
        countdown.textContent = "Going to the login page now…";
        leaving = true;
        location.assign("/login");
        return;
      }
      render();
    }, 1000);
  }

  // The session ended while this page showed it.
  function sessionEnded() {
    if (!loggedInNow || leaving) {
      return;
    }
    loggedOut("Your session has ended", true);
  }

  function validUser(user) {
    return !!user && typeof user.name === "string" && user.name !== "";
  }

  function showUser(user) {
    const name = document.createElement("span");
    name.id = "user-name";
    name.className = "user-name";
    name.textContent = user.name;
    status.replaceChildren("Logged in as ", name);
    document.title = `${user.name} · jwtgate`;

    avatar.textContent = Array.from(user.name.trim())[0] || "?";
    // The default value, so that resetting the form keeps it.
    passwordUsername.defaultValue = user.name;

    const list = Array.isArray(user.roles) ? user.roles.filter((r) => typeof r === "string" && r) : [];
    const same =
      roles.children.length === list.length && list.every((role, i) => roles.children[i].textContent === role);
    if (!same) {
      roles.replaceChildren(
        ...list.map((role) => {
          const li = document.createElement("li");
          li.textContent = role;
          return li;
        }),
      );
    }
    rolesRow.hidden = list.length === 0;

    const hasID = typeof user.id === "number" || typeof user.id === "string";
    userID.textContent = hasID ? String(user.id) : "";
    userID.parentElement.hidden = !hasID;
  }

  function loggedIn(user) {
    setState("in");
    loggedInNow = true;
    leaving = false;
    retryDelay = RETRY_MS;
    showUser(user);
    noteExpiry(user);
    clearInterval(ticker);
    ticker = setInterval(updateTimes, 30000);
  }

  function failed(text) {
    setState("error");
    status.textContent = "Could not check your session";
    document.title = "Error · jwtgate";
    errorMessage.textContent = text;
  }

  function busyText(res) {
    return res.status === 503 || res.status === 429
      ? "The server is busy right now. Please try again in a moment."
      : `The server answered with an error (HTTP ${res.status}). Please try again.`;
  }

  async function check() {
    if (checking) {
      return;
    }
    checking = true;
    stopCountdown();
    setState("loading");
    leaving = false;
    status.textContent = "Checking your session…";
    try {
      let res;
      try {
        res = await request("/user");
        if (res.status === 401) {
          // The access token has expired (its cookie with it); the refresh
          // token may still be good.
          const outcome = await refresh();
          if (outcome === "ended") {
            loggedOut();
            return;
          }
          if (outcome === "failed") {
            failed("The server could not renew your session. Please try again in a moment.");
            return;
          }
          res = await request("/user");
        }
      } catch {
        failed("The server could not be reached. Check your connection and try again.");
        return;
      }
      if (res.status === 401) {
        loggedOut();
        return;
      }
      if (!res.ok) {
        failed(busyText(res));
        return;
      }
      noteClock(res);
      const user = await readJSON(res);
      if (!validUser(user)) {
        failed("The server sent an answer this page does not understand.");
        return;
      }
      // Show the whole logged-in page at once, sessions included, so that
      // nothing moves after it appears.
      loggedInNow = true;
      try {
        await loadSessions();
      } catch (err) {
        if (err instanceof SessionEnded) {
          return;
        }
      }
      if (!loggedInNow) {
        return;
      }
      loggedIn(user);
    } finally {
      checking = false;
    }
  }

  stay.addEventListener("click", () => {
    stopCountdown();
    leaving = false;
    card.classList.remove("is-counting");
    card.classList.add("is-cancelled");
    countdown.textContent = "You are not logged in. Log in to see your account.";
    document.getElementById("login-now").focus();
  });

  retry.addEventListener("click", () => {
    check();
  });

  logout.addEventListener("click", async () => {
    leaving = true;
    clearTimeout(refreshTimer);
    refreshTimer = 0;
    logout.disabled = true;
    logout.classList.add("is-busy");
    logoutLabel.textContent = "Logging out…";
    logoutError.replaceChildren();
    let done = false;
    try {
      // If the access token has expired, api renews it and logs out for
      // real, so that the session ends on the server too.
      const res = await api("/logout", { method: "POST" });
      done = res.ok;
    } catch (err) {
      // SessionEnded: the session was over anyway.
      done = err instanceof SessionEnded;
    }
    if (done) {
      location.assign("/login");
      return;
    }
    leaving = false;
    schedule();
    logout.disabled = false;
    logout.classList.remove("is-busy");
    logoutLabel.textContent = "Log out";
    logoutError.textContent = "Could not log out. Please try again.";
  });

  // Coming back through the back/forward cache: ask again, the session may
  // have changed meanwhile.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      check();
    }
  });

  // ---- Notices -------------------------------------------------------------

  function icon(name, className) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", className);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const use = document.createElementNS(SVG, "use");
    use.setAttribute("href", `/assets/icons.svg#${name}`);
    svg.append(use);
    return svg;
  }

  // Messages go in with textContent only: a server message is data, not markup.
  function notice(box, iconName, text, action) {
    const span = document.createElement("span");
    span.textContent = text;
    const parts = [icon(iconName, "icon notice-icon"), span];
    if (action) {
      parts.push(action);
    }
    box.replaceChildren(...parts);
  }

  // ---- Sessions ------------------------------------------------------------

  // A short name for a user agent: "Chrome on Linux", "Safari on iPhone".
  function deviceName(ua) {
    if (!ua) {
      return "Unknown device";
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
    if (/\b(Mobi|iPhone|iPod|Android)\b/.test(ua)) {
      return "phone";
    }
    if (!ua || !/^Mozilla\//.test(ua)) {
      return "terminal";
    }
    return "monitor";
  }

  function plural(n, unit) {
    return `${n} ${unit}${n === 1 ? "" : "s"}`;
  }

  // "just now", "3 min ago", "2 hours ago", "5 days ago", or a date.
  function ago(iso) {
    const when = Date.parse(iso);
    if (Number.isNaN(when)) {
      return "";
    }
    const seconds = Math.max(0, Math.round((serverNow() - when) / 1000));
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
    last.textContent = `last active ${ago(s.last_used_at)}`;
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
      el.textContent = `last active ${ago(el.dateTime)}`;
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

  // loadSessions reads GET /user/sessions and shows it: this device first,
  // then the most recently used. Callers at the same time share one request.
  function loadSessions() {
    if (!sessionsLoading) {
      sessionsLoading = fetchSessions().finally(() => {
        sessionsLoading = null;
      });
    }
    return sessionsLoading;
  }

  async function fetchSessions() {
    sessionsCard.setAttribute("aria-busy", "true");
    sessionsReload.disabled = true;
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
      noteClock(res);
      sessions = body.sessions
        .filter((s) => s && typeof s.id === "string")
        .sort((a, b) => Number(!!b.current) - Number(!!a.current) || Date.parse(b.last_used_at) - Date.parse(a.last_used_at));
      sessionsError.replaceChildren();
      renderSessions();
    } finally {
      sessionsCard.setAttribute("aria-busy", "false");
      sessionsReload.disabled = false;
    }
  }

  function sessionsFailed(text) {
    const again = document.createElement("button");
    again.type = "button";
    again.className = "notice-action link-button";
    again.textContent = "Try again";
    again.addEventListener("click", () => {
      loadSessions().catch(() => {});
    });
    notice(sessionsError, "alert", text, again);
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
      (target || sessionsTitle).focus();
      loadSessions().catch(() => {});
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

  sessionsReload.addEventListener("click", () => {
    sessionsStatus.textContent = "";
    loadSessions()
      .then(() => {
        if (loggedInNow) {
          sessionsStatus.textContent = `${plural(sessions.length, "active session")}.`;
        }
      })
      .catch(() => {});
  });

  // ---- Change password -----------------------------------------------------

  const passwordInputs = [currentPassword, newPassword, confirmPassword];

  function passwordFailed(text, input) {
    passwordDone.replaceChildren();
    notice(passwordError, "alert", text);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  function setPasswordBusy(on) {
    changingPassword = on;
    passwordSubmit.disabled = on;
    passwordSubmit.classList.toggle("is-busy", on);
    passwordForm.setAttribute("aria-busy", on ? "true" : "false");
    for (const input of passwordInputs) {
      input.readOnly = on;
    }
    passwordSubmitLabel.textContent = on ? "Changing password…" : "Change password";
  }

  // validPassword checks what the browser can check, with the server's
  // rules: 8 characters at least, 1024 bytes at most, the same twice.
  function validPassword() {
    if (currentPassword.value === "") {
      passwordFailed("Enter your current password.", currentPassword);
      return false;
    }
    const next = newPassword.value;
    if (Array.from(next).length < MIN_PASSWORD) {
      passwordFailed(`The new password is too short: use at least ${MIN_PASSWORD} characters.`, newPassword);
      return false;
    }
    if (new TextEncoder().encode(next).length > MAX_PASSWORD_BYTES) {
      passwordFailed("The new password is too long.", newPassword);
      return false;
    }
    if (confirmPassword.value !== next) {
      passwordFailed("The two new passwords do not match.", confirmPassword);
      return false;
    }
    return true;
  }

  async function changePassword() {
    passwordError.replaceChildren();
    passwordDone.replaceChildren();
    for (const input of passwordInputs) {
      input.removeAttribute("aria-invalid");
    }
    if (!validPassword()) {
      return;
    }
    setPasswordBusy(true);
    let res;
    try {
      res = await api("/user/password", {
        method: "POST",
        json: { current_password: currentPassword.value, new_password: newPassword.value },
      });
    } catch (err) {
      setPasswordBusy(false);
      if (!(err instanceof SessionEnded)) {
        passwordFailed("Could not reach the server. Your password was not changed.");
      }
      return;
    }
    setPasswordBusy(false);
    if (res.ok) {
      passwordForm.reset();
      notice(passwordDone, "check", "Your password was changed. Your other sessions were signed out.");
      // The server ended the other sessions: show so at once, then check.
      sessions = sessions.filter((s) => s.current);
      renderSessions();
      loadSessions().catch(() => {});
      return;
    }
    const body = await readJSON(res);
    const code = body && typeof body.error === "string" ? body.error : "";
    const message = body && typeof body.message === "string" ? body.message : "";
    if (res.status === 400 && code === "invalid_credentials") {
      currentPassword.value = "";
      passwordFailed("Your current password is not right.", currentPassword);
    } else if (res.status === 400 && code === "invalid_request") {
      passwordFailed(message ? `The new password was refused: ${message}.` : "The new password was refused.", newPassword);
    } else if (res.status === 413) {
      passwordFailed("That is too long. Please use a shorter password.", newPassword);
    } else if (res.status === 429) {
      const seconds = Math.ceil(retryAfterMs(res) / 1000);
      passwordFailed(
        seconds > 0 ? `Too many attempts, try again in ${seconds} seconds.` : "Too many attempts, try again in a moment.",
      );
    } else if (res.status === 401) {
      passwordFailed("Your session could not be renewed. Please try again in a moment.");
    } else {
      passwordFailed(`${busyText(res)} Your password was not changed.`);
    }
  }

  passwordForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!changingPassword) {
      changePassword();
    }
  });

  for (const input of passwordInputs) {
    input.addEventListener("input", () => {
      input.removeAttribute("aria-invalid");
    });
  }

  check();
})();
