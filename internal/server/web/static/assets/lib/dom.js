// Building pieces of the page. Text from the server goes in with
// textContent only: a server message is data, not markup.

const SVG = "http://www.w3.org/2000/svg";

// $ is document.getElementById.
export const $ = (id) => document.getElementById(id);

// el makes <tag class=className>text</tag>.
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

// icon returns <svg class=…><use href="/assets/icons.svg#name"/></svg>.
export function icon(name, className = "icon") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `/assets/icons.svg#${name}`);
  svg.append(use);
  return svg;
}

// notice fills a notice box (a live region) with an icon, the text and an
// optional action.
export function notice(box, iconName, text, action) {
  const parts = [icon(iconName, "icon notice-icon"), el("span", "", text)];
  if (action) {
    parts.push(action);
  }
  box.replaceChildren(...parts);
}

// retryNotice reports a failed load in box, with a "Try again" button that
// calls again.
export function retryNotice(box, text, again) {
  const button = el("button", "notice-action link-button", "Try again");
  button.type = "button";
  button.addEventListener("click", again);
  notice(box, "alert", text, button);
}

// setBusy turns a button's spinner on or off, with the label given. A busy
// button is disabled, which drops the focus; when it had the focus and
// nothing else took it meanwhile, it gets it back.
export function setBusy(button, on, label) {
  if (on) {
    button.dataset.hadFocus = document.activeElement === button ? "1" : "";
  }
  button.disabled = on;
  button.classList.toggle("is-busy", on);
  if (label !== undefined) {
    button.querySelector(".button-label").textContent = label;
  }
  if (!on && button.dataset.hadFocus) {
    button.dataset.hadFocus = "";
    const active = document.activeElement;
    if (button.isConnected && !button.hidden && (!active || active === document.body)) {
      button.focus();
    }
  }
}

// fieldProblem reports a problem with a form: the text in the box, and the
// field (if any) marked invalid and focused.
export function fieldProblem(box, text, input) {
  notice(box, "alert", text);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

// clearInvalid drops aria-invalid from inputs, now and whenever the user
// edits one (call it with watch once per form).
export function clearInvalid(inputs, watch = false) {
  for (const input of inputs) {
    input.removeAttribute("aria-invalid");
    if (watch) {
      input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
    }
  }
}

// plural: "1 user", "2 users".
export function plural(n, unit) {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

// sentence makes a server message a sentence: "you cannot …" -> "You cannot ….".
export function sentence(text) {
  const s = (text || "").trim();
  if (!s) {
    return "";
  }
  const first = s[0].toUpperCase() + s.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}
