// jwtgate forgotten-password page. The server answers the same for every
// name and address, so the page says the same too.

import { $, notice } from "./lib/dom.js";
import { post, busy, fail, clear } from "./lib/form.js";

const form = $("forgot-form");
const ident = $("ident");
const submit = $("submit");
const errorBox = $("forgot-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clear(errorBox, [ident]);
  const value = ident.value.trim();
  if (!value) {
    fail(errorBox, "Enter your email address or name.", ident);
    return;
  }
  busy(form, submit, true, "Sending…");
  const r = await post("/password/forgot", value.includes("@") ? { email: value } : { name: value });
  busy(form, submit, false, "Send me a link");
  if (!r.ok) {
    fail(errorBox, r.code === "email_disabled" ? "Password reset by email is not available on this server. Ask your administrator." : r.message, ident);
    return;
  }
  form.hidden = true;
  notice($("forgot-done"), "check", "If an account with an email address matches, a link to choose a new password is on its way. It works once, for 30 minutes.");
});
