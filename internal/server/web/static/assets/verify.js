// jwtgate email verification page: posts the token from the link's
// #token= fragment once, and says what happened.

import { $, notice } from "./lib/dom.js";
import { fragmentParam, post, fail } from "./lib/form.js";

const token = fragmentParam("token");

function loginLink() {
  const a = document.createElement("a");
  a.href = "/login";
  a.className = "notice-action";
  a.textContent = "Log in";
  return a;
}

async function verify() {
  const lead = document.querySelector(".lead");
  if (!token) {
    lead.textContent = "";
    fail($("verify-error"), "This link has no token. Open the link from the email again.");
    return;
  }
  const r = await post("/email/verify", { token });
  lead.textContent = "";
  if (!r.ok) {
    fail($("verify-error"), r.code === "invalid_token" ? "This link is invalid, has expired or was already used." : r.message);
    return;
  }
  notice($("verify-done"), "check", "Your email address is confirmed.", loginLink());
}

verify();
