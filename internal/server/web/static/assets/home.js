// jwtgate home page: who is logged in, their sessions, the apps they let
// sign them in, their password.
//
// The login-state card (lib/gate.js) asks who is logged in: not logged in
// -> a short countdown, then the login page; an error -> a retry. Logged
// in, the page shows, all at once, "Logged in as NAME" with the roles, the
// list of the account's sessions (home/sessions.js), the connected apps
// (home/apps.js), the password form (home/password.js) and the second
// factors (home/totp.js, home/passkeys.js), and the session refreshes itself
// while it shows.

import { $, el } from "./lib/dom.js";
import { SessionEnded } from "./lib/session.js";
import { createGate } from "./lib/gate.js";
import { createSessionsPanel } from "./home/sessions.js";
import { createPasswordForm } from "./home/password.js";
import { createEmailPanel } from "./home/email.js";
import { createTOTPPanel } from "./home/totp.js";
import { createPasskeysPanel } from "./home/passkeys.js";
import { createAppsPanel } from "./home/apps.js";

const layout = $("layout");
const status = $("status");
const avatar = $("avatar");
const rolesRow = $("roles-row");
const roles = $("roles");
const userID = $("user-id");
// The header's link to the admin page, in a nav shown only for admins.
const siteNav = $("admin-link").closest("nav");
const account = $("account");
const logout = $("logout");
const logoutLabel = logout.querySelector(".button-label");
const logoutError = $("logout-error");

let ticker = 0; // re-renders "last active 3 min ago"
let confined = false; // the session may only enrol a second factor

// confine shows the page of a session that may only enrol a second factor.
function confine(on) {
  confined = on;
  $("mfa-required").hidden = !on;
  for (const id of ["sessions-card", "apps-card", "email-card", "password-card"]) {
    const card = $(id);
    if (card) {
      card.hidden = on;
    }
  }
}

const gate = createGate({
  // Show the whole logged-in page at once, sessions included, so that
  // nothing moves after it appears.
  async enter() {
    try {
      // A session --require-mfa-for confines to enrolment reaches only the
      // second-factor panels: the others would be refused.
      const factors = await totp.load();
      confine(!!(factors && factors.mfa_required));
      await Promise.all(confined ? [passkeys.load()] : [sessions.load(), apps.load(), email.load(), passkeys.load()]);
    } catch (err) {
      if (err instanceof SessionEnded) {
        return false;
      }
    }
    return true;
  },
  shown(user) {
    showUser(user);
    clearInterval(ticker);
    ticker = confined ? 0 : setInterval(() => sessions.updateTimes(), 30000);
  },
  onState(state) {
    const inside = state === "in";
    account.hidden = !inside;
    layout.classList.toggle("is-in", inside);
    if (!inside) {
      siteNav.hidden = true;
      clearInterval(ticker);
      ticker = 0;
    }
  },
  onUser: (user) => showUser(user),
  // The tab shows again: the sessions and apps may have changed meanwhile.
  onResume: () => {
    if (!confined) {
      sessions.load().catch(() => {});
      apps.load().catch(() => {});
    }
  },
  stayText: "You are not logged in. Log in to see your account.",
});
const { session } = gate;
const sessions = createSessionsPanel(session);
const email = createEmailPanel(session);
const totp = createTOTPPanel(session);
const passkeys = createPasskeysPanel(session, totp.changed);
// Disconnecting an app ends its sessions: the sessions list shows it.
const apps = createAppsPanel(session, () => sessions.load().catch(() => {}));
const password = createPasswordForm(session, () => {
  // The server ended the other sessions: show so at once, then check.
  sessions.onlyThis();
  sessions.load().catch(() => {});
  apps.load().catch(() => {});
});

function showUser(user) {
  const name = el("span", "user-name", user.name);
  name.id = "user-name";
  status.replaceChildren("Logged in as ", name);
  document.title = `${user.name} · jwtgate`;
  avatar.textContent = Array.from(user.name.trim())[0] || "?";
  password.setUser(user.name);
  totp.setUser(user.name);

  const list = Array.isArray(user.roles) ? user.roles.filter((r) => typeof r === "string" && r) : [];
  const same = roles.children.length === list.length && list.every((role, i) => roles.children[i].textContent === role);
  if (!same) {
    roles.replaceChildren(...list.map((role) => el("li", "", role)));
  }
  rolesRow.hidden = list.length === 0;
  // The administration page, for administrators (it checks for itself).
  siteNav.hidden = !list.includes("admin");

  const hasID = typeof user.id === "number" || typeof user.id === "string";
  userID.textContent = hasID ? String(user.id) : "";
  userID.parentElement.hidden = !hasID;
}

logout.addEventListener("click", async () => {
  session.leave();
  logout.disabled = true;
  logout.classList.add("is-busy");
  logoutLabel.textContent = "Logging out…";
  logoutError.replaceChildren();
  let done = false;
  try {
    // If the access token has expired, api renews it and logs out for
    // real, so that the session ends on the server too.
    const res = await session.api("/logout", { method: "POST" });
    done = res.ok;
  } catch (err) {
    // SessionEnded: the session was over anyway.
    done = err instanceof SessionEnded;
  }
  if (done) {
    location.assign("/login");
    return;
  }
  session.stay();
  logout.disabled = false;
  logout.classList.remove("is-busy");
  logoutLabel.textContent = "Log out";
  logoutError.textContent = "Could not log out. Please try again.";
});

gate.check();
