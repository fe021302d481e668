// The server's word to the page: its limits on names, passwords and roles,
// and the hosts the login page may send a browser back to. The server
// renders them from its own rules into the page's JSON block
// (<script type="application/json" id="page-config">), so no page keeps a
// copy that could drift.

function read() {
  const block = document.getElementById("page-config");
  try {
    const parsed = JSON.parse(block ? block.textContent : "");
    if (parsed && typeof parsed === "object") {
      return parsed;
    }
  } catch {
    // Fall through: without the block, the page checks nothing itself and
    // the server's answers say what is wrong; no return target is trusted.
  }
  return {};
}

const raw = read();

// limits: minPasswordChars, maxPasswordBytes, maxNameChars, maxRoles,
// maxRoleChars, rolePattern (a regular expression for one role).
export const limits = Object.freeze({ ...(raw.limits || {}) });

// returnTo: hosts (host[:port], lower case) and domain (that domain and the
// hosts under it), besides the page's own origin.
export const returnTo = Object.freeze({
  hosts: Array.isArray(raw.returnTo?.hosts) ? raw.returnTo.hosts.filter((h) => typeof h === "string") : [],
  domain: typeof raw.returnTo?.domain === "string" ? raw.returnTo.domain : "",
});

// accounts: which self-service flows the server offers: signup ("closed",
// "open" or "invite"), email (links work) and requireEmail.
export const accounts = Object.freeze({
  signup: typeof raw.accounts?.signup === "string" ? raw.accounts.signup : "closed",
  email: raw.accounts?.email === true,
  requireEmail: raw.accounts?.requireEmail === true,
});

// passkeys: the server offers passkeys (WebAuthn); without, the pages show
// no passkey button.
export const passkeys = raw.passkeys === true;
