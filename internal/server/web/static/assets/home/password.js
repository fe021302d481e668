// The home page's "Change password" form (POST /user/password). The server
// signs the user's other sessions out; onChanged tells the page.

import { $, notice, fieldProblem, clearInvalid } from "../lib/dom.js";
import { errorOf, busyText } from "../lib/http.js";
import { SessionEnded } from "../lib/session.js";
import { passwordProblem } from "../lib/validate.js";
import { createStepUp } from "../lib/stepup.js";

// createPasswordForm drives the form for session; setUser(name) fills in
// the hidden username field password managers read.
export function createPasswordForm(session, onChanged) {
  const form = $("password-form");
  const username = $("password-username");
  const current = $("current-password");
  const next = $("new-password");
  const confirm = $("confirm-password");
  const submit = $("password-submit");
  const submitLabel = submit.querySelector(".button-label");
  const errorBox = $("password-error");
  const doneBox = $("password-done");
  const inputs = [current, next, confirm];

  const stepUp = createStepUp("password-code");
  let changing = false;

  function failed(text, input) {
    doneBox.replaceChildren();
    fieldProblem(errorBox, text, input);
  }

  function setBusy(on) {
    changing = on;
    submit.disabled = on;
    submit.classList.toggle("is-busy", on);
    form.setAttribute("aria-busy", on ? "true" : "false");
    for (const input of inputs) {
      input.readOnly = on;
    }
    submitLabel.textContent = on ? "Changing password…" : "Change password";
  }

  // valid checks what the browser can check, with the server's limits.
  function valid() {
    if (current.value === "") {
      failed("Enter your current password.", current);
      return false;
    }
    const problem = passwordProblem(next.value, "The new password");
    if (problem) {
      failed(problem, next);
      return false;
    }
    if (confirm.value !== next.value) {
      failed("The two new passwords do not match.", confirm);
      return false;
    }
    return true;
  }

  async function change() {
    errorBox.replaceChildren();
    doneBox.replaceChildren();
    clearInvalid(inputs);
    if (!valid()) {
      return;
    }
    setBusy(true);
    let res;
    try {
      res = await session.api("/user/password", {
        method: "POST",
        json: stepUp.with({ current_password: current.value, new_password: next.value }),
      });
    } catch (err) {
      setBusy(false);
      if (!(err instanceof SessionEnded)) {
        failed("Could not reach the server. Your password was not changed.");
      }
      return;
    }
    setBusy(false);
    if (res.ok) {
      form.reset();
      stepUp.done();
      notice(doneBox, "check", "Your password was changed. Your other sessions were signed out.");
      onChanged();
      return;
    }
    const { code, message } = await errorOf(res);
    if (stepUp.asked(code)) {
      doneBox.replaceChildren();
      notice(errorBox, "alert", stepUp.text(code));
    } else if (res.status === 400 && code === "invalid_credentials") {
      current.value = "";
      failed("Your current password is not right.", current);
    } else if (res.status === 400 && code === "invalid_request") {
      failed(message ? `The new password was refused: ${message}.` : "The new password was refused.", next);
    } else if (res.status === 413) {
      failed("That is too long. Please use a shorter password.", next);
    } else if (res.status === 429) {
      const seconds = Math.ceil(session.retryAfterMs(res) / 1000);
      failed(seconds > 0 ? `Too many attempts, try again in ${seconds} seconds.` : "Too many attempts, try again in a moment.");
    } else if (res.status === 401) {
      failed("Your session could not be renewed. Please try again in a moment.");
    } else {
      failed(`${busyText(res)} Your password was not changed.`);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!changing) {
      change();
    }
  });
  clearInvalid(inputs, true);

  return Object.freeze({
    setUser(name) {
      // The default value, so that resetting the form keeps it.
      username.defaultValue = name;
    },
  });
}
