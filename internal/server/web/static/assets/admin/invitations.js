// The admin page's invitations: GET/POST /admin/invitations,
// DELETE /admin/invitations/{id}. When the server cannot email, the answer
// carries the link, which the page shows once for the admin to hand over.

import { $, el, notice, retryNotice, setBusy, sentence } from "../lib/dom.js";
import { readJSON, errorOf, busyText } from "../lib/http.js";
import { parseRoles, rolesProblem } from "../lib/validate.js";
import { cell, emptyRow } from "./table.js";
import { MINUTE, timeElement } from "./time.js";

// createInvitations drives the invitations panel (absent when signup is
// closed); onChange is called after an invitation is made or revoked. It
// returns {load}.
export function createInvitations({ call, quiet, onChange }) {
  const card = $("invitations-card");
  if (!card) {
    return { load: async () => {} };
  }
  const body = $("invitations");
  const done = $("invitations-done");
  const error = $("invitations-error");
  const reload = $("invitations-reload");
  const form = $("invite-form");
  const email = $("invite-email");
  const roles = $("invite-roles");
  const invite = $("invite");

  function row(inv) {
    const tr = el("tr");
    tr.setAttribute("role", "row");
    const who = el("th", "", String(inv.email));
    who.scope = "row";
    who.setAttribute("role", "rowheader");
    const r = cell("Roles", "");
    r.textContent = Array.isArray(inv.roles) && inv.roles.length ? inv.roles.join(", ") : "—";
    const until = cell("Open until", "");
    until.append(timeElement(inv.expires_at, MINUTE));
    const actions = cell("", "");
    const revoke = el("button", "button button-small button-danger", "Revoke");
    revoke.type = "button";
    revoke.setAttribute("aria-label", `Revoke the invitation for ${inv.email}`);
    revoke.addEventListener("click", () => revokeOne(inv, revoke));
    actions.append(revoke);
    tr.append(who, r, until, actions);
    return tr;
  }

  async function load() {
    card.setAttribute("aria-busy", "true");
    reload.disabled = true;
    try {
      let res;
      try {
        res = await call("/admin/invitations");
      } catch (err) {
        if (quiet(err)) {
          throw err;
        }
        retryNotice(error, "Could not reach the server to list the invitations.", () => load().catch(() => {}));
        return;
      }
      const list = res.ok ? await readJSON(res) : null;
      if (!list || !Array.isArray(list.invitations)) {
        retryNotice(error, `Could not list the invitations (HTTP ${res.status}).`, () => load().catch(() => {}));
        return;
      }
      error.replaceChildren();
      body.replaceChildren(...(list.invitations.length ? list.invitations.map(row) : [emptyRow(4, "No open invitations.")]));
    } finally {
      card.setAttribute("aria-busy", "false");
      reload.disabled = false;
    }
  }

  async function revokeOne(inv, button) {
    done.replaceChildren();
    error.replaceChildren();
    button.disabled = true;
    let res;
    try {
      res = await call(`/admin/invitations/${encodeURIComponent(inv.id)}`, { method: "DELETE" });
    } catch (err) {
      if (!quiet(err)) {
        button.disabled = false;
        notice(error, "alert", "Could not reach the server: the invitation was not revoked.");
      }
      return;
    }
    if (res.ok || res.status === 404) {
      notice(done, "check", `The invitation for ${inv.email} is revoked.`);
      onChange();
      await load().catch(() => {});
      return;
    }
    button.disabled = false;
    notice(error, "alert", `The invitation was not revoked: ${busyText(res)}`);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    done.replaceChildren();
    error.replaceChildren();
    const list = parseRoles(roles.value);
    const bad = rolesProblem(list);
    if (!email.value.trim() || bad) {
      notice(error, "alert", bad || "Enter the email address to invite.");
      (bad ? roles : email).focus();
      return;
    }
    setBusy(invite, true, "Inviting…");
    let res;
    try {
      res = await call("/admin/invitations", { method: "POST", json: { email: email.value.trim(), roles: list } });
    } catch (err) {
      if (!quiet(err)) {
        setBusy(invite, false, "Invite");
        notice(error, "alert", "Could not reach the server: nobody was invited.");
      }
      return;
    }
    setBusy(invite, false, "Invite");
    if (!res.ok) {
      const { message } = await errorOf(res);
      notice(error, "alert", `Nobody was invited: ${sentence(message) || busyText(res)}`);
      email.focus();
      return;
    }
    const inv = await readJSON(res);
    form.reset();
    if (inv && inv.link) {
      const code = el("code", "invite-link", inv.link);
      notice(done, "check", `Invited ${inv.email}. This server sends no email: hand over this link yourself (it works once):`, code);
    } else {
      notice(done, "check", `Invited ${inv ? inv.email : ""}: the link is on its way by email.`);
    }
    onChange();
    await load().catch(() => {});
  });

  reload.addEventListener("click", () => load().catch(() => {}));
  return { load };
}
