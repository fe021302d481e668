// The admin page's dialogs for one user: roles (PUT .../roles), reset the
// password (POST .../password), delete (DELETE). Each opens modal, takes the
// focus to its first field and gives it back to the button that opened it.

import { $, fieldProblem, setBusy } from "../lib/dom.js";
import { parseRoles, passwordProblem, rolesProblem } from "../lib/validate.js";
import { problem, userPath } from "./api.js";

// createDialogs drives the dialogs; users is the users panel (users.js),
// audit the audit log (audit.js), shown() whether the admin page shows. It
// returns open(action, user) for action "roles", "password" or "delete",
// and closeAll().
export function createDialogs({ call, quiet, users, audit, shown }) {
  const rolesDialog = $("roles-dialog");
  const rolesForm = $("roles-form");
  const rolesInput = $("roles-input");
  const rolesSubmit = $("roles-submit");
  const rolesError = $("roles-error");

  const passwordDialog = $("password-dialog");
  const resetForm = $("reset-form");
  const resetUsername = $("reset-username");
  const resetPassword = $("reset-password");
  const resetConfirm = $("reset-confirm");
  const resetSubmit = $("reset-submit");
  const resetError = $("reset-error");

  const deleteDialog = $("delete-dialog");
  const deleteForm = $("delete-form");
  const deleteConfirm = $("delete-confirm");
  const deleteSubmit = $("delete-submit");
  const deleteError = $("delete-error");

  const dialogs = [rolesDialog, passwordDialog, deleteDialog];

  // The dialog that is open, for whom, and what gets the focus back.
  let dialogUser = null;
  let dialogReturn = null; // {name, action}
  let dialogBusy = false;

  function openDialog(dialog, u, action, errorBox) {
    closeDialogs();
    dialogUser = u;
    dialogReturn = { name: u.name, action };
    dialogBusy = false;
    for (const span of dialog.querySelectorAll(".dialog-name")) {
      span.textContent = u.name;
    }
    errorBox.replaceChildren();
    for (const input of dialog.querySelectorAll("input")) {
      input.removeAttribute("aria-invalid");
    }
    dialog.showModal();
  }

  function closeDialogs() {
    for (const d of dialogs) {
      if (d.open) {
        d.close();
      }
    }
  }

  for (const d of dialogs) {
    // Escape closes the dialog, except while its request is in flight.
    d.addEventListener("cancel", (event) => {
      if (dialogBusy) {
        event.preventDefault();
      }
    });
    // Give the focus back to the button that opened it, or, when its row
    // went away, to the list's heading.
    d.addEventListener("close", () => {
      const back = dialogReturn;
      dialogReturn = null;
      dialogUser = null;
      if (back && shown()) {
        (users.rowButton(back.name, back.action) || users.title).focus();
      }
    });
    for (const b of d.querySelectorAll("[data-close]")) {
      b.addEventListener("click", () => {
        if (!dialogBusy) {
          d.close();
        }
      });
    }
  }

  // dialogRequest sends a dialog's request with its submit button busy.
  // It returns the answer, or null after reporting a failure.
  async function dialogRequest(submit, busyLabel, idleLabel, errorBox, path, options, what) {
    dialogBusy = true;
    setBusy(submit, true, busyLabel);
    try {
      return await call(path, options);
    } catch (err) {
      if (!quiet(err)) {
        fieldProblem(errorBox, `Could not reach the server: ${what}.`);
      }
      return null;
    } finally {
      dialogBusy = false;
      setBusy(submit, false, idleLabel);
    }
  }

  // Roles.

  function openRoles(u) {
    rolesInput.value = (Array.isArray(u.roles) ? u.roles : []).join(", ");
    openDialog(rolesDialog, u, "roles", rolesError);
    rolesInput.select();
  }

  rolesForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const u = dialogUser;
    if (!u || dialogBusy) {
      return;
    }
    rolesError.replaceChildren();
    rolesInput.removeAttribute("aria-invalid");
    const roles = parseRoles(rolesInput.value);
    const bad = rolesProblem(roles);
    if (bad) {
      fieldProblem(rolesError, bad, rolesInput);
      return;
    }
    const res = await dialogRequest(rolesSubmit, "Saving…", "Save roles", rolesError,
      userPath(u.name, "/roles"), { method: "PUT", json: { roles } }, "the roles were not changed");
    if (!res) {
      return;
    }
    if (res.ok) {
      rolesDialog.close();
      users.done(`${u.name} now has ${roles.length ? `the roles ${roles.join(", ")}` : "no roles"}. Signed-in sessions get them when their access token is next renewed.`);
      users.changed();
      return;
    }
    fieldProblem(rolesError, await problem(res, "The roles were not changed"), res.status === 400 ? rolesInput : null);
  });

  // Reset password.

  function openReset(u) {
    resetForm.reset();
    resetUsername.value = u.name;
    openDialog(passwordDialog, u, "password", resetError);
  }

  resetForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const u = dialogUser;
    if (!u || dialogBusy) {
      return;
    }
    resetError.replaceChildren();
    resetPassword.removeAttribute("aria-invalid");
    resetConfirm.removeAttribute("aria-invalid");
    const pw = resetPassword.value;
    const bad = passwordProblem(pw);
    if (bad) {
      fieldProblem(resetError, bad, resetPassword);
      return;
    }
    if (resetConfirm.value !== pw) {
      fieldProblem(resetError, "The two passwords do not match.", resetConfirm);
      return;
    }
    const res = await dialogRequest(resetSubmit, "Resetting…", "Reset password", resetError,
      userPath(u.name, "/password"), { method: "POST", json: { password: pw } }, "the password was not changed");
    if (!res) {
      return;
    }
    if (res.ok) {
      resetForm.reset();
      passwordDialog.close();
      users.done(`The password of ${u.name} was reset, and ${u.name} was signed out everywhere.`);
      audit.changed();
      return;
    }
    fieldProblem(resetError, await problem(res, "The password was not changed"), res.status === 400 ? resetPassword : null);
  });

  // Delete.

  function openDelete(u) {
    deleteForm.reset();
    deleteSubmit.disabled = true;
    openDialog(deleteDialog, u, "delete", deleteError);
  }

  deleteConfirm.addEventListener("input", () => {
    deleteSubmit.disabled = !dialogUser || deleteConfirm.value.trim() !== dialogUser.name;
  });

  deleteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const u = dialogUser;
    if (!u || dialogBusy) {
      return;
    }
    if (deleteConfirm.value.trim() !== u.name) {
      fieldProblem(deleteError, `Type ${u.name} to confirm.`, deleteConfirm);
      return;
    }
    deleteError.replaceChildren();
    const res = await dialogRequest(deleteSubmit, "Deleting…", "Delete user", deleteError,
      userPath(u.name), { method: "DELETE" }, `${u.name} was not deleted`);
    if (!res) {
      return;
    }
    if (res.ok || res.status === 404) {
      // 404: it was gone already; either way it is gone. The row goes at
      // once, so the focus goes to the list's heading.
      users.removed(u.name);
      deleteDialog.close();
      users.done(`Deleted ${u.name}.`);
      users.changed();
      return;
    }
    deleteSubmit.disabled = false;
    fieldProblem(deleteError, await problem(res, `${u.name} was not deleted`));
  });

  const openers = { roles: openRoles, password: openReset, delete: openDelete };
  return Object.freeze({
    open(action, u) {
      openers[action](u);
    },
    closeAll: closeDialogs,
  });
}
