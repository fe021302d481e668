// Pieces of the admin page's tables and rows.

import { el, icon } from "../lib/dom.js";

// cell is a <td> with the column's name in data-label (the narrow layout
// shows it before the value).
export function cell(label, className) {
  const td = el("td", className);
  td.setAttribute("role", "cell");
  if (label) {
    td.dataset.label = label;
  }
  return td;
}

// emptyRow is a row across columns saying text.
export function emptyRow(columns, text) {
  const tr = el("tr", "empty-row");
  tr.setAttribute("role", "row");
  const td = cell("", "");
  td.colSpan = columns;
  td.textContent = text;
  tr.append(td);
  return tr;
}

// actionButton is a small button for a row, with a spinner, an icon, its
// label and words for screen readers only (hidden).
export function actionButton(action, iconName, label, hidden, className) {
  const b = el("button", `button button-small ${className}`);
  b.type = "button";
  b.dataset.action = action;
  b.append(icon("spinner", "icon spinner"), icon(iconName, "icon idle-icon"), el("span", "button-label", label));
  if (hidden) {
    b.append(el("span", "visually-hidden", hidden));
  }
  return b;
}
