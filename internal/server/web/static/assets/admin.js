// jwtgate administration page.
//
// The login-state card (lib/gate.js) asks who is logged in, as on the home
// page. A user without the admin role is told so, and the page makes no
// call to the admin API. For an administrator it shows, all at once:
//   Users         admin/users.js, admin/create.js, admin/dialogs.js;
//   Invitations   admin/invitations.js (when signup is not closed);
//   Apps          admin/clients.js (OpenID Connect clients);
//   Signing keys  admin/keys.js;
//   Audit log     admin/audit.js.
// The admin API enforces the role itself; this page only follows it: an
// admin call answered 403 forbidden (the role went) shows the "forbidden"
// state. Everything the server sends goes into the page with textContent
// (or as a property value), never as markup.

import { $ } from "./lib/dom.js";
import { createGate } from "./lib/gate.js";
import { adminCalls } from "./admin/api.js";
import { createUsers } from "./admin/users.js";
import { createUserForm } from "./admin/create.js";
import { createDialogs } from "./admin/dialogs.js";
import { createKeys } from "./admin/keys.js";
import { createAudit } from "./admin/audit.js";
import { createInvitations } from "./admin/invitations.js";
import { createClients } from "./admin/clients.js";

const main = $("main");
const card = $("gate");
const admin = $("admin");
const signedIn = $("signed-in");
const signedInName = $("signed-in-name");
const forbiddenMessage = $("forbidden-message");

let me = null; // the logged-in user, from GET /user

const isAdmin = (user) => !!user && Array.isArray(user.roles) && user.roles.includes("admin");

const gate = createGate({
  async enter(user) {
    showMe(user);
    if (!isAdmin(user)) {
      // No admin call at all: the answer would be 403.
      forbidden();
      return false;
    }
    // Show the whole page at once, lists included, so that nothing moves
    // after it appears.
    try {
      await Promise.all([users.load(), invitations.load(), clients.load(), keys.load(), audit.load()]);
    } catch (err) {
      if (quiet(err)) {
        return false;
      }
    }
    return true;
  },
  shown() {
    document.title = "Administration · jwtgate";
  },
  onState(state) {
    const inside = state === "in";
    card.hidden = inside;
    admin.hidden = !inside;
    main.classList.toggle("is-wide", inside);
    signedIn.hidden = !(inside || state === "forbidden");
    if (!inside) {
      dialogs.closeAll();
      clients.closeAll();
    }
  },
  onUser(user) {
    showMe(user);
    if (!isAdmin(user)) {
      forbidden();
    }
  },
  // The tab shows again: keys change state with time, users may have
  // changed meanwhile.
  onResume() {
    keys.load().catch(() => {});
    users.load().catch(() => {});
  },
  stayText: "You are not logged in. Log in as an administrator to use this page.",
});

const { call, quiet } = adminCalls(gate.session, () => forbidden());
const names = new Map(); // user id -> name, for the audit log's actors
const audit = createAudit({ call, quiet, names });
const users = createUsers({
  call,
  quiet,
  names,
  audit,
  me: () => me,
  openDialog: (action, u) => dialogs.open(action, u),
});
const dialogs = createDialogs({ call, quiet, users, audit, shown: () => !admin.hidden });
const keys = createKeys({ call, quiet, session: gate.session, onChange: () => audit.changed() });
const invitations = createInvitations({ call, quiet, onChange: () => audit.changed() });
const clients = createClients({ call, quiet, onChange: () => audit.changed(), shown: () => !admin.hidden });
createUserForm({ call, quiet, users });

function showMe(user) {
  me = user;
  signedInName.textContent = user.name;
  signedIn.title = `Logged in as ${user.name}`;
}

// forbidden: the logged-in user does not have the admin role (any more).
function forbidden() {
  gate.show("forbidden", "You need the admin role", "Admin role needed");
  const who = me && me.name ? `You are logged in as ${me.name}, but this` : "This";
  forbiddenMessage.textContent = `${who} page is for administrators. Ask one to give your account the admin role.`;
}

gate.check();
