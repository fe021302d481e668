// jwtgate login page.
//
// Posts the form as JSON to /login. On success the server sets the HttpOnly
// session cookies and this script goes back to the page a proxy sent the
// browser from (return_to, when lib/returnto.js says it may be followed),
// else to the home page; it never reads, stores or logs the token in the
// reply.
//
// An account with a second factor answers the right password with 401
// mfa_required and a short-lived mfa_token: the page then asks, without a
// reload, for a code (POST /login/mfa) or a passkey (POST
// /login/mfa/passkey/begin, navigator.credentials.get, POST
// /login/mfa/passkey). "Sign in with a passkey" signs in with a passkey
// alone (POST /login/passkey/begin, get, POST /login/passkey). The
// mfa_token lives in this script's memory only.

import { $, notice, sentence } from "./lib/dom.js";
import { request, readJSON, errorOf, retryAfterMs } from "./lib/http.js";
import { validUser } from "./lib/session.js";
import { afterLogin } from "./lib/returnto.js";
import { passkeys as passkeysOffered } from "./lib/config.js";
import * as webauthn from "./lib/webauthn.js";

const form = $("login-form");
const nameInput = $("name");
const passwordInput = $("password");
const submit = $("submit");
const submitLabel = submit.querySelector(".button-label");
const errorBox = $("login-error");
const toggle = $("toggle-password");
const capsHint = $("caps-hint");
const lead = $("login-lead");
const mfaForm = $("mfa-form");
const mfaCodeField = $("mfa-code-field");
const mfaCode = $("mfa-code");
const mfaSubmit = $("mfa-submit");
const mfaOr = $("mfa-or");
const mfaPasskey = $("mfa-passkey");
const mfaBack = $("mfa-back");
const passkeyLogin = $("passkey-login"); // absent when the server offers no passkeys

// An OpenID Connect app may say who is signing in (login_hint): the name
// field starts with it, and the user may change it.
const loginHint = new URLSearchParams(location.search).get("login_hint");
if (loginHint && !nameInput.value) {
  nameInput.value = loginHint.slice(0, nameInput.maxLength > 0 ? nameInput.maxLength : 64);
}
const passkeyOr = $("passkey-or");
const canPasskey = passkeysOffered && webauthn.supported();

const LABEL = "Log in";
// Logging in hashes a password, and a busy server queues it: wait longer
// than for other requests.
const LOGIN_TIMEOUT_MS = 20000;

let busy = false;
let waitTimer = 0;
// The second step's token, between the password and the second factor.
let mfaToken = "";

function showError(text) {
  notice(errorBox, "alert", text);
}

function clearError() {
  errorBox.replaceChildren();
  nameInput.removeAttribute("aria-invalid");
  passwordInput.removeAttribute("aria-invalid");
  mfaCode.removeAttribute("aria-invalid");
}

function setBusy(on) {
  busy = on;
  submit.disabled = on;
  submit.classList.toggle("is-busy", on);
  form.setAttribute("aria-busy", on ? "true" : "false");
  nameInput.readOnly = on;
  passwordInput.readOnly = on;
  submitLabel.textContent = on ? "Logging in…" : LABEL;
}

// After a 429, keep the button off until the server's Retry-After has passed.
function holdFor(seconds) {
  clearInterval(waitTimer);
  let left = seconds;
  submit.disabled = true;
  submitLabel.textContent = `Try again in ${left} s`;
  waitTimer = setInterval(() => {
    left -= 1;
    if (left <= 0) {
      clearInterval(waitTimer);
      waitTimer = 0;
      submit.disabled = false;
      submitLabel.textContent = LABEL;
      return;
    }
    submitLabel.textContent = `Try again in ${left} s`;
  }, 1000);
}

function failedCredentials() {
  showError("Invalid name or password");
  nameInput.setAttribute("aria-invalid", "true");
  passwordInput.setAttribute("aria-invalid", "true");
  passwordInput.value = "";
  passwordInput.focus();
}

// send posts json to path and reports a failure to reach the server; it
// returns the answer, or null when there was none.
async function send(path, json) {
  try {
    return await request(path, { method: "POST", json, timeout: LOGIN_TIMEOUT_MS });
  } catch (err) {
    showError(
      err && err.name === "TimeoutError"
        ? "The server took too long to answer. Please try again."
        : "Could not reach the server. Check your connection and try again.",
    );
    return null;
  }
}

