// The admin page's audit log: GET /admin/audit, by event type, older
// pages with before=.

import { $, el, retryNotice, setBusy, plural } from "../lib/dom.js";
import { readJSON } from "../lib/http.js";
import { cell, emptyRow } from "./table.js";
import { SECOND, timeElement } from "./time.js";

const AUDIT_PAGE = 50;
// Audit events worth a second look.
const WARNING_EVENTS = new Set(["login.failed", "login.throttled", "refresh.reused", "security.warning"]);

// auditRow is one event; names maps user ids to the names the page has seen.
function auditRow(e, names) {
  const tr = el("tr");
  tr.setAttribute("role", "row");
  tr.dataset.id = String(e.id);
  tr.dataset.type = e.type;
  const time = el("th", "cell-time");
  time.scope = "row";
  time.setAttribute("role", "rowheader");
  time.append(timeElement(e.at, SECOND));
  const type = cell("Event", "cell-event");
  type.append(el("span", WARNING_EVENTS.has(e.type) ? "event-type is-warning" : "event-type", e.type));
  const user = cell("User", "");
  if (typeof e.name === "string" && e.name) {
    user.textContent = e.name;
  } else if (e.user_id) {
    user.textContent = names.get(e.user_id) || `#${e.user_id}`;
  } else {
    user.append(el("span", "muted", "—"));
  }
  const ip = cell("IP", "cell-ip");
  if (typeof e.ip === "string" && e.ip) {
    ip.textContent = e.ip;
    if (typeof e.user_agent === "string" && e.user_agent) {
      ip.title = e.user_agent;
    }
  } else {
    ip.append(el("span", "muted", "—"));
  }
  const detail = cell("Detail", "cell-detail");
  const parts = [];
  if (typeof e.detail === "string" && e.detail) {
    parts.push(e.detail);
  }
  if (e.actor_id && e.actor_id !== e.user_id) {
    parts.push(`by ${names.get(e.actor_id) || `#${e.actor_id}`}`);
  }
  if (parts.length) {
    detail.textContent = parts.join(" · ");
  } else {
    detail.append(el("span", "muted", "—"));
  }
  tr.append(time, type, user, ip, detail);
  return tr;
}

// createAudit drives the audit log panel. It returns
//   load()      read the newest page again;
//   changed()   something was done that the log records: show it, unless
//               the user is reading older pages.
export function createAudit({ call, quiet, names }) {
  const auditCard = $("audit-card");
  const auditTitle = $("audit-title");
  const auditBody = $("audit");
  const auditCount = $("audit-count");
  const auditError = $("audit-error");
  const auditReload = $("audit-reload");
  const auditType = $("audit-type");
  const auditMore = $("audit-more");

  let auditEvents = [];
  let auditSeq = 0;
  let auditPages = 0; // pages of the log shown (1 = only the newest)

  function auditFailed(text) {
    retryNotice(auditError, text, () => {
      loadAudit().catch(() => {});
    });
  }

  // loadAudit reads the newest page of the log for the type filter, or,
  // with older, the page before the last event shown.
  async function loadAudit(older = false) {
    const seq = ++auditSeq;
    const hadFocus = older && document.activeElement === auditMore;
    auditCard.setAttribute("aria-busy", "true");
    auditReload.disabled = true;
    if (older) {
      setBusy(auditMore, true, "Loading…");
    }
    try {
      const params = new URLSearchParams({ limit: String(AUDIT_PAGE) });
      if (auditType.value) {
        params.set("type", auditType.value);
      }
      if (older && auditEvents.length) {
        params.set("before", String(auditEvents[auditEvents.length - 1].id));
      }
      let res;
      try {
        res = await call(`/admin/audit?${params}`);
      } catch (err) {
        if (quiet(err)) {
          throw err;
        }
        if (seq === auditSeq) {
          auditFailed("Could not reach the server to read the audit log.");
        }
        return;
      }
      const body = res.ok ? await readJSON(res) : null;
      if (seq !== auditSeq) {
        return;
      }
      if (!body || !Array.isArray(body.events)) {
        auditFailed(res.ok ? "The server sent a log this page does not understand." : `Could not read the audit log (HTTP ${res.status}).`);
        return;
      }
      const events = body.events.filter((e) => e && typeof e.id === "number" && typeof e.type === "string");
      auditError.replaceChildren();
      if (older) {
        auditEvents = auditEvents.concat(events);
        auditPages += 1;
        auditBody.append(...events.map((e) => auditRow(e, names)));
      } else {
        auditEvents = events;
        auditPages = 1;
        if (events.length === 0) {
          auditBody.replaceChildren(emptyRow(5, auditType.value ? `No ${auditType.value} events.` : "No events yet."));
        } else {
          auditBody.replaceChildren(...events.map((e) => auditRow(e, names)));
        }
      }
      const more = events.length === AUDIT_PAGE;
      auditMore.hidden = !more;
      const n = auditEvents.length;
      const kind = auditType.value ? ` of type ${auditType.value}` : "";
      auditCount.textContent = n === 0 ? "" : more ? `The latest ${plural(n, "event")}${kind}.` : `${plural(n, "event")}${kind}, all there are.`;
    } finally {
      if (older) {
        setBusy(auditMore, false, "Older events");
        // At the end of the log the button goes: the focus goes to the
        // log's heading.
        if (hadFocus && auditMore.hidden) {
          auditTitle.focus();
        }
      }
      if (seq === auditSeq) {
        auditCard.setAttribute("aria-busy", "false");
        auditReload.disabled = false;
      }
    }
  }

  auditType.addEventListener("change", () => {
    loadAudit().catch(() => {});
  });

  auditReload.addEventListener("click", () => {
    loadAudit().catch(() => {});
  });

  auditMore.addEventListener("click", () => {
    if (!auditMore.disabled) {
      loadAudit(true).catch(() => {});
    }
  });

  return Object.freeze({
    load: () => loadAudit(),
    changed() {
      if (auditPages <= 1) {
        loadAudit().catch(() => {});
      }
    },
  });
}
