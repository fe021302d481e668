// jwtgate home page.
//
// Asks GET /user who is logged in, through the shared session (session.js,
// loaded first). The session lives in two HttpOnly cookies the browser sends
// by itself; this script never sees a token.
//   200 -> "Logged in as NAME", roles, the sessions list, the password form.
//   401 -> one POST /token/refresh; if that works, ask again; otherwise
//          "Not logged in", a short countdown, then the login page.
//   anything else -> an error with a retry button (no redirect loop).
//
// While logged in, the session refreshes the access token shortly before it
// expires, and again when the tab comes back after a while. A refresh that
// answers 401 means the session was ended elsewhere (logout, "Sign out" from
// another device, a password change, an administrator): the page says so and
// goes to the login page.
"use strict";

(() => {
  const { SessionEnded, readJSON, busyText, icon, notice, loginCountdown } = window.JwtgateSession;

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
  // The header's link to the admin page, in a nav shown only for admins.
  const adminLink = document.getElementById("admin-link");
  const siteNav = adminLink.closest("nav");
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

  const MIN_PASSWORD = 8;
  const MAX_PASSWORD_BYTES = 1024;

  let checking = false;
  let sessions = [];
  let sessionsLoading = null;
  let ticker = 0; // re-renders "last active 3 min ago"
  let changingPassword = false;

  // The session: refreshes while the page shows it, and says when it ends.
  const session = window.JwtgateSession.create({
    onUser: showUser,
    onEnded: sessionEnded,
    // The tab shows again: the sessions list may have changed meanwhile.
    onResume: () => {
      loadSessions().catch(() => {});
    },
  });
  const { api } = session;

  // ---- The page's states ---------------------------------------------------

  function setState(state) {
    card.dataset.state = state;
    card.setAttribute("aria-busy", state === "loading" ? "true" : "false");
    card.classList.remove("is-counting", "is-cancelled");
    const inside = state === "in";
    account.hidden = !inside;
    layout.classList.toggle("is-in", inside);
    if (!inside) {
      session.stop();
      siteNav.hidden = true;
      clearInterval(ticker);
      ticker = 0;
    }
  }

  const countdownToLogin = loginCountdown(countdown, card);

  function stopCountdown() {
    countdownToLogin.stop();
  }

  // The session is not (or no longer) there: say so, count down, go to /login.
  function loggedOut(title = "Not logged in", ended = false) {
    setState("out");
    status.textContent = title;
    endedReason.hidden = !ended;
    document.title = `${title} · jwtgate`;
    countdownToLogin.start();
  }


  // The session ended while this page showed it (the session calls this
  // only while it is active and not logging out).
  function sessionEnded() {
    loggedOut("Your session has ended", true);
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
    // The administration page, for administrators (it checks for itself).
    siteNav.hidden = !list.includes("admin");

    const hasID = typeof user.id === "number" || typeof user.id === "string";
    userID.textContent = hasID ? String(user.id) : "";
    userID.parentElement.hidden = !hasID;
  }

  function loggedIn(user) {
    setState("in");
    session.start(user);
    showUser(user);
    clearInterval(ticker);
    ticker = setInterval(updateTimes, 30000);
  }

  function failed(text) {
    setState("error");
    status.textContent = "Could not check your session";
    document.title = "Error · jwtgate";
    errorMessage.textContent = text;
  }

  async function check() {
    if (checking) {
      return;
    }
    checking = true;
    stopCountdown();
    setState("loading");
    status.textContent = "Checking your session…";
    try {
      const who = await session.whoami();
      if (who.state === "out") {
        loggedOut();
        return;
      }
      if (who.state === "error") {
        failed(who.text);
        return;
      }
      // Show the whole logged-in page at once, sessions included, so that
      // nothing moves after it appears.
      session.begin();
      try {
        await loadSessions();
      } catch (err) {
        if (err instanceof SessionEnded) {
          return;
        }
      }
      if (!session.active) {
        return;
      }
      loggedIn(who.user);
    } finally {
      checking = false;
    }
  }

  stay.addEventListener("click", () => {
    stopCountdown();
    card.classList.remove("is-counting");
    card.classList.add("is-cancelled");
    countdown.textContent = "You are not logged in. Log in to see your account.";
    document.getElementById("login-now").focus();
  });

  retry.addEventListener("click", () => {
    check();
  });

  logout.addEventListener("click", async () => {
    session.leave();
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
    session.stay();
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
    const seconds = Math.max(0, Math.round((session.serverNow() - when) / 1000));
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
      session.noteClock(res);
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
        if (session.active) {
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
      const seconds = Math.ceil(session.retryAfterMs(res) / 1000);
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
