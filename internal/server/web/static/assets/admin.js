// jwtgate administration page.
//
// Asks GET /user who is logged in, through the shared session (session.js,
// loaded first), exactly as the home page does: not logged in -> a short
// countdown, then the login page; the session is refreshed while the page
// shows it. A user without the admin role is told so, and the page makes no
// call to the admin API. For an administrator it shows, all at once:
//   Users         GET /admin/users (search, pages), POST /admin/users, and
//                 per user: roles (PUT .../roles), disable/enable, reset
//                 password, sign out everywhere (DELETE .../sessions), delete;
//   Signing keys  GET /admin/keys, POST /admin/keys/rotate;
//   Audit log     GET /admin/audit (by type, older pages with before=).
// The admin API enforces the role itself; this page only follows it.
//
// Everything the server sends goes into the page with textContent (or as a
// property value), never as markup.
"use strict";

(() => {
  const { SessionEnded, readJSON, busyText, icon, notice, loginCountdown } = window.JwtgateSession;

  const $ = (id) => document.getElementById(id);

  const main = $("main");
  const gate = $("gate");
  const status = $("status");
  const countdown = $("countdown");
  const endedReason = $("ended-reason");
  const stay = $("stay");
  const forbiddenMessage = $("forbidden-message");
  const errorMessage = $("error-message");
  const retry = $("retry");
  const signedIn = $("signed-in");
  const signedInName = $("signed-in-name");
  const admin = $("admin");

  const usersCard = $("users-card");
  const usersTitle = $("users-title");
  const usersBody = $("users");
  const usersCount = $("users-count");
  const usersDone = $("users-done");
  const usersError = $("users-error");
  const usersReload = $("users-reload");
  const usersPager = $("users-pager");
  const usersPrev = $("users-prev");
  const usersNext = $("users-next");
  const usersPage = $("users-page");
  const search = $("user-search");

  const createForm = $("create-form");
  const createName = $("create-name");
  const createPassword = $("create-password");
  const createRoles = $("create-roles");
  const createSubmit = $("create-submit");
  const createError = $("create-error");

  const keysCard = $("keys-card");
  const keysBody = $("keys");
  const keysDone = $("keys-done");
  const keysError = $("keys-error");
  const keysReload = $("keys-reload");
  const rotate = $("rotate");

  const auditCard = $("audit-card");
  const auditTitle = $("audit-title");
  const auditBody = $("audit");
  const auditCount = $("audit-count");
  const auditError = $("audit-error");
  const auditReload = $("audit-reload");
  const auditType = $("audit-type");
  const auditMore = $("audit-more");

  const rolesDialog = $("roles-dialog");
  const rolesForm = $("roles-form");
  const rolesInput = $("roles-input");
  const rolesSubmit = $("roles-submit");
  const rolesError = $("roles-error");

  const passwordDialog = $("password-dialog");
  const resetForm = $("reset-form");
  const resetUsername = $("reset-username");
  const resetPassword = $("reset-password");
  const resetConfirm = $("reset-confirm");
  const resetSubmit = $("reset-submit");
  const resetError = $("reset-error");

  const deleteDialog = $("delete-dialog");
  const deleteForm = $("delete-form");
  const deleteConfirm = $("delete-confirm");
  const deleteSubmit = $("delete-submit");
  const deleteError = $("delete-error");

  const PAGE_SIZE = 10;
  const SEARCH_DELAY_MS = 250;
  const AUDIT_PAGE = 50;
  const MIN_PASSWORD = 8;
  const MAX_PASSWORD_BYTES = 1024;
  const MAX_ROLES = 16;
  const ROLE = /^[a-z0-9_-]{1,32}$/;
  // Audit events worth a second look.
  const WARNING_EVENTS = new Set(["login.failed", "login.throttled", "refresh.reused", "security.warning"]);

  let me = null; // the logged-in user, from GET /user
  let checking = false;

  let users = [];
  let usersTotal = 0;
  let usersQuery = { q: "", offset: 0 };
  let usersSeq = 0; // the latest list request; older answers are dropped
  let searchTimer = 0;
  let highlight = ""; // the name of a user just created, to mark its row
  const names = new Map(); // user id -> name, for the audit log's actors

  let auditEvents = [];
  let auditSeq = 0;
  let auditPages = 0; // pages of the log shown (1 = only the newest)

  // The dialog that is open, for whom, and what gets the focus back.
  let dialogUser = null;
  let dialogReturn = null; // {name, action}
  let dialogBusy = false;

  // An admin API call answered 403: the token has lost the admin role.
  class Forbidden extends Error {}

  const session = window.JwtgateSession.create({
    onUser(user) {
      me = user;
      showMe(user);
      if (!isAdmin(user)) {
        forbidden(user);
      }
    },
    onEnded() {
      loggedOut("Your session has ended", true);
    },
    // The tab shows again: keys change state with time, users may have
    // changed meanwhile.
    onResume() {
      loadKeys().catch(() => {});
      loadUsers().catch(() => {});
    },
  });

  // call is the session's api for the admin routes: a 403 forbidden means
  // this session is no longer an administrator's.
  async function call(path, options) {
    const res = await session.api(path, options);
    if (res.status === 403) {
      const body = await readJSON(res.clone());
      if (body && body.error === "forbidden") {
        forbidden(me);
        throw new Forbidden();
      }
    }
    return res;
  }

  // quiet reports whether err only means the page has moved on (the
  // session ended, or the role went): nothing more to say about it.
  function quiet(err) {
    return err instanceof SessionEnded || err instanceof Forbidden;
  }

  function isAdmin(user) {
    return !!user && Array.isArray(user.roles) && user.roles.includes("admin");
  }

  // ---- Small helpers -------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function plural(n, unit) {
    return `${n} ${unit}${n === 1 ? "" : "s"}`;
  }

  // A server message as a sentence: "you cannot …" -> "You cannot ….".
  function sentence(text) {
    const s = (text || "").trim();
    if (!s) {
      return "";
    }
    const first = s[0].toUpperCase() + s.slice(1);
    return /[.!?]$/.test(first) ? first : `${first}.`;
  }

  function parseDate(iso) {
    const when = Date.parse(iso || "");
    return Number.isNaN(when) ? null : new Date(when);
  }

  function timeElement(iso, options) {
    const when = parseDate(iso);
    const t = document.createElement("time");
    if (!when) {
      t.textContent = "—";
      return t;
    }
    t.dateTime = iso;
    t.title = when.toLocaleString(undefined, { dateStyle: "full", timeStyle: "long" });
    t.textContent = when.toLocaleString(undefined, options);
    return t;
  }

  const DAY = { year: "numeric", month: "short", day: "numeric" };
  const MINUTE = { dateStyle: "medium", timeStyle: "short" };
  const SECOND = { month: "short", day: "numeric", hour: "numeric", minute: "2-digit", second: "2-digit" };

  // "10 minutes", "2 hours", "3 days".
  function duration(ms) {
    const minutes = Math.max(1, Math.round(ms / 60000));
    if (minutes < 120) {
      return plural(minutes, "minute");
    }
    const hours = Math.round(minutes / 60);
    return hours < 48 ? plural(hours, "hour") : plural(Math.round(hours / 24), "day");
  }

  // parseRoles splits "ops, admin" into ["ops", "admin"], without repeats.
  function parseRoles(text) {
    return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
  }

  // rolesProblem checks roles as the server does, or returns "".
  function rolesProblem(roles) {
    const bad = roles.find((r) => !ROLE.test(r));
    if (bad !== undefined) {
      return `The role “${bad}” is not valid: use 1 to 32 lowercase letters, digits, - and _.`;
    }
    if (roles.length > MAX_ROLES) {
      return `That is more than ${MAX_ROLES} roles.`;
    }
    return "";
  }

  // passwordProblem checks a new password as the server does, or returns "".
  function passwordProblem(pw) {
    if (Array.from(pw).length < MIN_PASSWORD) {
      return `The password is too short: use at least ${MIN_PASSWORD} characters.`;
    }
    if (new TextEncoder().encode(pw).length > MAX_PASSWORD_BYTES) {
      return "The password is too long.";
    }
    return "";
  }

  // problem turns an error answer of the admin API into a sentence.
  async function problem(res, what) {
    const body = await readJSON(res);
    const code = body && typeof body.error === "string" ? body.error : "";
    const message = body && typeof body.message === "string" ? body.message : "";
    if (res.status === 409 && code === "self") {
      return `${sentence(message) || "You cannot do that to your own account."} Another administrator has to.`;
    }
    if (res.status === 404) {
      return `${what}: there is no such user any more.`;
    }
    if (res.status === 400 && message) {
      return `${what}: ${sentence(message)}`;
    }
    if (res.status === 413) {
      return `${what}: that is too long.`;
    }
    if (res.status === 401) {
      return "Your session could not be renewed. Please try again in a moment.";
    }
    return `${what}: ${busyText(res)}`;
  }

  // setBusy turns a button's spinner on or off. A busy button is disabled,
  // which drops the focus; when it had the focus and nothing else took it
  // meanwhile, it gets it back.
  function setBusy(button, on, label) {
    if (on) {
      button.dataset.hadFocus = document.activeElement === button ? "1" : "";
    }
    button.disabled = on;
    button.classList.toggle("is-busy", on);
    if (label !== undefined) {
      button.querySelector(".button-label").textContent = label;
    }
    if (!on && button.dataset.hadFocus) {
      button.dataset.hadFocus = "";
      const active = document.activeElement;
      if (button.isConnected && !button.hidden && (!active || active === document.body)) {
        button.focus();
      }
    }
  }

  // ---- The page's states ---------------------------------------------------

  function setState(state) {
    gate.dataset.state = state;
    gate.setAttribute("aria-busy", state === "loading" ? "true" : "false");
    gate.classList.remove("is-counting", "is-cancelled");
    const inside = state === "in";
    gate.hidden = inside;
    admin.hidden = !inside;
    main.classList.toggle("is-wide", inside);
    signedIn.hidden = !(inside || state === "forbidden");
    if (!inside) {
      session.stop();
      closeDialogs();
    }
  }

  function showMe(user) {
    signedInName.textContent = user.name;
    signedIn.title = `Logged in as ${user.name}`;
  }

  const countdownToLogin = loginCountdown(countdown, gate);

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


  // A logged-in user without the admin role.
  function forbidden(user) {
    stopCountdown();
    setState("forbidden");
    status.textContent = "You need the admin role";
    document.title = "Admin role needed · jwtgate";
    const who = user && user.name ? `You are logged in as ${user.name}, but this` : "This";
    forbiddenMessage.textContent = `${who} page is for administrators. Ask one to give your account the admin role.`;
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
      me = who.user;
      showMe(me);
      if (!isAdmin(me)) {
        // No admin call at all: the answer would be 403.
        forbidden(me);
        return;
      }
      // Show the whole page at once, lists included, so that nothing moves
      // after it appears.
      session.begin();
      try {
        await Promise.all([loadUsers(), loadKeys(), loadAudit()]);
      } catch (err) {
        if (quiet(err)) {
          return;
        }
      }
      if (!session.active) {
        return;
      }
      setState("in");
      session.start(me);
      document.title = "Administration · jwtgate";
    } finally {
      checking = false;
    }
  }

  stay.addEventListener("click", () => {
    stopCountdown();
    gate.classList.remove("is-counting");
    gate.classList.add("is-cancelled");
    countdown.textContent = "You are not logged in. Log in as an administrator to use this page.";
    $("login-now").focus();
  });

  retry.addEventListener("click", () => {
    check();
  });

  // Coming back through the back/forward cache: ask again.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      check();
    }
  });

  // ---- Users ---------------------------------------------------------------

  function button(action, iconName, label, hidden, className) {
    const b = el("button", `button button-small ${className}`);
    b.type = "button";
    b.dataset.action = action;
    const text = el("span", "button-label", label);
    b.append(icon("spinner", "icon spinner"), icon(iconName, "icon idle-icon"), text);
    if (hidden) {
      b.append(el("span", "visually-hidden", hidden));
    }
    return b;
  }

  function cell(label, className) {
    const td = el("td", className);
    td.setAttribute("role", "cell");
    if (label) {
      td.dataset.label = label;
    }
    return td;
  }

  function userRow(u) {
    const tr = el("tr", u.disabled ? "is-disabled" : "");
    tr.setAttribute("role", "row");
    tr.dataset.name = u.name;
    if (u.name === highlight) {
      tr.classList.add("is-new");
    }
    const self = !!me && u.name.toLowerCase() === me.name.toLowerCase();

    // The name, "You" on the administrator's own row, and since when.
    const nameCell = el("th", "cell-name");
    nameCell.scope = "row";
    nameCell.setAttribute("role", "rowheader");
    const initial = el("span", "avatar-small", Array.from(u.name.trim())[0] || "?");
    initial.setAttribute("aria-hidden", "true");
    const lines = el("span", "user-lines");
    const first = el("span", "user-line");
    first.append(el("span", "user-cell-name", u.name));
    if (self) {
      first.append(" ", el("span", "badge", "You"));
    }
    const since = el("span", "user-since", "Created ");
    since.append(timeElement(u.created_at, DAY));
    lines.append(first, since);
    const who = el("div", "user-id");
    who.append(initial, lines);
    nameCell.append(who);

    const rolesCell = cell("Roles", "cell-roles");
    const roles = Array.isArray(u.roles) ? u.roles.filter((r) => typeof r === "string") : [];
    const rolesWrap = el("div", "cell-inline");
    if (roles.length > 0) {
      const list = el("ul", "chips chips-start");
      list.setAttribute("aria-label", "Roles");
      for (const role of roles) {
        list.append(el("li", role === "admin" ? "chip-admin" : "", role));
      }
      rolesWrap.append(list);
    } else {
      rolesWrap.append(el("span", "muted", "none"));
    }
    rolesWrap.append(button("roles", "pencil", "Edit", ` the roles of ${u.name}`, "button-quiet button-compact"));
    rolesCell.append(rolesWrap);

    const statusCell = cell("Status", "cell-status");
    const statusWrap = el("div", "cell-inline");
    statusWrap.append(
      el("span", u.disabled ? "status-pill is-off" : "status-pill is-on", u.disabled ? "Disabled" : "Active"),
      u.disabled
        ? button("toggle", "check", "Enable", ` ${u.name}`, "button-secondary")
        : button("toggle", "ban", "Disable", ` ${u.name}`, "button-secondary"),
    );
    statusCell.append(statusWrap);

    const actions = cell("", "cell-actions");
    const actionsWrap = el("div", "row-actions");
    actionsWrap.append(
      button("password", "key", "Reset password", ` of ${u.name}`, "button-secondary"),
      button("signout", "log-out", "Sign out everywhere", ` (${u.name})`, "button-secondary"),
      button("delete", "trash", "Delete", ` ${u.name}`, "button-danger"),
    );
    actions.append(actionsWrap);

    tr.append(nameCell, rolesCell, statusCell, actions);
    return tr;
  }

  function rowButton(name, action) {
    return usersBody.querySelector(`tr[data-name="${CSS.escape(name)}"] button[data-action="${CSS.escape(action)}"]`);
  }

  function renderUsers() {
    // Keep the focused button in place across the re-render.
    let focused = null;
    const active = document.activeElement;
    if (active && usersBody.contains(active) && active.dataset.action) {
      focused = { name: active.closest("tr").dataset.name, action: active.dataset.action };
    }
    if (users.length === 0) {
      const tr = el("tr", "empty-row");
      tr.setAttribute("role", "row");
      const td = cell("", "");
      td.colSpan = 4;
      td.textContent = usersQuery.q ? `No user matches “${usersQuery.q}”.` : "No users.";
      tr.append(td);
      usersBody.replaceChildren(tr);
    } else {
      usersBody.replaceChildren(...users.map(userRow));
    }
    // Mark a new user's row once.
    highlight = "";
    if (focused) {
      const again = rowButton(focused.name, focused.action);
      (again || usersTitle).focus();
    }

    const q = usersQuery.q;
    if (usersTotal === 0) {
      usersCount.textContent = q ? `No user matches “${q}”.` : "No users.";
    } else if (q) {
      usersCount.textContent = `${plural(usersTotal, "user")} ${usersTotal === 1 ? "matches" : "match"} “${q}”.`;
    } else {
      usersCount.textContent = `${plural(usersTotal, "user")}.`;
    }

    const from = usersQuery.offset + 1;
    const to = usersQuery.offset + users.length;
    usersPager.hidden = usersTotal <= PAGE_SIZE && usersQuery.offset === 0;
    usersPage.textContent = users.length ? `${from}–${to} of ${usersTotal}` : "";
    usersPrev.disabled = usersQuery.offset === 0;
    usersNext.disabled = to >= usersTotal;
  }

  function usersFailed(text) {
    const again = el("button", "notice-action link-button", "Try again");
    again.type = "button";
    again.addEventListener("click", () => {
      loadUsers().catch(() => {});
    });
    notice(usersError, "alert", text, again);
  }

  // loadUsers reads one page of GET /admin/users for the search and shows
  // it. A newer call wins over an older one still in flight.
  async function loadUsers() {
    const seq = ++usersSeq;
    usersCard.setAttribute("aria-busy", "true");
    usersReload.disabled = true;
    try {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(usersQuery.offset) });
      if (usersQuery.q) {
        params.set("q", usersQuery.q);
      }
      let res;
      try {
        res = await call(`/admin/users?${params}`);
      } catch (err) {
        if (quiet(err)) {
          throw err;
        }
        if (seq === usersSeq) {
          usersFailed("Could not reach the server to list the users.");
        }
        return;
      }
      const body = res.ok ? await readJSON(res) : null;
      if (seq !== usersSeq) {
        return;
      }
      if (!body || !Array.isArray(body.users) || typeof body.total !== "number") {
        usersFailed(res.ok ? "The server sent a list this page does not understand." : `Could not list the users (HTTP ${res.status}).`);
        return;
      }
      // Past the last page (users were deleted meanwhile): show the last one.
      if (body.users.length === 0 && body.total > 0 && usersQuery.offset > 0) {
        usersQuery.offset = Math.floor((body.total - 1) / PAGE_SIZE) * PAGE_SIZE;
        await loadUsers();
        return;
      }
      users = body.users.filter((u) => u && typeof u.name === "string");
      usersTotal = body.total;
      for (const u of users) {
        if (typeof u.id === "number") {
          names.set(u.id, u.name);
        }
      }
      usersError.replaceChildren();
      renderUsers();
    } finally {
      if (seq === usersSeq) {
        usersCard.setAttribute("aria-busy", "false");
        usersReload.disabled = false;
      }
    }
  }

  function runSearch() {
    clearTimeout(searchTimer);
    searchTimer = 0;
    const q = search.value.trim();
    if (q === usersQuery.q) {
      return;
    }
    usersQuery = { q, offset: 0 };
    loadUsers().catch(() => {});
  }

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, SEARCH_DELAY_MS);
  });

  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      runSearch();
    }
  });

  usersReload.addEventListener("click", () => {
    loadUsers().catch(() => {});
  });

  usersPrev.addEventListener("click", () => {
    usersQuery = { ...usersQuery, offset: Math.max(0, usersQuery.offset - PAGE_SIZE) };
    loadUsers()
      .then(() => (usersPrev.disabled ? usersNext : usersPrev).focus())
      .catch(() => {});
  });

  usersNext.addEventListener("click", () => {
    usersQuery = { ...usersQuery, offset: usersQuery.offset + PAGE_SIZE };
    loadUsers()
      .then(() => (usersNext.disabled ? usersPrev : usersNext).focus())
      .catch(() => {});
  });

  // After a change: the lists that show it. When the button that made the
  // change had the focus (a busy button is disabled, which drops it), the
  // focus goes to the same button of the re-rendered row.
  function changed(name, action) {
    loadUsers()
      .then(() => {
        const active = document.activeElement;
        if (name && (!active || active === document.body || !active.isConnected)) {
          (rowButton(name, action) || usersTitle).focus();
        }
      })
      .catch(() => {});
    if (auditPages <= 1) {
      loadAudit().catch(() => {});
    }
  }

  function done(text) {
    usersError.replaceChildren();
    notice(usersDone, "check", text);
  }

  usersBody.addEventListener("click", (event) => {
    const b = event.target.closest("button[data-action]");
    if (!b || b.disabled) {
      return;
    }
    const name = b.closest("tr").dataset.name;
    const u = users.find((x) => x.name === name);
    if (!u) {
      return;
    }
    switch (b.dataset.action) {
      case "roles":
        openRoles(u);
        break;
      case "password":
        openReset(u);
        break;
      case "delete":
        openDelete(u);
        break;
      case "toggle":
        toggle(u, b);
        break;
      case "signout":
        signOutEverywhere(u, b);
        break;
    }
  });

  function userPath(name, rest = "") {
    return `/admin/users/${encodeURIComponent(name)}${rest}`;
  }

  async function toggle(u, b) {
    const verb = u.disabled ? "enable" : "disable";
    usersDone.replaceChildren();
    usersError.replaceChildren();
    setBusy(b, true, u.disabled ? "Enabling…" : "Disabling…");
    let res;
    try {
      res = await call(userPath(u.name, `/${verb}`), { method: "POST" });
    } catch (err) {
      if (!quiet(err)) {
        setBusy(b, false, u.disabled ? "Enable" : "Disable");
        notice(usersError, "alert", `Could not reach the server: ${u.name} was not changed.`);
      }
      return;
    }
    if (res.ok) {
      done(u.disabled ? `${u.name} is enabled again.` : `${u.name} is disabled and was signed out everywhere.`);
      changed(u.name, "toggle");
      return;
    }
    setBusy(b, false, u.disabled ? "Enable" : "Disable");
    notice(usersError, "alert", await problem(res, `Could not ${verb} ${u.name}`));
    if (res.status === 404) {
      loadUsers().catch(() => {});
    }
  }

  async function signOutEverywhere(u, b) {
    usersDone.replaceChildren();
    usersError.replaceChildren();
    setBusy(b, true, "Signing out…");
    let res;
    try {
      res = await call(userPath(u.name, "/sessions"), { method: "DELETE" });
    } catch (err) {
      if (!quiet(err)) {
        setBusy(b, false, "Sign out everywhere");
        notice(usersError, "alert", `Could not reach the server: ${u.name} was not signed out.`);
      }
      return;
    }
    setBusy(b, false, "Sign out everywhere");
    if (res.ok) {
      const body = await readJSON(res);
      const n = body && typeof body.revoked === "number" ? body.revoked : null;
      if (n === 0) {
        done(`${u.name} had no active session.`);
      } else if (n === null) {
        done(`Signed ${u.name} out everywhere.`);
      } else {
        done(`Signed ${u.name} out everywhere: ${plural(n, "session")} ended.`);
      }
      if (auditPages <= 1) {
        loadAudit().catch(() => {});
      }
      return;
    }
    notice(usersError, "alert", await problem(res, `Could not sign ${u.name} out`));
    if (res.status === 404) {
      loadUsers().catch(() => {});
    }
  }

  // ---- Create a user -------------------------------------------------------

  let creating = false;

  function createFailed(text, input) {
    notice(createError, "alert", text);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  function setCreateBusy(on) {
    creating = on;
    setBusy(createSubmit, on, on ? "Creating…" : "Create user");
    createForm.setAttribute("aria-busy", on ? "true" : "false");
    for (const input of [createName, createPassword, createRoles]) {
      input.readOnly = on;
    }
  }

  async function createUser() {
    createError.replaceChildren();
    usersDone.replaceChildren();
    for (const input of [createName, createPassword, createRoles]) {
      input.removeAttribute("aria-invalid");
    }
    const name = createName.value.trim();
    const password = createPassword.value;
    const roles = parseRoles(createRoles.value);
    if (name === "") {
      createFailed("Enter a name for the new user.", createName);
      return;
    }
    const pwProblem = passwordProblem(password);
    if (pwProblem) {
      createFailed(pwProblem, createPassword);
      return;
    }
    const roleProblem = rolesProblem(roles);
    if (roleProblem) {
      createFailed(roleProblem, createRoles);
      return;
    }
    setCreateBusy(true);
    let res;
    try {
      res = await call("/admin/users", { method: "POST", json: { name, password, roles } });
    } catch (err) {
      setCreateBusy(false);
      if (!quiet(err)) {
        createFailed("Could not reach the server: the user was not created.");
      }
      return;
    }
    setCreateBusy(false);
    if (res.status === 201 || res.ok) {
      const body = await readJSON(res);
      const created = body && typeof body.name === "string" ? body.name : name;
      createForm.reset();
      highlight = created;
      done(`Created ${created}${roles.length ? ` with the roles ${roles.join(", ")}` : ""}.`);
      changed();
      createName.focus();
      return;
    }
    if (res.status === 409) {
      createFailed(`The name ${name} is taken. Choose another one.`, createName);
      return;
    }
    const text = await problem(res, "The user was not created");
    const lower = text.toLowerCase();
    const field = lower.includes("password") ? createPassword : lower.includes("role") ? createRoles : lower.includes("name") ? createName : null;
    createFailed(text, field);
  }

  createForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!creating) {
      createUser();
    }
  });

  for (const input of [createName, createPassword, createRoles]) {
    input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
  }

  // An emptied form has nothing to complain about.
  createForm.addEventListener("reset", () => {
    createError.replaceChildren();
    for (const input of [createName, createPassword, createRoles]) {
      input.removeAttribute("aria-invalid");
    }
  });

  // ---- Dialogs -------------------------------------------------------------

  const dialogs = [rolesDialog, passwordDialog, deleteDialog];

  function openDialog(dialog, u, action, errorBox) {
    closeDialogs();
    dialogUser = u;
    dialogReturn = { name: u.name, action };
    dialogBusy = false;
    for (const span of dialog.querySelectorAll(".dialog-name")) {
      span.textContent = u.name;
    }
    errorBox.replaceChildren();
    for (const input of dialog.querySelectorAll("input")) {
      input.removeAttribute("aria-invalid");
    }
    dialog.showModal();
  }

  function closeDialogs() {
    for (const d of dialogs) {
      if (d.open) {
        d.close();
      }
    }
  }

  for (const d of dialogs) {
    // Escape closes the dialog, except while its request is in flight.
    d.addEventListener("cancel", (event) => {
      if (dialogBusy) {
        event.preventDefault();
      }
    });
    // Give the focus back to the button that opened it, or, when its row
    // went away, to the list's heading.
    d.addEventListener("close", () => {
      const back = dialogReturn;
      dialogReturn = null;
      dialogUser = null;
      if (back && !admin.hidden) {
        (rowButton(back.name, back.action) || usersTitle).focus();
      }
    });
    for (const b of d.querySelectorAll("[data-close]")) {
      b.addEventListener("click", () => {
        if (!dialogBusy) {
          d.close();
        }
      });
    }
  }

  function dialogFailed(box, text, input) {
    notice(box, "alert", text);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  // dialogRequest sends a dialog's request with its submit button busy.
  // It returns the answer, or null after reporting a failure.
  async function dialogRequest(submit, busyLabel, idleLabel, errorBox, path, options, what) {
    dialogBusy = true;
    setBusy(submit, true, busyLabel);
    try {
      return await call(path, options);
    } catch (err) {
      if (!quiet(err)) {
        dialogFailed(errorBox, `Could not reach the server: ${what}.`);
      }
      return null;
    } finally {
      dialogBusy = false;
      setBusy(submit, false, idleLabel);
    }
  }

  // Roles.

  function openRoles(u) {
    rolesInput.value = (Array.isArray(u.roles) ? u.roles : []).join(", ");
    openDialog(rolesDialog, u, "roles", rolesError);
    rolesInput.select();
  }

  rolesForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const u = dialogUser;
    if (!u || dialogBusy) {
      return;
    }
    rolesError.replaceChildren();
    rolesInput.removeAttribute("aria-invalid");
    const roles = parseRoles(rolesInput.value);
    const bad = rolesProblem(roles);
    if (bad) {
      dialogFailed(rolesError, bad, rolesInput);
      return;
    }
    const res = await dialogRequest(rolesSubmit, "Saving…", "Save roles", rolesError,
      userPath(u.name, "/roles"), { method: "PUT", json: { roles } }, "the roles were not changed");
    if (!res) {
      return;
    }
    if (res.ok) {
      rolesDialog.close();
      done(`${u.name} now has ${roles.length ? `the roles ${roles.join(", ")}` : "no roles"}. Signed-in sessions get them when their access token is next renewed.`);
      changed();
      return;
    }
    dialogFailed(rolesError, await problem(res, "The roles were not changed"), res.status === 400 ? rolesInput : null);
  });

  // Reset password.

  function openReset(u) {
    resetForm.reset();
    resetUsername.value = u.name;
    openDialog(passwordDialog, u, "password", resetError);
  }

  resetForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const u = dialogUser;
    if (!u || dialogBusy) {
      return;
    }
    resetError.replaceChildren();
    resetPassword.removeAttribute("aria-invalid");
    resetConfirm.removeAttribute("aria-invalid");
    const pw = resetPassword.value;
    const bad = passwordProblem(pw);
    if (bad) {
      dialogFailed(resetError, bad, resetPassword);
      return;
    }
    if (resetConfirm.value !== pw) {
      dialogFailed(resetError, "The two passwords do not match.", resetConfirm);
      return;
    }
    const res = await dialogRequest(resetSubmit, "Resetting…", "Reset password", resetError,
      userPath(u.name, "/password"), { method: "POST", json: { password: pw } }, "the password was not changed");
    if (!res) {
      return;
    }
    if (res.ok) {
      resetForm.reset();
      passwordDialog.close();
      done(`The password of ${u.name} was reset, and ${u.name} was signed out everywhere.`);
      if (auditPages <= 1) {
        loadAudit().catch(() => {});
      }
      return;
    }
    dialogFailed(resetError, await problem(res, "The password was not changed"), res.status === 400 ? resetPassword : null);
  });

  // Delete.

  function openDelete(u) {
    deleteForm.reset();
    deleteSubmit.disabled = true;
    openDialog(deleteDialog, u, "delete", deleteError);
  }

  deleteConfirm.addEventListener("input", () => {
    deleteSubmit.disabled = !dialogUser || deleteConfirm.value.trim() !== dialogUser.name;
  });

  deleteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const u = dialogUser;
    if (!u || dialogBusy) {
      return;
    }
    if (deleteConfirm.value.trim() !== u.name) {
      dialogFailed(deleteError, `Type ${u.name} to confirm.`, deleteConfirm);
      return;
    }
    deleteError.replaceChildren();
    const res = await dialogRequest(deleteSubmit, "Deleting…", "Delete user", deleteError,
      userPath(u.name), { method: "DELETE" }, `${u.name} was not deleted`);
    if (!res) {
      return;
    }
    if (res.ok || res.status === 404) {
      // 404: it was gone already; either way it is gone. The row goes at
      // once, so the focus goes to the list's heading.
      users = users.filter((x) => x.name !== u.name);
      usersTotal = Math.max(0, usersTotal - 1);
      renderUsers();
      deleteDialog.close();
      done(`Deleted ${u.name}.`);
      changed();
      return;
    }
    deleteSubmit.disabled = false;
    dialogFailed(deleteError, await problem(res, `${u.name} was not deleted`));
  });

  // ---- Signing keys --------------------------------------------------------

  function keyRow(k) {
    const tr = el("tr");
    tr.setAttribute("role", "row");
    tr.dataset.kid = k.kid;
    tr.dataset.state = k.state;
    const kid = el("th", "cell-kid");
    kid.scope = "row";
    kid.setAttribute("role", "rowheader");
    kid.append(el("code", "", k.kid));
    const alg = cell("Algorithm", "");
    alg.textContent = typeof k.alg === "string" ? k.alg : "";
    const state = cell("State", "");
    const known = ["pending", "active", "retired", "expired"].includes(k.state);
    state.append(el("span", `state-badge state-${known ? k.state : "other"}`, String(k.state || "unknown")));
    const created = cell("Created", "");
    created.append(timeElement(k.created_at, MINUTE));
    const activates = cell("Signs from", "");
    activates.append(timeElement(k.activates_at, MINUTE));
    const retires = cell("Retires", "");
    if (k.retires_at) {
      retires.append(timeElement(k.retires_at, MINUTE));
    } else {
      retires.append(el("span", "muted", "—"));
    }
    tr.append(kid, alg, state, created, activates, retires);
    return tr;
  }

  function keysFailed(text) {
    const again = el("button", "notice-action link-button", "Try again");
    again.type = "button";
    again.addEventListener("click", () => {
      loadKeys().catch(() => {});
    });
    notice(keysError, "alert", text, again);
  }

  async function loadKeys() {
    keysCard.setAttribute("aria-busy", "true");
    keysReload.disabled = true;
    try {
      let res;
      try {
        res = await call("/admin/keys");
      } catch (err) {
        if (quiet(err)) {
          throw err;
        }
        keysFailed("Could not reach the server to list the keys.");
        return;
      }
      const body = res.ok ? await readJSON(res) : null;
      if (!body || !Array.isArray(body.keys)) {
        keysFailed(res.ok ? "The server sent a list this page does not understand." : `Could not list the keys (HTTP ${res.status}).`);
        return;
      }
      const keys = body.keys
        .filter((k) => k && typeof k.kid === "string")
        .sort((a, b) => (Date.parse(b.created_at) || 0) - (Date.parse(a.created_at) || 0));
      keysError.replaceChildren();
      if (keys.length === 0) {
        const tr = el("tr", "empty-row");
        tr.setAttribute("role", "row");
        const td = cell("", "");
        td.colSpan = 6;
        td.textContent = "No signing keys: this server signs tokens with a shared secret, which cannot be rotated here.";
        tr.append(td);
        keysBody.replaceChildren(tr);
        rotate.disabled = true;
      } else {
        keysBody.replaceChildren(...keys.map(keyRow));
        rotate.disabled = false;
      }
    } finally {
      keysCard.setAttribute("aria-busy", "false");
      keysReload.disabled = false;
    }
  }

  keysReload.addEventListener("click", () => {
    loadKeys().catch(() => {});
  });

  rotate.addEventListener("click", async () => {
    if (rotate.disabled) {
      return;
    }
    keysDone.replaceChildren();
    keysError.replaceChildren();
    setBusy(rotate, true, "Rotating…");
    let res;
    try {
      res = await call("/admin/keys/rotate", { method: "POST" });
    } catch (err) {
      if (!quiet(err)) {
        setBusy(rotate, false, "Rotate signing key");
        notice(keysError, "alert", "Could not reach the server: the key was not rotated.");
      }
      return;
    }
    setBusy(rotate, false, "Rotate signing key");
    if (res.ok) {
      const body = await readJSON(res);
      const kid = body && typeof body.kid === "string" ? body.kid : "";
      const alg = body && typeof body.alg === "string" ? `${body.alg} ` : "";
      const when = parseDate(body && body.activates_at);
      let text = `New ${alg}key ${kid} published.`;
      if (when) {
        const wait = when.getTime() - session.serverNow();
        text += ` It signs from ${when.toLocaleString(undefined, MINUTE)}${wait > 0 ? `, in about ${duration(wait)}` : ""}; until then the current key goes on signing.`;
      }
      notice(keysDone, "check", text);
      loadKeys().catch(() => {});
      if (auditPages <= 1) {
        loadAudit().catch(() => {});
      }
      return;
    }
    const body = await readJSON(res);
    const message = body && typeof body.message === "string" ? body.message : "";
    notice(
      keysError,
      "alert",
      res.status === 409 && message ? `The key was not rotated: ${sentence(message)}` : `The key was not rotated: ${busyText(res)}`,
    );
  });

  // ---- Audit log -----------------------------------------------------------

  function auditRow(e) {
    const tr = el("tr");
    tr.setAttribute("role", "row");
    tr.dataset.id = String(e.id);
    tr.dataset.type = e.type;
    const time = el("th", "cell-time");
    time.scope = "row";
    time.setAttribute("role", "rowheader");
    time.append(timeElement(e.at, SECOND));
    const type = cell("Event", "cell-event");
    type.append(el("span", WARNING_EVENTS.has(e.type) ? "event-type is-warning" : "event-type", e.type));
    const user = cell("User", "");
    if (typeof e.name === "string" && e.name) {
      user.textContent = e.name;
    } else if (e.user_id) {
      user.textContent = names.get(e.user_id) || `#${e.user_id}`;
    } else {
      user.append(el("span", "muted", "—"));
    }
    const ip = cell("IP", "cell-ip");
    if (typeof e.ip === "string" && e.ip) {
      ip.textContent = e.ip;
      if (typeof e.user_agent === "string" && e.user_agent) {
        ip.title = e.user_agent;
      }
    } else {
      ip.append(el("span", "muted", "—"));
    }
    const detail = cell("Detail", "cell-detail");
    const parts = [];
    if (typeof e.detail === "string" && e.detail) {
      parts.push(e.detail);
    }
    if (e.actor_id && e.actor_id !== e.user_id) {
      parts.push(`by ${names.get(e.actor_id) || `#${e.actor_id}`}`);
    }
    if (parts.length) {
      detail.textContent = parts.join(" · ");
    } else {
      detail.append(el("span", "muted", "—"));
    }
    tr.append(time, type, user, ip, detail);
    return tr;
  }

  function auditFailed(text) {
    const again = el("button", "notice-action link-button", "Try again");
    again.type = "button";
    again.addEventListener("click", () => {
      loadAudit().catch(() => {});
    });
    notice(auditError, "alert", text, again);
  }

  // loadAudit reads the newest page of the log for the type filter, or,
  // with older, the page before the last event shown.
  async function loadAudit(older = false) {
    const seq = ++auditSeq;
    const hadFocus = older && document.activeElement === auditMore;
    auditCard.setAttribute("aria-busy", "true");
    auditReload.disabled = true;
    if (older) {
      setBusy(auditMore, true, "Loading…");
    }
    try {
      const params = new URLSearchParams({ limit: String(AUDIT_PAGE) });
      if (auditType.value) {
        params.set("type", auditType.value);
      }
      if (older && auditEvents.length) {
        params.set("before", String(auditEvents[auditEvents.length - 1].id));
      }
      let res;
      try {
        res = await call(`/admin/audit?${params}`);
      } catch (err) {
        if (quiet(err)) {
          throw err;
        }
        if (seq === auditSeq) {
          auditFailed("Could not reach the server to read the audit log.");
        }
        return;
      }
      const body = res.ok ? await readJSON(res) : null;
      if (seq !== auditSeq) {
        return;
      }
      if (!body || !Array.isArray(body.events)) {
        auditFailed(res.ok ? "The server sent a log this page does not understand." : `Could not read the audit log (HTTP ${res.status}).`);
        return;
      }
      const events = body.events.filter((e) => e && typeof e.id === "number" && typeof e.type === "string");
      auditError.replaceChildren();
      if (older) {
        auditEvents = auditEvents.concat(events);
        auditPages += 1;
        auditBody.append(...events.map(auditRow));
      } else {
        auditEvents = events;
        auditPages = 1;
        if (events.length === 0) {
          const tr = el("tr", "empty-row");
          tr.setAttribute("role", "row");
          const td = cell("", "");
          td.colSpan = 5;
          td.textContent = auditType.value ? `No ${auditType.value} events.` : "No events yet.";
          tr.append(td);
          auditBody.replaceChildren(tr);
        } else {
          auditBody.replaceChildren(...events.map(auditRow));
        }
      }
      const more = events.length === AUDIT_PAGE;
      auditMore.hidden = !more;
      const n = auditEvents.length;
      const kind = auditType.value ? ` of type ${auditType.value}` : "";
      auditCount.textContent = n === 0 ? "" : more ? `The latest ${plural(n, "event")}${kind}.` : `${plural(n, "event")}${kind}, all there are.`;
    } finally {
      if (older) {
        setBusy(auditMore, false, "Older events");
        // At the end of the log the button goes: the focus goes to the
        // log's heading.
        if (hadFocus && auditMore.hidden) {
          auditTitle.focus();
        }
      }
      if (seq === auditSeq) {
        auditCard.setAttribute("aria-busy", "false");
        auditReload.disabled = false;
      }
    }
  }

  auditType.addEventListener("change", () => {
    loadAudit().catch(() => {});
  });

  auditReload.addEventListener("click", () => {
    loadAudit().catch(() => {});
  });

  auditMore.addEventListener("click", () => {
    if (!auditMore.disabled) {
      loadAudit(true).catch(() => {});
    }
  });

  check();
})();
