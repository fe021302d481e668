// jwtgate login page.
//
// Posts the form as JSON to /login. On success the server sets an HttpOnly
// session cookie and this script goes to the home page; it never reads,
// stores or logs the token in the reply.
"use strict";

(() => {
  const form = document.getElementById("login-form");
  const nameInput = document.getElementById("name");
  const passwordInput = document.getElementById("password");
  const submit = document.getElementById("submit");
  const submitLabel = submit.querySelector(".button-label");
  const errorBox = document.getElementById("login-error");
  const toggle = document.getElementById("toggle-password");
  const capsHint = document.getElementById("caps-hint");
  const already = document.getElementById("already");
  const alreadyName = document.getElementById("already-name");

  const LABEL = "Log in";
  const REQUEST_TIMEOUT_MS = 20000;

  let busy = false;
  let waitTimer = 0;

  // Messages go in with textContent only: a server message is data, not markup.
  function showError(text) {
    const icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    icon.setAttribute("class", "icon notice-icon");
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("focusable", "false");
    const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    use.setAttribute("href", "/assets/icons.svg#alert");
    icon.append(use);
    const span = document.createElement("span");
    span.textContent = text;
    errorBox.replaceChildren(icon, span);
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

  // Retry-After is either delay-seconds or an HTTP date.
  function retryAfterSeconds(res) {
    const raw = (res.headers.get("Retry-After") || "").trim();
    if (/^\d+$/.test(raw)) {
      return Math.max(1, parseInt(raw, 10));
    }
    const when = Date.parse(raw);
    if (!Number.isNaN(when)) {
      return Math.max(1, Math.ceil((when - Date.now()) / 1000));
    }
    return 0;
  }

  async function readJSON(res) {
    try {
      return await res.json();
    } catch {
      return null;
    }
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
      res = await fetch("/login", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ name: nameInput.value, password: passwordInput.value }),
        cache: "no-store",
        credentials: "same-origin",
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
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
      // Stay busy while the browser navigates: back to the page a proxy sent
      // us from (the server only lets an allowed return_to reach this page),
      // else home.
      location.assign(returnTo() || "/");
      return;
    }

    setBusy(false);
    const body = await readJSON(res);
    const code = body && typeof body.error === "string" ? body.error : "";

    switch (res.status) {
      case 400:
      case 401:
        if (code === "invalid_request" && body && typeof body.message === "string" && body.message) {
          showError(`Please check what you entered: ${body.message}`);
          passwordInput.focus();
        } else {
          failedCredentials();
        }
        return;
      case 413:
        showError("That is too long. Please enter a shorter name or password.");
        return;
      case 429: {
        const seconds = retryAfterSeconds(res);
        showError(
          seconds > 0
            ? `Too many attempts, try again in ${seconds} seconds`
            : "Too many attempts, try again in a moment",
        );
        if (seconds > 0) {
          holdFor(seconds);
        }
        return;
      }
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
      const res = await fetch("/user", {
        headers: { Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
      });
      if (!res.ok) {
        return;
      }
      const user = await readJSON(res);
      if (user && typeof user.name === "string" && user.name) {
        alreadyName.textContent = user.name;
        already.hidden = false;
      }
    } catch {
      // Not reachable now; the form will report it on submit.
    }
  })();
})();

// returnTo is the return_to of this page's URL when it is an http(s) URL.
// The server redirects away any return_to that is not on an allowed host
// before this page loads; the scheme check is a second line of defence.
function returnTo() {
  const rt = new URLSearchParams(location.search).get("return_to");
  return rt && /^https?:\/\//i.test(rt) ? rt : "";
}
