// The home page's authenticator-app panel (TOTP): set it up (POST
// /user/totp, the QR code from GET /user/totp/qr.png and the key as text,
// then POST /user/totp/confirm with a code), show the ten recovery codes
// once, make new ones (POST /user/recovery-codes with a code), turn it off (DELETE
// /user/totp with the password and a code). What the user has comes from
// GET /user/factors.

import { $, el, notice, setBusy, sentence, clearInvalid } from "../lib/dom.js";
import { readJSON, errorOf, busyText } from "../lib/http.js";
import { SessionEnded } from "../lib/session.js";

// createTOTPPanel drives the panel for session; it returns {load,
// setUser}. load reads GET /user/factors and rejects with SessionEnded
// when the session ended.
export function createTOTPPanel(session) {
  const card = $("totp-card");
  if (!card) {
    return { load: async () => null, setUser() {}, changed() {} };
  }
  const statusText = $("totp-status");
  const errorBox = $("totp-error");
  const doneBox = $("totp-done");
  const start = $("totp-start");
  const recoveryForm = $("recovery-form");
  const recoveryCode = $("recovery-code");
  const regenerate = $("recovery-regenerate");
  const enrol = $("totp-enrol");
  const qr = $("totp-qr");
  const secret = $("totp-secret");
  const confirmForm = $("totp-confirm-form");
  const code = $("totp-code");
  const confirm = $("totp-confirm");
  const cancel = $("totp-cancel");
  const recovery = $("recovery");
  const codes = $("recovery-codes");
  const saved = $("recovery-saved");
  const disableForm = $("totp-disable-form");
  const disableUser = $("totp-disable-username");
  const disablePassword = $("totp-disable-password");
  const disableCode = $("totp-disable-code");
  const disable = $("totp-disable");

  let factors = null;

  function clearNotices() {
    errorBox.replaceChildren();
    doneBox.replaceChildren();
  }

  async function problem(res, input) {
    const { code, message } = await errorOf(res);
    if (code === "step_up_required") {
      // A user whose factor is a passkey: only a fresh sign-in steps up.
      notice(errorBox, "alert", "To change your second factors, log out and sign in again with your passkey, then try again within 5 minutes.");
      return;
    }
    notice(errorBox, "alert", sentence(message) || busyText(res));
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  function unreachable(err) {
    if (!(err instanceof SessionEnded)) {
      notice(errorBox, "alert", "Could not reach the server. Please try again.");
    }
  }

  // show draws the panel for what the user has; the enrolment and the
  // recovery codes stay as they are while shown.
  function show() {
    const on = !!(factors && factors.totp);
    const left = factors && typeof factors.recovery_codes === "number" ? factors.recovery_codes : 0;
    statusText.textContent = on
      ? `On. ${left === 1 ? "1 recovery code" : `${left} recovery codes`} left.`
      : "Off. Your password alone signs you in, unless you use a passkey.";
    card.classList.toggle("is-on", on);
    const busyElsewhere = !enrol.hidden || !recovery.hidden;
    start.hidden = on || busyElsewhere;
    recoveryForm.hidden = !on || busyElsewhere;
    disableForm.hidden = !on || busyElsewhere;
  }

  // load reads GET /user/factors, shows it, and returns it (null when it
  // could not be read).
  function load() {
    return (async () => {
      const res = await session.api("/user/factors");
      factors = res.ok ? await readJSON(res) : null;
      show();
      return factors;
    })();
  }

  function showCodes(list, why) {
    codes.replaceChildren(...list.map((c) => el("li", "code", c)));
    recovery.hidden = false;
    enrol.hidden = true;
    notice(doneBox, "check", why);
    show();
    $("recovery-title").focus();
  }

  async function begin() {
    clearNotices();
    setBusy(start, true);
    let res;
    try {
      res = await session.api("/user/totp", { method: "POST" });
    } catch (err) {
      setBusy(start, false);
      unreachable(err);
      return;
    }
    setBusy(start, false);
    if (!res.ok) {
      await problem(res);
      return;
    }
    const body = await readJSON(res);
    if (!body || typeof body.secret !== "string") {
      notice(errorBox, "alert", "The server sent an answer this page does not understand.");
      return;
    }
    secret.textContent = body.secret.replace(/(.{4})(?=.)/g, "$1 ");
    secret.dataset.secret = body.secret;
    secret.dataset.uri = typeof body.uri === "string" ? body.uri : "";
    // The QR code of the pending key, drawn by the server; a new URL each
    // time so that no cached image of an older key shows.
    qr.src = `/user/totp/qr.png?v=${Date.now()}`;
    enrol.hidden = false;
    confirmForm.reset();
    show();
    code.focus();
  }

  async function confirmCode() {
    clearNotices();
    clearInvalid([code]);
    const value = code.value.replace(/\s+/g, "");
    if (!/^[0-9]{6}$/.test(value)) {
      notice(errorBox, "alert", "Enter the six digits the app shows.");
      code.setAttribute("aria-invalid", "true");
      code.focus();
      return;
    }
    setBusy(confirm, true);
    let res;
    try {
      res = await session.api("/user/totp/confirm", { method: "POST", json: { code: value } });
    } catch (err) {
      setBusy(confirm, false);
      unreachable(err);
      return;
    }
    setBusy(confirm, false);
    if (!res.ok) {
      await problem(res, code);
      code.value = "";
      return;
    }
    const body = await readJSON(res);
    qr.removeAttribute("src");
    secret.textContent = "";
    delete secret.dataset.secret;
    factors = { ...(factors || {}), totp: true, recovery_codes: body && Array.isArray(body.recovery_codes) ? body.recovery_codes.length : 0 };
    showCodes(body && Array.isArray(body.recovery_codes) ? body.recovery_codes : [], "The authenticator app is on: from now on, signing in asks for a code.");
  }

  async function newCodes() {
    clearNotices();
    clearInvalid([recoveryCode]);
    const value = recoveryCode.value.replace(/\s+/g, "");
    if (!/^[0-9]{6}$/.test(value)) {
      notice(errorBox, "alert", "Enter the six digits the app shows.");
      recoveryCode.setAttribute("aria-invalid", "true");
      recoveryCode.focus();
      return;
    }
    setBusy(regenerate, true);
    let res;
    try {
      res = await session.api("/user/recovery-codes", { method: "POST", json: { code: value } });
    } catch (err) {
      setBusy(regenerate, false);
      unreachable(err);
      return;
    }
    setBusy(regenerate, false);
    if (!res.ok) {
      await problem(res, recoveryCode);
      recoveryCode.value = "";
      return;
    }
    recoveryForm.reset();
    const body = await readJSON(res);
    const list = body && Array.isArray(body.recovery_codes) ? body.recovery_codes : [];
    factors = { ...(factors || {}), recovery_codes: list.length };
    showCodes(list, "New recovery codes: the old ones no longer work.");
  }

  async function turnOff() {
    clearNotices();
    clearInvalid([disablePassword, disableCode]);
    if (!disablePassword.value) {
      notice(errorBox, "alert", "Enter your password.");
      disablePassword.setAttribute("aria-invalid", "true");
      disablePassword.focus();
      return;
    }
    const value = disableCode.value.trim();
    if (!value) {
      notice(errorBox, "alert", "Enter a code from the app, or a recovery code.");
      disableCode.setAttribute("aria-invalid", "true");
      disableCode.focus();
      return;
    }
    setBusy(disable, true);
    let res;
    try {
      res = await session.api("/user/totp", { method: "DELETE", json: { password: disablePassword.value, code: value } });
    } catch (err) {
      setBusy(disable, false);
      unreachable(err);
      return;
    }
    setBusy(disable, false);
    if (!res.ok) {
      await problem(res, disableCode);
      return;
    }
    disableForm.reset();
    factors = { ...(factors || {}), totp: false, recovery_codes: 0 };
    notice(doneBox, "check", "The authenticator app is off.");
    show();
    start.focus();
  }

  start.addEventListener("click", begin);
  recoveryForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!regenerate.disabled) {
      newCodes();
    }
  });
  confirmForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!confirm.disabled) {
      confirmCode();
    }
  });
  cancel.addEventListener("click", () => {
    enrol.hidden = true;
    qr.removeAttribute("src");
    clearNotices();
    show();
    start.focus();
  });
  saved.addEventListener("click", () => {
    recovery.hidden = true;
    codes.replaceChildren();
    doneBox.replaceChildren();
    show();
    statusText.focus();
  });
  disableForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!disable.disabled) {
      turnOff();
    }
  });
  for (const input of [code, recoveryCode, disablePassword, disableCode]) {
    input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
  }
  statusText.tabIndex = -1;
  return {
    load,
    setUser(name) {
      disableUser.value = name;
    },
    // changed re-reads the factors after another panel changed them.
    changed: () => load().catch(() => {}),
  };
}