async function login() {
  clearError();
  setBusy(true);
  const res = await send("/login", { name: nameInput.value, password: passwordInput.value });
  if (!res) {
    setBusy(false);
    return;
  }
  if (res.ok) {
    // The session cookie is set; the token in the body is not needed here.
    // Stay busy while the browser navigates.
    location.assign(afterLogin());
    return;
  }

  setBusy(false);
  const body = (await readJSON(res)) || {};
  const code = typeof body.error === "string" ? body.error : "";
  const message = typeof body.message === "string" ? body.message : "";
  if (res.status === 401 && code === "mfa_required" && typeof body.mfa_token === "string") {
    secondStep(body.mfa_token, Array.isArray(body.methods) ? body.methods : []);
    return;
  }
  failed(res, code, message);
}

// failed says what went wrong with a login answer that is not a success.
function failed(res, code, message) {
  switch (res.status) {
    case 400:
    case 401:
      if (code === "invalid_request" && message) {
        showError(`Please check what you entered: ${message}`);
        passwordInput.focus();
      } else {
        failedCredentials();
      }
      return;
    case 413:
      showError("That is too long. Please enter a shorter name or password.");
      return;
    case 429:
      throttled(res);
      return;
    case 403:
      if (code === "email_unverified") {
        showError("Confirm your email address first: open the link we sent you, then log in.");
        return;
      }
      showError(`Something went wrong (HTTP ${res.status}). Please try again.`);
      return;
    case 503:
      showError("The server is busy right now. Please try again in a moment.");
      return;
    default:
      showError(`Something went wrong (HTTP ${res.status}). Please try again.`);
  }
}

function throttled(res) {
  const ms = retryAfterMs(res);
  const seconds = ms > 0 ? Math.max(1, Math.ceil(ms / 1000)) : 0;
  showError(seconds > 0 ? `Too many attempts, try again in ${seconds} seconds` : "Too many attempts, try again in a moment");
  if (seconds > 0 && mfaForm.hidden) {
    holdFor(seconds);
  }
}

// secondStep swaps the password form for the second factor's.
function secondStep(token, methods) {
  mfaToken = token;
  const passkey = canPasskey && methods.includes("webauthn");
  const codes = methods.length === 0 || methods.some((m) => m !== "webauthn");
  form.hidden = true;
  if (passkeyLogin) {
    passkeyLogin.hidden = true;
    passkeyOr.hidden = true;
  }
  mfaCodeField.hidden = !codes;
  mfaSubmit.hidden = !codes;
  mfaPasskey.hidden = !passkey;
  mfaOr.hidden = !(codes && passkey);
  mfaForm.reset();
  mfaForm.hidden = false;
  lead.textContent = codes
    ? "Your password was right. Now enter the code from your authenticator app, or one of your recovery codes."
    : "Your password was right. Now confirm with your passkey.";
  (codes ? mfaCode : mfaPasskey).focus();
}

// firstStep goes back to the password form (start over, or the second
// step's token expired).
function firstStep(text) {
  mfaToken = "";
  mfaForm.hidden = true;
  form.hidden = false;
  if (passkeyLogin && canPasskey) {
    passkeyLogin.hidden = false;
    passkeyOr.hidden = false;
  }
  lead.textContent = "Enter your name and password.";
  passwordInput.value = "";
  if (text) {
    showError(text);
  } else {
    clearError();
  }
  passwordInput.focus();
}

function setMFABusy(button, on, label) {
  busy = on;
  mfaForm.setAttribute("aria-busy", on ? "true" : "false");
  mfaCode.readOnly = on;
  for (const b of [mfaSubmit, mfaPasskey, mfaBack]) {
    b.disabled = on;
  }
  setButtonBusy(button, on, label);
}

function setButtonBusy(button, on, label) {
  button.disabled = on;
  button.classList.toggle("is-busy", on);
  button.querySelector(".button-label").textContent = label;
}

// secondFailed reports a refused second step: a wrong code stays on it; a
// spent or expired mfa_token sends the user back to the password.
function secondFailed(res, code, message) {
  if (res.status === 429) {
    throttled(res);
    return;
  }
  if (code === "invalid_mfa_token") {
    firstStep("That took too long, or the step was used already. Please enter your password again.");
    return;
  }
  if (res.status === 400 || res.status === 401) {
    showError(code === "invalid_code" || !message ? "That code is not right, or it was used already. Please try again." : sentence(message));
    mfaCode.setAttribute("aria-invalid", "true");
    mfaCode.value = "";
    mfaCode.focus();
    return;
  }
  showError(res.status === 503 ? "The server is busy right now. Please try again in a moment." : `Something went wrong (HTTP ${res.status}). Please try again.`);
}

