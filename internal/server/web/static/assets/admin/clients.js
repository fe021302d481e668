// The admin page's apps (OpenID Connect clients): GET/POST /admin/clients,
// DELETE /admin/clients/{id}, POST /admin/clients/{id}/secret. A secret is
// in the answer to a registration or a rotation only, so the page shows it
// then, once, for the admin to copy into the app's settings; it is never
// kept in the page's state and the list never has it.

import { $, el, fieldProblem, clearInvalid, notice, retryNotice, setBusy, sentence } from "../lib/dom.js";
import { readJSON, errorOf, busyText } from "../lib/http.js";
import { actionButton, cell, emptyRow } from "./table.js";

// lines splits a textarea's value into its non-empty lines.
const lines = (text) =>
  text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);

const clientPath = (id, rest = "") => `/admin/clients/${encodeURIComponent(id)}${rest}`;

// createClients drives the apps panel; onChange is called after a client is
// registered, rotated or deleted. It returns {load, closeAll}.
export function createClients({ call, quiet, onChange, shown }) {
  const card = $("clients-card");
  const title = $("clients-title");
  const body = $("clients");
  const done = $("clients-done");
  const error = $("clients-error");
  const reload = $("clients-reload");

  const form = $("client-form");
  const name = $("client-name");
  const redirects = $("client-redirects");
  const postLogout = $("client-post-logout");
  const isPublic = $("client-public");
  const trusted = $("client-trusted");
  const submit = $("client-submit");
  const formError = $("client-error");

  const dialog = $("client-dialog");
  const dialogForm = $("client-dialog-form");
  const dialogTitle = $("client-dialog-title");
  const dialogLead = $("client-dialog-lead");
  const dialogSubmit = $("client-dialog-submit");
  const dialogError = $("client-dialog-error");
  let pending = null; // {action, client} while the dialog is open
  let busy = false;

  clearInvalid([name, redirects, postLogout], true);
  form.addEventListener("reset", () => {
    formError.replaceChildren();
    clearInvalid([name, redirects, postLogout]);
  });

  function row(c) {
    const tr = el("tr");
    tr.setAttribute("role", "row");
    tr.dataset.clientId = c.client_id;
    tr.dataset.name = c.name;
    const who = el("th", "", String(c.name));
    who.scope = "row";
    who.setAttribute("role", "rowheader");
    const id = cell("Client ID", "cell-client-id");
    id.append(el("code", "", String(c.client_id)));
    const kind = cell("Kind", "");
    kind.textContent = `${c.public ? "Public" : "Confidential"}${c.trusted ? ", trusted" : ""}`;
    const uris = cell("Redirect URIs", "");
    const list = el("ul", "client-uris");
    for (const u of Array.isArray(c.redirect_uris) ? c.redirect_uris : []) {
      list.append(el("li", "", String(u)));
    }
    uris.append(list);
    const actions = cell("", "cell-actions");
    const wrap = el("div", "row-actions");
    if (!c.public) {
      const rotate = actionButton("rotate", "refresh", "New secret", ` for ${c.name}`, "button-secondary");
      rotate.addEventListener("click", () => open("rotate", c));
      wrap.append(rotate);
    }
    const del = actionButton("delete", "trash", "Delete", ` ${c.name}`, "button-danger");
    del.addEventListener("click", () => open("delete", c));
    wrap.append(del);
    actions.append(wrap);
    tr.append(who, id, kind, uris, actions);
    return tr;
  }

  async function load() {
    card.setAttribute("aria-busy", "true");
    reload.disabled = true;
    try {
      let res;
      try {
        res = await call("/admin/clients");
      } catch (err) {
        if (quiet(err)) {
          throw err;
        }
        retryNotice(error, "Could not reach the server to list the apps.", () => load().catch(() => {}));
        return;
      }
      const list = res.ok ? await readJSON(res) : null;
      if (!list || !Array.isArray(list.clients)) {
        retryNotice(error, `Could not list the apps (HTTP ${res.status}).`, () => load().catch(() => {}));
        return;
      }
      error.replaceChildren();
      body.replaceChildren(...(list.clients.length ? list.clients.map(row) : [emptyRow(5, "No apps are registered.")]));
    } finally {
      card.setAttribute("aria-busy", "false");
      reload.disabled = false;
    }
  }

  // secretNotice shows a secret once, in the results box, to copy.
  function secretNotice(text, c, secret) {
    const parts = el("span");
    parts.append(el("span", "", `client_id: `), el("code", "client-id-shown", c.client_id));
    if (secret) {
      parts.append(
        el("span", "", " · client secret, shown only now: "),
        el("code", "client-secret", secret),
      );
    }
    notice(done, "check", text, parts);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    done.replaceChildren();
    formError.replaceChildren();
    clearInvalid([name, redirects, postLogout]);
    const spec = {
      name: name.value.trim(),
      redirect_uris: lines(redirects.value),
      post_logout_redirect_uris: lines(postLogout.value),
      public: isPublic.checked,
      trusted: trusted.checked,
    };
    if (!spec.name) {
      fieldProblem(formError, "Enter a name for the app.", name);
      return;
    }
    if (!spec.redirect_uris.length) {
      fieldProblem(formError, "Enter the app's redirect URI: where this server sends people back after they log in.", redirects);
      return;
    }
    setBusy(submit, true, "Registering…");
    let res;
    try {
      res = await call("/admin/clients", { method: "POST", json: spec });
    } catch (err) {
      if (!quiet(err)) {
        setBusy(submit, false, "Register app");
        notice(formError, "alert", "Could not reach the server: no app was registered.");
      }
      return;
    }
    setBusy(submit, false, "Register app");
    if (!res.ok) {
      const { message } = await errorOf(res);
      const text = `No app was registered: ${sentence(message) || busyText(res)}`;
      // Point at the field the server's message is about.
      const field = /post.logout|logout/i.test(message) ? postLogout : /redirect URI/i.test(message) ? redirects : res.status === 409 || /name/i.test(message) ? name : null;
      fieldProblem(formError, text, field);
      return;
    }
    const c = await readJSON(res);
    form.reset();
    secretNotice(`Registered ${c.name}.`, c, c.client_secret);
    onChange();
    await load().catch(() => {});
  });

  // The dialog confirms a deletion or a rotation, which both break an app
  // that is set up with the old credentials.
  function open(action, c) {
    if (dialog.open) {
      dialog.close();
    }
    pending = { action, client: c };
    dialogError.replaceChildren();
    if (action === "delete") {
      dialogTitle.textContent = `Delete ${c.name}?`;
      dialogLead.textContent = `${c.name} can no longer sign anyone in. This cannot be undone.`;
      dialogSubmit.querySelector(".button-label").textContent = "Delete app";
    } else {
      dialogTitle.textContent = `New secret for ${c.name}?`;
      dialogLead.textContent = `The current secret stops working at once: ${c.name} fails to sign anyone in until its settings have the new one.`;
      dialogSubmit.querySelector(".button-label").textContent = "Make a new secret";
    }
    dialog.showModal();
  }

  dialog.addEventListener("cancel", (event) => {
    if (busy) {
      event.preventDefault();
    }
  });
  // focusBack gives the focus to the button that opened the dialog, or,
  // when its row went away, to the panel's heading.
  function focusBack(back) {
    if (back && shown()) {
      const button = body.querySelector(`tr[data-client-id="${CSS.escape(back.client.client_id)}"] button[data-action="${back.action}"]`);
      (button || title).focus();
    }
  }

  // Closed without a change (Cancel, Escape): the focus goes back at once.
  // After a change, the submit handler gives it back once the list is
  // reloaded, as the reload replaces the rows.
  dialog.addEventListener("close", () => {
    const back = pending;
    pending = null;
    focusBack(back);
  });
  for (const b of dialog.querySelectorAll("[data-close]")) {
    b.addEventListener("click", () => {
      if (!busy) {
        dialog.close();
      }
    });
  }

  dialogForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!pending || busy) {
      return;
    }
    const { action, client: c } = pending;
    const label = action === "delete" ? "Delete app" : "Make a new secret";
    busy = true;
    setBusy(dialogSubmit, true, action === "delete" ? "Deleting…" : "Making…");
    let res;
    try {
      res =
        action === "delete"
          ? await call(clientPath(c.client_id), { method: "DELETE" })
          : await call(clientPath(c.client_id, "/secret"), { method: "POST" });
    } catch (err) {
      if (!quiet(err)) {
        notice(dialogError, "alert", "Could not reach the server: nothing changed.");
      }
      return;
    } finally {
      busy = false;
      setBusy(dialogSubmit, false, label);
    }
    const back = pending;
    if (res.status === 404) {
      pending = null;
      dialog.close();
      notice(error, "alert", `${c.name} is not registered any more.`);
      await load().catch(() => {});
      focusBack(back);
      return;
    }
    if (!res.ok) {
      const { message } = await errorOf(res);
      notice(dialogError, "alert", `Nothing changed: ${sentence(message) || busyText(res)}`);
      return;
    }
    done.replaceChildren();
    error.replaceChildren();
    const answer = action === "delete" ? null : await readJSON(res);
    pending = null;
    dialog.close();
    if (action === "delete") {
      notice(done, "check", `${c.name} is deleted.`);
    } else {
      secretNotice(`${c.name} has a new secret; the old one no longer works.`, c, answer && answer.client_secret);
    }
    onChange();
    await load().catch(() => {});
    focusBack(back);
  });

  function closeAll() {
    if (dialog.open) {
      pending = null;
      dialog.close();
    }
  }

  reload.addEventListener("click", () => load().catch(() => {}));
  return { load, closeAll };
}
