// The admin page's users: GET /admin/users (search, pages) and, per user,
// disable/enable and sign out everywhere; the buttons for roles, password
// and delete open the dialogs (dialogs.js).

import { $, el, notice, retryNotice, setBusy, plural } from "../lib/dom.js";
import { readJSON } from "../lib/http.js";
import { problem, userPath } from "./api.js";
import { actionButton, cell, emptyRow } from "./table.js";
import { DAY, timeElement } from "./time.js";

const PAGE_SIZE = 10;
const SEARCH_DELAY_MS = 250;

// createUsers drives the users panel. me() is the logged-in user; names
// (user id -> name) is filled for the audit log; audit.changed() is called
// after a change; openDialog(action, user) opens a dialog. It returns
//   load()                  read the page of the list shown again;
//   changed(name, action)   after a change: reload the lists, and give the
//                           focus to the same button of name's new row;
//   done(text)              say what was done;
//   created(name)           mark the row of a new user in the next render;
//   removed(name)           drop a deleted user's row at once;
//   rowButton(name, action), title: where the focus can go back to.
// factorsText says which second factors an admin's user list entry has:
// "authenticator app, 2 passkeys", or "" for none.
function factorsText(f) {
  if (!f || typeof f !== "object") {
    return "";
  }
  const parts = [];
  if (f.totp) {
    parts.push("authenticator app");
  }
  if (typeof f.passkeys === "number" && f.passkeys > 0) {
    parts.push(plural(f.passkeys, "passkey"));
  }
  return parts.join(", ");
}

export function createUsers({ call, quiet, me, names, audit, openDialog }) {
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

  let users = [];
  let usersTotal = 0;
  let usersQuery = { q: "", offset: 0 };
  let usersSeq = 0; // the latest list request; older answers are dropped
  let searchTimer = 0;
  let highlight = ""; // the name of a user just created, to mark its row

  function userRow(u) {
    const tr = el("tr", u.disabled ? "is-disabled" : "");
    tr.setAttribute("role", "row");
    tr.dataset.name = u.name;
    if (u.name === highlight) {
      tr.classList.add("is-new");
    }
    const self = !!me() && u.name.toLowerCase() === me().name.toLowerCase();

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
    if (typeof u.email === "string" && u.email) {
      const mail = el("span", "user-since user-email", u.email);
      if (!u.email_verified) {
        mail.append(" ", el("span", "muted", "(unverified)"));
      }
      lines.append(mail);
    }
    const factors = factorsText(u.factors);
    if (factors) {
      lines.append(el("span", "user-since user-factors", `Second factors: ${factors}`));
    }
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
    rolesWrap.append(actionButton("roles", "pencil", "Edit", ` the roles of ${u.name}`, "button-quiet button-compact"));
    rolesCell.append(rolesWrap);

    const statusCell = cell("Status", "cell-status");
    const statusWrap = el("div", "cell-inline");
    statusWrap.append(
      el("span", u.disabled ? "status-pill is-off" : "status-pill is-on", u.disabled ? "Disabled" : "Active"),
      u.disabled
        ? actionButton("toggle", "check", "Enable", ` ${u.name}`, "button-secondary")
        : actionButton("toggle", "ban", "Disable", ` ${u.name}`, "button-secondary"),
    );
    statusCell.append(statusWrap);

    const actions = cell("", "cell-actions");
    const actionsWrap = el("div", "row-actions");
    actionsWrap.append(
      actionButton("password", "key", "Reset password", ` of ${u.name}`, "button-secondary"),
      actionButton("signout", "log-out", "Sign out everywhere", ` (${u.name})`, "button-secondary"),
      ...(factors ? [actionButton("factors", "shield", "Reset second factors", ` of ${u.name}`, "button-secondary")] : []),
      actionButton("delete", "trash", "Delete", ` ${u.name}`, "button-danger"),
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
      usersBody.replaceChildren(emptyRow(4, usersQuery.q ? `No user matches “${usersQuery.q}”.` : "No users."));
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
    retryNotice(usersError, text, () => {
      loadUsers().catch(() => {});
    });
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
    audit.changed();
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
      case "password":
      case "delete":
        openDialog(b.dataset.action, u);
        break;
      case "toggle":
        toggle(u, b);
        break;
      case "signout":
        signOutEverywhere(u, b);
        break;
      case "factors":
        resetFactors(u, b);
        break;
    }
  });

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
      audit.changed();
      return;
    }
    notice(usersError, "alert", await problem(res, `Could not sign ${u.name} out`));
    if (res.status === 404) {
      loadUsers().catch(() => {});
    }
  }

  // resetFactors removes the user's authenticator app, recovery codes and
  // passkeys (a lost phone); the server also ends the user's sessions.
  async function resetFactors(u, b) {
    usersDone.replaceChildren();
    usersError.replaceChildren();
    setBusy(b, true, "Resetting…");
    let res;
    try {
      res = await call(userPath(u.name, "/factors"), { method: "DELETE" });
    } catch (err) {
      if (!quiet(err)) {
        setBusy(b, false, "Reset second factors");
        notice(usersError, "alert", `Could not reach the server: the second factors of ${u.name} were not reset.`);
      }
      return;
    }
    if (res.ok) {
      done(`${u.name} has no second factor any more and was signed out everywhere; they sign in with the password and may enrol again.`);
      changed(u.name, "signout");
      return;
    }
    setBusy(b, false, "Reset second factors");
    notice(usersError, "alert", await problem(res, `Could not reset the second factors of ${u.name}`));
    if (res.status === 404) {
      loadUsers().catch(() => {});
    }
  }

  return Object.freeze({
    load: loadUsers,
    changed,
    done,
    rowButton,
    title: usersTitle,
    created(name) {
      highlight = name;
    },
    removed(name) {
      users = users.filter((x) => x.name !== name);
      usersTotal = Math.max(0, usersTotal - 1);
      renderUsers();
    },
  });
}
