// jwtgate signup page: open signup, or signup with an invitation whose
// token arrives in the link's #invitation= fragment. The server decides
// the address of an invited account; the page only shows it.

import { $, notice } from "./lib/dom.js";
import { passwordProblem, nameProblem } from "./lib/validate.js";
import { fragmentParam, post, busy, fail, clear } from "./lib/form.js";
import { accounts } from "./lib/config.js";

const form = $("signup-form");
const name = $("name");
const email = $("email");
const password = $("password");
const confirm = $("confirm-password");
const submit = $("submit");
const errorBox = $("signup-error");
const doneBox = $("signup-done");
const inputs = [name, email, password, confirm];
const invitation = fragmentParam("invitation");

// With an invitation, ask the server whom it is for before the user types.
async function checkInvitation() {
  if (!invitation) {
    return;
  }
  $("signup-lead").textContent = "You were invited. Choose a name and a password.";
  const r = await post("/signup/invitation", { invitation });
  if (!r.ok) {
    form.hidden = true;
    fail(errorBox, r.code === "invalid_token" ? "This invitation is invalid, has expired or was already used. Ask for a new one." : r.message);
    return;
  }
  const body = await r.res.json();
  email.value = body.email;
  email.readOnly = true;
  email.required = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clear(errorBox, inputs);
  const problem =
    nameProblem(name.value) ||
    passwordProblem(password.value) ||
    (password.value !== confirm.value ? "The two passwords differ." : "");
  if (problem) {
    fail(errorBox, problem, problem.includes("passwords differ") ? confirm : problem.includes("password") ? password : name);
    return;
  }
  busy(form, submit, true, "Creating…");
  const r = await post("/signup", { name: name.value, password: password.value, email: email.value, invitation });
  busy(form, submit, false, "Create account");
  if (!r.ok) {
    const field = r.code === "conflict" ? (r.message.includes("email") ? email : name) : r.code === "invalid_request" ? password : null;
    fail(errorBox, r.message, field);
    return;
  }
  const body = await r.res.json();
  form.hidden = true;
  const link = document.createElement("a");
  link.href = "/login";
  link.className = "notice-action";
  link.textContent = "Log in";
  notice(
    doneBox,
    "check",
    body.verification_sent
      ? `Account created. We sent a link to ${body.email}: open it to confirm your address, then log in.`
      : "Account created. You can log in now.",
    link,
  );
});

if (accounts.signup === "closed" || (accounts.signup === "invite" && !invitation)) {
  form.hidden = true;
  fail(
    errorBox,
    accounts.signup === "closed"
      ? "This server does not take signups. Ask an administrator for an account."
      : "Signing up needs an invitation: open the link from your invitation email.",
  );
} else {
  checkInvitation();
}
