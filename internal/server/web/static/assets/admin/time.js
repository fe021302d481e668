// Times as the admin page shows them: a <time> with the full date in its
// title, and rough durations.

import { plural } from "../lib/dom.js";

export const DAY = { year: "numeric", month: "short", day: "numeric" };
export const MINUTE = { dateStyle: "medium", timeStyle: "short" };
export const SECOND = { month: "short", day: "numeric", hour: "numeric", minute: "2-digit", second: "2-digit" };

export function parseDate(iso) {
  const when = Date.parse(iso || "");
  return Number.isNaN(when) ? null : new Date(when);
}

// timeElement is <time> for iso in the format options, or "—".
export function timeElement(iso, options) {
  const when = parseDate(iso);
  const t = document.createElement("time");
  if (!when) {
    t.textContent = "—";
    return t;
  }
  t.dateTime = iso;
  t.title = when.toLocaleString(undefined, { dateStyle: "full", timeStyle: "long" });
  t.textContent = when.toLocaleString(undefined, options);
  return t;
}

// duration: "10 minutes", "2 hours", "3 days".
export function duration(ms) {
  const minutes = Math.max(1, Math.round(ms / 60000));
  if (minutes < 120) {
    return plural(minutes, "minute");
  }
  const hours = Math.round(minutes / 60);
  return hours < 48 ? plural(hours, "hour") : plural(Math.round(hours / 24), "day");
}
