// jwtgate login page.
//
// Posts the form as JSON to /login. On success the server sets the HttpOnly
// session cookies and this script goes back to the page a proxy sent the
// browser from (return_to, when lib/returnto.js says it may be followed),
// else to the home page; it never reads, stores or logs the token in the
// reply.

import { $, notice } from "./lib/dom.js";
import { request, readJSON, errorOf, retryAfterMs } from "./lib/http.js";
import { validUser } from "./lib/session.js";
import { afterLogin } from "./lib/returnto.js";

const form = $("login-form");
const nameInput = $("name");
const passwordInput = $("password");
const submit = $("submit");
const submitLabel = submit.querySelector(".button-label");
const errorBox = $("login-error");
const toggle = $("toggle-password");
const capsHint = $("caps-hint");

const LABEL = "Log in";
// Logging in hashes a password, and a busy server queues it: wait longer
// than for other requests.
const LOGIN_TIMEOUT_MS = 20000;

let busy = false;
let waitTimer = 0;

function showError(text) {
  notice(errorBox, "alert", text);
}

function clearError() {
  errorBox.replaceChildren();
  nameInput.removeAttribute("aria-invalid");
  passwordInput.removeAttribute("aria-invalid");
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

async function login() {
  clearError();
  setBusy(true);
  let res;
  try {
    res = await request("/login", {
      method: "POST",
      json: { name: nameInput.value, password: passwordInput.value },
      timeout: LOGIN_TIMEOUT_MS,
    });
  } catch (err) {
    setBusy(false);
    showError(
      err && err.name === "TimeoutError"
        ? "The server took too long to answer. Please try again."
        : "Could not reach the server. Check your connection and try again.",
    );
    return;
  }

  if (res.ok) {
    // The session cookie is set; the token in the body is not needed here.
    // Stay busy while the browser navigates.
    location.assign(afterLogin());
    return;
  }

  setBusy(false);
  const { code, message } = await errorOf(res);
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
    case 429: {
      const ms = retryAfterMs(res);
      const seconds = ms > 0 ? Math.max(1, Math.ceil(ms / 1000)) : 0;
      showError(
        seconds > 0 ? `Too many attempts, try again in ${seconds} seconds` : "Too many attempts, try again in a moment",
      );
      if (seconds > 0) {
        holdFor(seconds);
      }
      return;
    }
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

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (busy || waitTimer) {
    return;
  }
  login();
});

for (const input of [nameInput, passwordInput]) {
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
