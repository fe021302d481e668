// The public account pages' forms (signup, forgotten and reset password,
// email verification) post JSON and say what happened the same way: this
// module holds that once.

import { notice, setBusy, clearInvalid, sentence } from "./dom.js";
import { request, errorOf, busyText, retryAfterMs } from "./http.js";

// fragmentParam reads NAME from the page's #fragment (where emailed links
// carry their token: a fragment never reaches a server log or a Referer)
// and then drops the fragment from the address bar and history.
export function fragmentParam(name) {
  const value = new URLSearchParams(location.hash.slice(1)).get(name) || "";
  if (location.hash) {
    history.replaceState(null, "", location.pathname + location.search);
  }
  return value;
}

// post sends body to path and returns {ok, status, code, message, res}.
// Network failures and time-outs come back as status 0 with a message for
// the user; so do answers that are not the form's to explain.
export async function post(path, body) {
  let res;
  try {
    res = await request(path, { method: "POST", json: body, timeout: 20000 });
  } catch (err) {
    return {
      ok: false,
      status: 0,
      code: "",
      message:
        err && err.name === "TimeoutError"
          ? "The server took too long to answer. Please try again."
          : "Could not reach the server. Check your connection and try again.",
    };
  }
  if (res.ok) {
    return { ok: true, status: res.status, code: "", message: "", res };
  }
  const { code, message } = await errorOf(res);
  if (res.status === 429) {
    const wait = Math.ceil(retryAfterMs(res) / 1000);
    return { ok: false, status: 429, code, message: `Too many requests. Please try again in ${wait || "a few"} seconds.` };
  }
  if (res.status === 413) {
    return { ok: false, status: 413, code, message: "That is too long. Please shorten what you entered." };
  }
  if (res.status >= 500 && code !== "email_disabled") {
    return { ok: false, status: res.status, code, message: busyText(res) };
  }
  return { ok: false, status: res.status, code, message: sentence(message) || busyText(res) };
}

// busy turns form's submit button and inputs off while a request runs.
export function busy(form, button, on, label) {
  form.setAttribute("aria-busy", on ? "true" : "false");
  for (const input of form.querySelectorAll("input")) {
    input.readOnly = on;
  }
  setBusy(button, on, label);
}

// fail shows text in box and marks input (if any) invalid, focused.
export function fail(box, text, input) {
  notice(box, "alert", text);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

// reset clears box and the inputs' invalid marks.
export function clear(box, inputs) {
  box.replaceChildren();
  clearInvalid(inputs);
}
