// The home page's "Connected apps": the OpenID Connect clients the user has
// let sign them in, with what each may see, and "Disconnect" (GET
// /user/apps, DELETE /user/apps/{client_id}). Disconnecting forgets the
// consent and ends every session the app holds for the user, so the app
// signs them out and asks again next time. A server that is no OpenID
// Provider (a shared-secret server) has no such panel, and the page makes
// no such request.

import { $, el, icon, notice, retryNotice, plural } from "../lib/dom.js";
import { readJSON, busyText } from "../lib/http.js";
import { SessionEnded } from "../lib/session.js";

// What a scope lets an app see, in words.
const SCOPE_WORDS = {
  openid: "who you are",
  profile: "your name",
  email: "your email address",
  offline_access: "stay signed in while you are away",
};

function scopeText(scopes) {
  const words = (Array.isArray(scopes) ? scopes : [])
    .filter((s) => typeof s === "string")
    .map((s) => SCOPE_WORDS[s] || s);
  return words.length ? `May see ${words.join(", ")}` : "";
}

function dateText(iso) {
  const when = Date.parse(iso || "");
  return Number.isNaN(when) ? "" : new Date(when).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

// createAppsPanel drives the panel for session; onDisconnect is called
// after an app is disconnected (its sessions ended). It returns load(),
// which rejects with SessionEnded when the session ended meanwhile.
export function createAppsPanel(session, onDisconnect = () => {}) {
  const { api } = session;
  const card = $("apps-card");
  if (!card) {
    return Object.freeze({ load: async () => {} });
  }
  const title = $("apps-title");
  const list = $("apps");
  const status = $("apps-status");
  const error = $("apps-error");
  const reload = $("apps-reload");
  let apps = [];
  let loading = null;

  function row(a) {
    const li = el("li", "session app");
    li.dataset.clientId = a.client_id;
    const figure = el("span", "session-icon");
    figure.append(icon("key", "icon"));
    const main = el("div", "session-main");
    const name = el("p", "session-device");
    name.append(el("span", "session-name app-name", String(a.name || a.client_id)));
    const meta = el("p", "session-meta");
    const since = dateText(a.created_at);
    meta.textContent = [scopeText(a.scopes), since ? `allowed ${since}` : ""].filter(Boolean).join(" · ");
    main.append(name, meta);
    const button = el("button", "button button-small button-danger session-signout app-disconnect");
    button.type = "button";
    button.dataset.clientId = a.client_id;
    button.append(icon("spinner", "icon spinner"), el("span", "button-label", "Disconnect"), el("span", "visually-hidden", ` ${a.name}`));
    button.addEventListener("click", () => disconnect(a, button));
    li.append(figure, main, button);
    return li;
  }

  function render() {
    if (apps.length === 0) {
      list.replaceChildren(el("li", "session session-empty", "No apps are connected to your account."));
      return;
    }
    list.replaceChildren(...apps.map(row));
  }

  function load() {
    if (!loading) {
      loading = fetchApps().finally(() => {
        loading = null;
      });
    }
    return loading;
  }

  async function fetchApps() {
    card.setAttribute("aria-busy", "true");
    reload.disabled = true;
    try {
      let res;
      try {
        res = await api("/user/apps");
      } catch (err) {
        if (err instanceof SessionEnded) {
          throw err;
        }
        retryNotice(error, "Could not reach the server to list your connected apps.", () => load().catch(() => {}));
        return;
      }
      const body = res.ok ? await readJSON(res) : null;
      if (!body || !Array.isArray(body.apps)) {
        retryNotice(error, `Could not list your connected apps (HTTP ${res.status}).`, () => load().catch(() => {}));
        return;
      }
      apps = body.apps.filter((a) => a && typeof a.client_id === "string");
      error.replaceChildren();
      render();
    } finally {
      card.setAttribute("aria-busy", "false");
      reload.disabled = false;
    }
  }

  async function disconnect(a, button) {
    if (button.disabled) {
      return;
    }
    button.disabled = true;
    button.classList.add("is-busy");
    button.querySelector(".button-label").textContent = "Disconnecting…";
    error.replaceChildren();
    let res;
    try {
      res = await api(`/user/apps/${encodeURIComponent(a.client_id)}`, { method: "DELETE" });
    } catch (err) {
      if (!(err instanceof SessionEnded)) {
        reset(button);
        notice(error, "alert", "Could not reach the server: the app is still connected.");
      }
      return;
    }
    // 404: it was not connected any more; either way it is gone.
    if (res.ok || res.status === 404) {
      const buttons = [...list.querySelectorAll(".app-disconnect")];
      const next = buttons[buttons.indexOf(button) + 1] || buttons[buttons.indexOf(button) - 1];
      const nextID = next ? next.dataset.clientId : "";
      apps = apps.filter((x) => x.client_id !== a.client_id);
      render();
      status.textContent = `Disconnected ${a.name}: it is signed out and asks again next time.`;
      const target = nextID && list.querySelector(`button[data-client-id="${CSS.escape(nextID)}"]`);
      (target || title).focus();
      load().catch(() => {});
      onDisconnect();
      return;
    }
    reset(button);
    notice(error, "alert", `${a.name} is still connected. ${busyText(res)}`);
  }

  function reset(button) {
    button.disabled = false;
    button.classList.remove("is-busy");
    button.querySelector(".button-label").textContent = "Disconnect";
  }

  reload.addEventListener("click", () => {
    status.textContent = "";
    load()
      .then(() => {
        if (session.active) {
          status.textContent = `${plural(apps.length, "connected app")}.`;
        }
      })
      .catch(() => {});
  });

  return Object.freeze({ load });
}
