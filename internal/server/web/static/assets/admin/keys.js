// The admin page's signing keys: GET /admin/keys, POST /admin/keys/rotate.

import { $, el, notice, retryNotice, setBusy, sentence } from "../lib/dom.js";
import { readJSON, errorOf, busyText } from "../lib/http.js";
import { cell, emptyRow } from "./table.js";
import { MINUTE, parseDate, timeElement, duration } from "./time.js";

function keyRow(k) {
  const tr = el("tr");
  tr.setAttribute("role", "row");
  tr.dataset.kid = k.kid;
  tr.dataset.state = k.state;
  const kid = el("th", "cell-kid");
  kid.scope = "row";
  kid.setAttribute("role", "rowheader");
  kid.append(el("code", "", k.kid));
  const alg = cell("Algorithm", "");
  alg.textContent = typeof k.alg === "string" ? k.alg : "";
  const state = cell("State", "");
  const known = ["pending", "active", "retired", "expired"].includes(k.state);
  state.append(el("span", `state-badge state-${known ? k.state : "other"}`, String(k.state || "unknown")));
  const created = cell("Created", "");
  created.append(timeElement(k.created_at, MINUTE));
  const activates = cell("Signs from", "");
  activates.append(timeElement(k.activates_at, MINUTE));
  const retires = cell("Retires", "");
  if (k.retires_at) {
    retires.append(timeElement(k.retires_at, MINUTE));
  } else {
    retires.append(el("span", "muted", "—"));
  }
  tr.append(kid, alg, state, created, activates, retires);
  return tr;
}

// createKeys drives the keys panel; onChange is called after a rotation.
// It returns {load}.
export function createKeys({ call, quiet, session, onChange }) {
  const keysCard = $("keys-card");
  const keysBody = $("keys");
  const keysDone = $("keys-done");
  const keysError = $("keys-error");
  const keysReload = $("keys-reload");
  const rotate = $("rotate");

  function keysFailed(text) {
    retryNotice(keysError, text, () => {
      loadKeys().catch(() => {});
    });
  }

  async function loadKeys() {
    keysCard.setAttribute("aria-busy", "true");
    keysReload.disabled = true;
    try {
      let res;
      try {
        res = await call("/admin/keys");
      } catch (err) {
        if (quiet(err)) {
          throw err;
        }
        keysFailed("Could not reach the server to list the keys.");
        return;
      }
      const body = res.ok ? await readJSON(res) : null;
      if (!body || !Array.isArray(body.keys)) {
        keysFailed(res.ok ? "The server sent a list this page does not understand." : `Could not list the keys (HTTP ${res.status}).`);
        return;
      }
      const keys = body.keys
        .filter((k) => k && typeof k.kid === "string")
        .sort((a, b) => (Date.parse(b.created_at) || 0) - (Date.parse(a.created_at) || 0));
      keysError.replaceChildren();
      if (keys.length === 0) {
        keysBody.replaceChildren(emptyRow(6, "No signing keys: this server signs tokens with a shared secret, which cannot be rotated here."));
        rotate.disabled = true;
      } else {
        keysBody.replaceChildren(...keys.map(keyRow));
        rotate.disabled = false;
      }
    } finally {
      keysCard.setAttribute("aria-busy", "false");
      keysReload.disabled = false;
    }
  }

  keysReload.addEventListener("click", () => {
    loadKeys().catch(() => {});
  });

  rotate.addEventListener("click", async () => {
    if (rotate.disabled) {
      return;
    }
    keysDone.replaceChildren();
    keysError.replaceChildren();
    setBusy(rotate, true, "Rotating…");
    let res;
    try {
      res = await call("/admin/keys/rotate", { method: "POST" });
    } catch (err) {
      if (!quiet(err)) {
        setBusy(rotate, false, "Rotate signing key");
        notice(keysError, "alert", "Could not reach the server: the key was not rotated.");
      }
      return;
    }
    setBusy(rotate, false, "Rotate signing key");
    if (res.ok) {
      const body = await readJSON(res);
      const kid = body && typeof body.kid === "string" ? body.kid : "";
      const alg = body && typeof body.alg === "string" ? `${body.alg} ` : "";
      const when = parseDate(body && body.activates_at);
      let text = `New ${alg}key ${kid} published.`;
      if (when) {
        const wait = when.getTime() - session.serverNow();
        text += ` It signs from ${when.toLocaleString(undefined, MINUTE)}${wait > 0 ? `, in about ${duration(wait)}` : ""}; until then the current key goes on signing.`;
      }
      notice(keysDone, "check", text);
      loadKeys().catch(() => {});
      onChange();
      return;
    }
    const { message } = await errorOf(res);
    notice(
      keysError,
      "alert",
      res.status === 409 && message ? `The key was not rotated: ${sentence(message)}` : `The key was not rotated: ${busyText(res)}`,
    );
  });

  return Object.freeze({ load: loadKeys });
}
