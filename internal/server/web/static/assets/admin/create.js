// The admin page's "Create a user" form (POST /admin/users), checked first
// with the server's limits (lib/validate.js).

import { $, fieldProblem, clearInvalid, setBusy } from "../lib/dom.js";
import { readJSON } from "../lib/http.js";
import { nameProblem, parseRoles, passwordProblem, rolesProblem } from "../lib/validate.js";
import { problem } from "./api.js";

// createUserForm drives the form; users is the users panel (users.js).
export function createUserForm({ call, quiet, users }) {
  const form = $("create-form");
  const nameInput = $("create-name");
  const passwordInput = $("create-password");
  const rolesInput = $("create-roles");
  const submit = $("create-submit");
  const errorBox = $("create-error");
  const usersDone = $("users-done");
  const inputs = [nameInput, passwordInput, rolesInput];

  let creating = false;

  function setCreateBusy(on) {
    creating = on;
    setBusy(submit, on, on ? "Creating…" : "Create user");
    form.setAttribute("aria-busy", on ? "true" : "false");
    for (const input of inputs) {
      input.readOnly = on;
    }
  }

  // check returns the first problem with the form as [text, field], or null.
  function check(name, password, roles) {
    const checks = [
      [nameProblem(name), nameInput],
      [passwordProblem(password), passwordInput],
      [rolesProblem(roles), rolesInput],
    ];
    return checks.find(([text]) => text) || null;
  }

  async function createUser() {
    errorBox.replaceChildren();
    usersDone.replaceChildren();
    clearInvalid(inputs);
    const name = nameInput.value.trim();
    const password = passwordInput.value;
    const roles = parseRoles(rolesInput.value);
    const bad = check(name, password, roles);
    if (bad) {
      fieldProblem(errorBox, ...bad);
      return;
    }
    setCreateBusy(true);
    let res;
    try {
      res = await call("/admin/users", { method: "POST", json: { name, password, roles } });
    } catch (err) {
      setCreateBusy(false);
      if (!quiet(err)) {
        fieldProblem(errorBox, "Could not reach the server: the user was not created.");
      }
      return;
    }
    setCreateBusy(false);
    if (res.ok) {
      const body = await readJSON(res);
      const created = body && typeof body.name === "string" ? body.name : name;
      form.reset();
      users.created(created);
      users.done(`Created ${created}${roles.length ? ` with the roles ${roles.join(", ")}` : ""}.`);
      users.changed();
      nameInput.focus();
      return;
    }
    if (res.status === 409) {
      fieldProblem(errorBox, `The name ${name} is taken. Choose another one.`, nameInput);
      return;
    }
    const text = await problem(res, "The user was not created");
    const lower = text.toLowerCase();
    const field = lower.includes("password") ? passwordInput : lower.includes("role") ? rolesInput : lower.includes("name") ? nameInput : null;
    fieldProblem(errorBox, text, field);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!creating) {
      createUser();
    }
  });
  clearInvalid(inputs, true);

  // An emptied form has nothing to complain about.
  form.addEventListener("reset", () => {
    errorBox.replaceChildren();
    clearInvalid(inputs);
  });
}
