// Small DOM helpers of the console: elements built with text (never HTML), tables, messages.

import { t, formatDate } from "/js/i18n.js";

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace the rows of `table`'s body. */
export function fillTable(table, rows) {
  const body = table.querySelector("tbody");
  body.replaceChildren(...rows);
}

export function when(value) {
  return value ? formatDate(value) : "—";
}

export function number(value) {
  return new Intl.NumberFormat(document.documentElement.lang).format(value);
}

// The error codes the catalogue explains (admin.error.<code>); others get a general sentence.
const ERROR_CODES = new Set([
  "not_authenticated", "rate_limited", "forbidden", "setup_link_invalid", "weak_password",
  "passwords_differ", "staff_exists", "staff_not_found", "partner_exists", "partner_not_found",
  "hash_not_found", "hash_rejected", "invalid_hash", "bad_request", "invalid_request", "server_error",
  "invalid_setting", "helpline_not_found",
]);

/** Show an error for an API answer: the catalogue's text for its code, else a general one. */
export function showError(answer) {
  const box = document.getElementById("console-error");
  const code = answer && answer.data && answer.data.code;
  const known = code && ERROR_CODES.has(code);
  const text = t(known ? `admin.error.${code}` : answer && answer.status === 0 ? "admin.error.network" : "admin.error.other");
  box.textContent = text;
  box.hidden = false;
  box.focus?.();
}

export function showNotice(text) {
  const box = document.getElementById("console-notice");
  box.textContent = text;
  box.hidden = false;
}

export function clearMessages() {
  for (const id of ["console-error", "console-notice"]) document.getElementById(id).hidden = true;
}
