// Settings: the organisation's name, helpline contact and privacy-policy link (the pages for
// people show them), and the local helplines shown to people this service cannot help. Everyone
// signed in reads them; administrators change them. A value the server refuses is marked on its
// field, and nothing is saved.

import { t } from "/js/i18n.js";
import { call, get, del, post } from "../api.js";
import { clearMessages, el, fillTable, showError, showNotice, when } from "../dom.js";

const ORG_FIELDS = ["name", "phone", "email", "url", "privacy_url"];
const HELPLINE_FIELDS = ["country", "language", "name", "url", "phone"];

let isAdmin = false;
let editing = null; // the id of the helpline the form edits, or null to add one

const $ = (id) => document.getElementById(id);

function inputs(form) {
  return Object.fromEntries([...form.querySelectorAll("[data-field]")].map((input) => [input.dataset.field, input]));
}

function clearInvalid(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** Show the server's refusal; an invalid value is named and its field marked and focused. */
function refused(form, answer) {
  const field = answer.data && answer.data.code === "invalid_setting" ? answer.data.field : null;
  const input = field ? inputs(form)[field] : null;
  if (!input) return showError(answer);
  input.setAttribute("aria-invalid", "true");
  const box = $("console-error");
  box.textContent = `${t(`admin.settings.invalid.${field}`)} ${t("admin.settings.unchanged")}`;
  box.hidden = false;
  input.focus();
}

function fillOrganisation(data) {
  const fields = inputs($("org-form"));
  for (const name of ORG_FIELDS) {
    fields[name].value = data[name] || "";
    fields[name].readOnly = !isAdmin;
  }
  $("org-updated").textContent = data.updated_at
    ? t("admin.settings.updated", { when: when(data.updated_at), who: data.updated_by || t("admin.audit.shell") })
    : "";
}

async function saveOrganisation(event) {
  event.preventDefault();
  if (!isAdmin) return; // read-only for analysts (the server would refuse it too)
  clearMessages();
  const form = $("org-form");
  clearInvalid(form);
  const fields = inputs(form);
  const body = Object.fromEntries(ORG_FIELDS.map((name) => [name, fields[name].value.trim() || null]));
  const answer = await call("PUT", "/settings", body);
  if (!answer.ok) return refused(form, answer);
  fillOrganisation(answer.data);
  showNotice(t("admin.settings.saved"));
}

function resetHelplineForm() {
  editing = null;
  const form = $("helpline-form");
  form.reset();
  clearInvalid(form);
  $("helpline-form-title").textContent = t("admin.helplines.add.title");
  $("helpline-submit").textContent = t("admin.helplines.add.submit");
  $("helpline-cancel").hidden = true;
}

function editHelpline(helpline) {
  clearMessages();
  editing = helpline.id;
  const fields = inputs($("helpline-form"));
  for (const name of HELPLINE_FIELDS) fields[name].value = helpline[name] || "";
  $("helpline-form-title").textContent = t("admin.helplines.edit.title", { name: helpline.name });
  $("helpline-submit").textContent = t("admin.helplines.edit.submit");
  $("helpline-cancel").hidden = false;
  fields.country.focus();
}

async function saveHelpline(event) {
  event.preventDefault();
  clearMessages();
  const form = $("helpline-form");
  clearInvalid(form);
  const fields = inputs(form);
  const body = Object.fromEntries(HELPLINE_FIELDS.map((name) => [name, fields[name].value.trim()]));
  body.phone = body.phone || null;
  const answer = editing === null ? await post("/helplines", body) : await call("PUT", `/helplines/${editing}`, body);
  if (!answer.ok) return refused(form, answer);
  showNotice(t(editing === null ? "admin.helplines.added" : "admin.helplines.saved", { name: answer.data.name }));
  resetHelplineForm();
  await loadHelplines();
}

async function removeHelpline(helpline) {
  if (!window.confirm(t("admin.helplines.confirm.remove", { name: helpline.name }))) return;
  clearMessages();
  const answer = await del(`/helplines/${helpline.id}`);
  if (!answer.ok) return showError(answer);
  if (editing === helpline.id) resetHelplineForm();
  showNotice(t("admin.helplines.removed", { name: helpline.name }));
  await loadHelplines();
}

function countryName(code) {
  try {
    return new Intl.DisplayNames([document.documentElement.lang], { type: "region" }).of(code) || code;
  } catch {
    return code;
  }
}

async function loadHelplines() {
  const answer = await get("/helplines");
  if (!answer.ok) return showError(answer);
  $("helplines-empty").hidden = answer.data.length > 0;
  fillTable(
    $("helplines-table"),
    answer.data.map((h) =>
      el(
        "tr",
        { "data-helpline": h.id },
        el("td", {}, h.language),
        el("td", {}, el("abbr", { title: countryName(h.country) }, h.country)),
        el("td", {}, h.name),
        el("td", { class: "breakable" }, h.url),
        el("td", {}, h.phone || "—"),
        isAdmin
          ? el(
              "td",
              {},
              el("button", { type: "button", class: "button small", "aria-label": t("admin.helplines.edit.label", { name: h.name }), onclick: () => editHelpline(h) }, t("admin.helplines.edit")),
              el("button", { type: "button", class: "button small danger", "aria-label": t("admin.helplines.remove.label", { name: h.name }), onclick: () => removeHelpline(h) }, t("admin.helplines.remove")),
            )
          : null,
      ),
    ),
  );
}

export function init() {
  $("org-form").addEventListener("submit", saveOrganisation);
  $("helpline-form").addEventListener("submit", saveHelpline);
  $("helpline-cancel").addEventListener("click", () => {
    clearMessages();
    resetHelplineForm();
  });
}

export async function show({ state }) {
  isAdmin = state.me.staff.role === "admin";
  $("settings-readonly").hidden = isAdmin;
  resetHelplineForm();
  clearInvalid($("org-form"));
  const answer = await get("/settings");
  if (!answer.ok) return showError(answer);
  fillOrganisation(answer.data);
  await loadHelplines();
}
