// The home page's passkeys panel: the user's passkeys, with Rename and
// Delete for each, and a form that adds one (GET /user/passkeys, POST
// /user/passkeys/begin then navigator.credentials.create() then POST
// /user/passkeys, PATCH and DELETE /user/passkeys/{id}). Adding and
// deleting are step-up changes: when the server asks for a fresh second
// factor (403 step_up_required), the panel shows a code field and the
// next try sends {"code"}.

import { $, el, icon, notice, retryNotice, setBusy, sentence } from "../lib/dom.js";
import { readJSON, errorOf, busyText } from "../lib/http.js";
import { limits, passkeys as passkeysOffered } from "../lib/config.js";
import { SessionEnded } from "../lib/session.js";
import * as webauthn from "../lib/webauthn.js";
import { createStepUp } from "../lib/stepup.js";

function when(iso) {
  const t = Date.parse(iso || "");
  return Number.isNaN(t) ? "" : new Date(t).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

function smallButton(text, iconName, className) {
  const b = el("button", `button button-small ${className}`);
  b.type = "button";
  b.append(icon("spinner", "icon spinner"), icon(iconName), el("span", "button-label", text));
  return b;
}

// createPasskeysPanel drives the panel for session; it returns {load}.
// onChange runs after a passkey was added or removed (the second-factor
// summary may change).
export function createPasskeysPanel(session, onChange = () => {}) {
  const card = $("passkeys-card");
  const list = $("passkeys");
  if (!passkeysOffered || !list) {
    return { load: async () => {} };
  }
  const status = $("passkeys-status");
  const errorBox = $("passkeys-error");
  const doneBox = $("passkeys-done");
  const reload = $("passkeys-reload");
  const form = $("passkey-form");
  const nameInput = $("passkey-name");
  const add = $("passkey-add");
  const stepUp = createStepUp("passkey-code");

  let passkeys = [];
  let loading = null;

  function clearNotices() {
    errorBox.replaceChildren();
    doneBox.replaceChildren();
  }

  async function problem(res) {
    const { code, message } = await errorOf(res);
    if (stepUp.asked(code)) {
      notice(errorBox, "alert", stepUp.text(code));
      return;
    }
    notice(errorBox, "alert", sentence(message) || busyText(res));
  }

  // withCode is a request's options with the step-up code, when the user
  // gave one.
  function withCode(options) {
    const json = stepUp.with({});
    return json.code ? { ...options, json } : options;
  }

  function row(k) {
    const li = el("li", "session passkey");
    li.dataset.id = k.id;
    const figure = el("span", "session-icon");
    figure.append(icon("key"));
    const main = el("div", "session-main");
    const name = el("p", "session-device");
    name.append(el("span", "session-name passkey-name", k.name));
    const parts = [k.synced ? "Synced passkey" : "Device-bound key", `added ${when(k.created_at)}`];
    parts.push(k.last_used_at ? `last used ${when(k.last_used_at)}` : "never used");
    main.append(name, el("p", "session-meta", parts.join(" · ")));

    const actions = el("div", "row-actions");
    const rename = smallButton("Rename", "pencil", "button-quiet passkey-rename");
    rename.append(el("span", "visually-hidden", ` ${k.name}`));
    const del = smallButton("Delete", "trash", "button-danger passkey-delete");
    del.append(el("span", "visually-hidden", ` ${k.name}`));
    rename.addEventListener("click", () => startRename(li, k));
    del.addEventListener("click", () => askDelete(li, k));
    actions.append(rename, del);
    li.append(figure, main, actions);
    return li;
  }

  function render() {
    if (passkeys.length === 0) {
      list.replaceChildren(el("li", "session session-empty", "No passkeys yet."));
      return;
    }
    list.replaceChildren(...passkeys.map(row));
  }

  // startRename swaps the row's name for a small form.
  function startRename(li, k) {
    clearNotices();
    const f = el("form", "rename-form");
    f.noValidate = true;
    const label = el("label", "visually-hidden", `New name for ${k.name}`);
    const input = el("input", "rename-input");
    input.id = `rename-${k.id}`;
    label.htmlFor = input.id;
    input.type = "text";
    input.value = k.name;
    input.maxLength = limits.maxPasskeyNameChars || 64;
    input.required = true;
    input.setAttribute("aria-describedby", "passkeys-error");
    const save = smallButton("Save", "check", "button-primary passkey-save");
    save.type = "submit";
    const cancel = smallButton("Cancel", "x", "button-quiet");
    cancel.addEventListener("click", () => render());
    f.append(label, input, save, cancel);
    f.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name) {
        notice(errorBox, "alert", "Enter a name.");
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      setBusy(save, true);
      let res;
      try {
        res = await session.api(`/user/passkeys/${encodeURIComponent(k.id)}`, { method: "PATCH", json: { name } });
      } catch (err) {
        setBusy(save, false);
        unreachable(err);
        return;
      }
      setBusy(save, false);
      if (!res.ok) {
        await problem(res);
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      notice(doneBox, "check", `Renamed to ${name}.`);
      await load().catch(() => {});
      focusRow(k.id, ".passkey-rename");
    });
    li.querySelector(".session-main").replaceChildren(f);
    li.querySelector(".row-actions").hidden = true;
    input.focus();
    input.select();
  }

  // askDelete asks, in the row, before deleting.
  function askDelete(li, k) {
    clearNotices();
    const actions = li.querySelector(".row-actions");
    const question = el("span", "row-question", `Delete ${k.name}?`);
    const yes = smallButton("Delete", "trash", "button-danger passkey-confirm-delete");
    const no = smallButton("Keep", "x", "button-quiet");
    no.addEventListener("click", () => {
      render();
      focusRow(k.id, ".passkey-delete");
    });
    yes.addEventListener("click", async () => {
      setBusy(yes, true);
      let res;
      try {
        res = await session.api(`/user/passkeys/${encodeURIComponent(k.id)}`, withCode({ method: "DELETE" }));
      } catch (err) {
        setBusy(yes, false);
        unreachable(err);
        return;
      }
      setBusy(yes, false);
      if (!res.ok && res.status !== 404) {
        await problem(res);
        return;
      }
      stepUp.done();
      notice(doneBox, "check", `Deleted ${k.name}.`);
      await load().catch(() => {});
      onChange();
      $("passkeys-title").focus();
    });
    actions.replaceChildren(question, yes, no);
    no.focus();
  }

  function focusRow(id, selector) {
    const li = list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
    const target = li && li.querySelector(selector);
    if (target) {
      target.focus();
    }
  }

  // load reads GET /user/passkeys; callers at the same time share one
  // request. It rejects with SessionEnded when the session ended.
  function load() {
    if (!loading) {
      loading = fetchList().finally(() => {
        loading = null;
      });
    }
    return loading;
  }

  async function fetchList() {
    card.setAttribute("aria-busy", "true");
    reload.disabled = true;
    try {
      let res;
      try {
        res = await session.api("/user/passkeys");
      } catch (err) {
        if (err instanceof SessionEnded) {
          throw err;
        }
        retryNotice(errorBox, "Could not reach the server to list your passkeys.", () => load().catch(() => {}));
        return;
      }
      const body = res.ok ? await readJSON(res) : null;
      if (!body || !Array.isArray(body.passkeys)) {
        retryNotice(errorBox, `Could not list your passkeys (HTTP ${res.status}).`, () => load().catch(() => {}));
        return;
      }
      passkeys = body.passkeys.filter((k) => k && typeof k.id === "string" && typeof k.name === "string");
      status.textContent = passkeys.length === 1 ? "1 passkey" : `${passkeys.length} passkeys`;
      render();
    } finally {
      card.setAttribute("aria-busy", "false");
      reload.disabled = false;
    }
  }

  async function register() {
    clearNotices();
    if (!webauthn.supported()) {
      notice(errorBox, "alert", "This browser does not support passkeys.");
      return;
    }
    const name = nameInput.value.trim() || "Passkey";
    setBusy(add, true, "Waiting for your passkey…");
    try {
      const begin = await session.api("/user/passkeys/begin", withCode({ method: "POST" }));
      if (!begin.ok) {
        await problem(begin);
        return;
      }
      stepUp.done();
      const { ceremony, options } = (await readJSON(begin)) || {};
      let credential;
      try {
        credential = await webauthn.create(options);
      } catch (err) {
        notice(errorBox, "alert", webauthn.failureText(err));
        return;
      }
      const res = await session.api("/user/passkeys", { method: "POST", json: { ceremony, credential, name } });
      if (!res.ok) {
        await problem(res);
        return;
      }
      form.reset();
      notice(doneBox, "check", `Added ${name}. You can now sign in with it.`);
      await load().catch(() => {});
      onChange();
    } catch (err) {
      unreachable(err);
    } finally {
      setBusy(add, false, "Add a passkey");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!add.disabled) {
      register();
    }
  });
  reload.addEventListener("click", () => load().catch(() => {}));
  nameInput.addEventListener("input", () => nameInput.removeAttribute("aria-invalid"));
  return { load };
}
