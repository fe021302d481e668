// The home page's email panel (GET/POST /user/email, POST
// /user/email/resend), present when the server can send email.

import { $, el, notice, setBusy, sentence } from "../lib/dom.js";
import { readJSON, errorOf, busyText } from "../lib/http.js";
import { SessionEnded } from "../lib/session.js";
import { createStepUp } from "../lib/stepup.js";

// createEmailPanel drives the panel for session; it returns {load}.
export function createEmailPanel(session) {
  const card = $("email-card");
  if (!card) {
    return { load: async () => {} };
  }
  const current = $("email-current");
  const form = $("email-form");
  const input = $("new-email");
  const submit = $("email-submit");
  const resend = $("email-resend");
  const errorBox = $("email-error");
  const doneBox = $("email-done");
  const stepUp = createStepUp("email-code");

  function show(body) {
    if (!body || typeof body.email !== "string") {
      current.textContent = "No email address yet.";
      resend.hidden = true;
      return;
    }
    current.replaceChildren("Your address: ", el("strong", "", body.email), body.email_verified ? " (confirmed)" : " (not confirmed yet)");
    resend.hidden = !!body.email_verified;
  }

  async function load() {
    const res = await session.api("/user/email");
    if (res.ok) {
      show(await readJSON(res));
    }
  }

  async function send(path, json, button, label, busyLabel, what) {
    errorBox.replaceChildren();
    doneBox.replaceChildren();
    setBusy(button, true, busyLabel);
    let res;
    try {
      res = await session.api(path, json === undefined ? { method: "POST" } : { method: "POST", json });
    } catch (err) {
      setBusy(button, false, label);
      if (!(err instanceof SessionEnded)) {
        notice(errorBox, "alert", "Could not reach the server. Please try again.");
      }
      return;
    }
    setBusy(button, false, label);
    if (res.ok) {
      stepUp.done();
      notice(doneBox, "check", what);
      return true;
    }
    const { code, message } = await errorOf(res);
    if (stepUp.asked(code)) {
      notice(errorBox, "alert", stepUp.text(code));
      return false;
    }
    notice(errorBox, "alert", sentence(message) || busyText(res));
    return false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const addr = input.value.trim();
    if (!addr) {
      notice(errorBox, "alert", "Enter the new address.");
      input.focus();
      return;
    }
    if (await send("/user/email", stepUp.with({ email: addr }), submit, "Send a confirmation link", "Sending…", `We sent a link to ${addr}. Your address changes once you open it.`)) {
      form.reset();
    }
  });
  resend.addEventListener("click", () => {
    send("/user/email/resend", undefined, resend, "Send the link again", "Sending…", "We sent a new confirmation link.");
  });
  return { load };
}