async function submitCode() {
  clearError();
  const value = mfaCode.value.trim();
  if (!value) {
    showError("Enter the code from your authenticator app, or a recovery code.");
    mfaCode.setAttribute("aria-invalid", "true");
    mfaCode.focus();
    return;
  }
  setMFABusy(mfaSubmit, true, "Verifying…");
  const res = await send("/login/mfa", { mfa_token: mfaToken, code: value });
  if (res && res.ok) {
    location.assign(afterLogin());
    return;
  }
  setMFABusy(mfaSubmit, false, "Verify");
  if (res) {
    const { code, message } = await errorOf(res);
    secondFailed(res, code, message);
  }
}

// withPasskey runs a passkey ceremony: begin at beginPath with body, ask
// the browser, finish at finishPath. It returns the finish answer, or null
// when it reported a failure itself.
async function withPasskey(beginPath, finishPath, body) {
  const begin = await send(beginPath, body);
  if (!begin) {
    return null;
  }
  if (!begin.ok) {
    return begin;
  }
  const { ceremony, options } = (await readJSON(begin)) || {};
  let credential;
  try {
    credential = await webauthn.get(options);
  } catch (err) {
    showError(webauthn.failureText(err));
    return null;
  }
  return send(finishPath, { ...body, ceremony, credential });
}

async function secondPasskey() {
  clearError();
  setMFABusy(mfaPasskey, true, "Waiting for your passkey…");
  const res = await withPasskey("/login/mfa/passkey/begin", "/login/mfa/passkey", { mfa_token: mfaToken });
  if (res && res.ok) {
    location.assign(afterLogin());
    return;
  }
  setMFABusy(mfaPasskey, false, "Use a passkey");
  if (res) {
    const { code, message } = await errorOf(res);
    if (code === "passkey_refused" || code === "invalid_ceremony") {
      showError("That passkey was not accepted. Try again, or use a code.");
      return;
    }
    secondFailed(res, code, message);
  }
}

async function passwordless() {
  clearError();
  busy = true;
  setButtonBusy(passkeyLogin, true, "Waiting for your passkey…");
  submit.disabled = true;
  const res = await withPasskey("/login/passkey/begin", "/login/passkey", {});
  if (res && res.ok) {
    location.assign(afterLogin());
    return;
  }
  busy = false;
  setButtonBusy(passkeyLogin, false, "Sign in with a passkey");
  submit.disabled = !!waitTimer;
  if (!res) {
    return;
  }
  const { code, message } = await errorOf(res);
  if (code === "passkey_refused" || code === "invalid_ceremony") {
    showError("That passkey was not accepted here. Use another one, or your name and password.");
    return;
  }
  failed(res, code, message);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (busy || waitTimer) {
    return;
  }
  login();
});

mfaForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!busy && !mfaSubmit.hidden) {
    submitCode();
  }
});
mfaPasskey.addEventListener("click", () => {
  if (!busy) {
    secondPasskey();
  }
});
mfaBack.addEventListener("click", () => {
  if (!busy) {
    firstStep("");
  }
});
if (passkeyLogin && canPasskey) {
  passkeyLogin.hidden = false;
  passkeyOr.hidden = false;
  passkeyLogin.addEventListener("click", () => {
    if (!busy && !waitTimer) {
      passwordless();
    }
  });
}

for (const input of [nameInput, passwordInput, mfaCode]) {
  input.addEventListener("input", () => {
    input.removeAttribute("aria-invalid");
  });
}

// Show or hide the password. The label stays "Show password" and
// aria-pressed carries the state, as for any toggle button.
toggle.addEventListener("click", () => {
  const show = toggle.getAttribute("aria-pressed") !== "true";
  toggle.setAttribute("aria-pressed", show ? "true" : "false");
  toggle.title = show ? "Hide password" : "Show password";
  passwordInput.type = show ? "text" : "password";
});

function updateCaps(event) {
  if (typeof event.getModifierState === "function") {
    capsHint.hidden = !event.getModifierState("CapsLock");
  }
}
passwordInput.addEventListener("keydown", updateCaps);
passwordInput.addEventListener("keyup", updateCaps);
passwordInput.addEventListener("blur", () => {
  capsHint.hidden = true;
});

// A page restored from the back/forward cache must not stay busy.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    setBusy(false);
  }
});

// Already logged in? Say so, with a link home. Failing quietly is fine:
// the form works either way.
(async () => {
  try {
    const res = await request("/user");
    const user = res.ok ? await readJSON(res) : null;
    if (validUser(user)) {
      $("already-name").textContent = user.name;
      $("already").hidden = false;
    }
  } catch {
    // Not reachable now; the form will report it on submit.
  }
})();
