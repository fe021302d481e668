// Step-up before a sensitive change (password, email, second factors): a
// user with a second factor who did not sign in with it in the last
// minutes must send a fresh code, and the server answers 403
// step_up_required without one. The form then shows its code field
// (templates/fields.html "stepup-code") and the next try sends {"code"}.

import { $ } from "./dom.js";

// createStepUp drives the code field with the id given; it returns
//   with(json)       json plus the code, when the field shows one;
//   asked(code)      the error code of an answer: true when it was a
//                    step-up refusal, the field is now shown and focused,
//                    and text() says what to do;
//   text(code)       that sentence;
//   done()           hide and clear the field after a success.
export function createStepUp(id) {
  const field = $(`${id}-field`);
  const input = $(id);

  if (input) {
    input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
  }

  function shown() {
    return !!field && !field.hidden;
  }

  return Object.freeze({
    with(json) {
      const code = shown() ? input.value.trim() : "";
      return code ? { ...json, code } : json;
    },
    asked(code) {
      if (!field || !(code === "step_up_required" || (shown() && (code === "invalid_code" || code === "no_factor")))) {
        return false;
      }
      field.hidden = false;
      input.value = "";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return true;
    },
    text(code) {
      switch (code) {
        case "invalid_code":
          return "That code is not right, or it was used already. Enter another one and try again.";
        case "no_factor":
          return "You have no authenticator app for a code: log out, sign in again with your passkey, and try again within 5 minutes.";
        default:
          return "This change needs a fresh second factor: enter a code from your authenticator app (or a recovery code) and try again, or sign in again with your passkey.";
      }
    },
    done() {
      if (field) {
        field.hidden = true;
        input.value = "";
        input.removeAttribute("aria-invalid");
      }
    },
  });
}
