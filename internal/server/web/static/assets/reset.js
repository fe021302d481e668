// jwtgate password reset page: the token comes in the link's #token=
// fragment; the new password is posted with it once.

import { $, notice } from "./lib/dom.js";
import { passwordProblem } from "./lib/validate.js";
import { fragmentParam, post, busy, fail, clear } from "./lib/form.js";

const form = $("reset-form");
const password = $("password");
const confirm = $("confirm-password");
const submit = $("submit");
const errorBox = $("reset-error");
const token = fragmentParam("token");

if (!token) {
  form.hidden = true;
  fail(errorBox, "This link has no token. Open the link from the email again, or ask for a new one.");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clear(errorBox, [password, confirm]);
  const problem = passwordProblem(password.value, "The new password");
  if (problem) {
    fail(errorBox, problem, password);
    return;
  }
  if (password.value !== confirm.value) {
    fail(errorBox, "The two passwords differ.", confirm);
    return;
  }
  busy(form, submit, true, "Saving…");
  const r = await post("/password/reset", { token, password: password.value });
  busy(form, submit, false, "Set the new password");
  if (!r.ok) {
    if (r.code === "invalid_token") {
      form.hidden = true;
      const again = document.createElement("a");
      again.href = "/password/forgot";
      again.className = "notice-action";
      again.textContent = "Ask for a new link";
      notice(errorBox, "alert", "This link is invalid, has expired or was already used.", again);
      return;
    }
    fail(errorBox, r.message, password);
    return;
  }
  form.hidden = true;
  const login = document.createElement("a");
  login.href = "/login";
  login.className = "notice-action";
  login.textContent = "Log in";
  notice($("reset-done"), "check", "Your password is changed, and every session was signed out.", login);
});
