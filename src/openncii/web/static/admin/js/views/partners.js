// Partners: everyone signed in sees them, with their feed use (24 h) and feedback; admins add,
// rotate keys (the old key works for a grace period), rename, revoke, allow/deny submission.

import { t } from "/js/i18n.js";
import { get, post } from "../api.js";
import { clearMessages, el, fillTable, number, showError, showNotice, when } from "../dom.js";

let refresh = null;
// The StopNCII feedback values the catalogue names (admin.outcome.<value>).
const OUTCOMES = new Set(["None", "QualityUnknown", "PendingReview", "Blocked", "NotBlocked", "Withdrawn", "Deleted"]);

function showKey(name, data) {
  document.getElementById("partner-key").hidden = false;
  document.getElementById("partner-key-for").textContent = name;
  document.getElementById("partner-key-value").textContent = data.key;
  document.getElementById("partner-key-old").textContent = data.old_key_expires_at
    ? t("admin.partners.key.old", { when: when(data.old_key_expires_at) })
    : "";
}

async function act(path, body, done) {
  clearMessages();
  const answer = await post(path, body);
  if (!answer.ok) return showError(answer);
  if (done) done(answer.data);
  await refresh();
}

function actions(p) {
  const path = `/partners/${encodeURIComponent(p.name)}`;
  if (!p.active) return [];
  const button = (key, onclick, extra = "") =>
    el("button", { type: "button", class: `button small ${extra}`, onclick }, t(key));
  return [
    button("admin.partners.rotate", () => {
      const answer = window.prompt(t("admin.partners.prompt.grace", { name: p.name }), "7");
      if (answer === null) return;
      const days = Number(answer.replace(",", "."));
      if (!Number.isFinite(days) || days < 0 || days > 90) return showError({ data: { code: "bad_request" } });
      act(`${path}/rotate`, { grace_days: days }, (data) => showKey(p.name, data));
    }),
    button("admin.partners.rename", () => {
      const name = window.prompt(t("admin.partners.prompt.rename", { name: p.name }), p.name);
      if (name && name.trim() && name !== p.name) {
        act(`${path}/rename`, { name }, () => showNotice(t("admin.partners.renamed", { name })));
      }
    }),
    button(p.can_submit ? "admin.partners.deny" : "admin.partners.allow", () =>
      act(`${path}/submission`, { allowed: !p.can_submit }),
    ),
    button(
      "admin.partners.revoke",
      () => {
        if (window.confirm(t("admin.partners.confirm.revoke", { name: p.name }))) act(`${path}/revoke`, {});
      },
      "danger",
    ),
  ];
}

export function init() {
  document.getElementById("partner-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = document.getElementById("partner-name");
    const canSubmit = document.getElementById("partner-can-submit");
    await act("/partners", { name: name.value, can_submit: canSubmit.checked }, (data) => {
      showKey(data.name, data);
      name.value = "";
      canSubmit.checked = false;
    });
  });
}

export async function show({ state }) {
  const admin = state.me.staff.role === "admin";
  document.getElementById("partner-key").hidden = true;
  document.getElementById("partners-readonly").hidden = admin;
  for (const node of document.querySelectorAll('[data-view="partners"] [data-admin]')) node.hidden = !admin;
  refresh = async () => {
    const answer = await get("/partners");
    if (!answer.ok) return showError(answer);
    document.getElementById("partners-empty").hidden = answer.data.length > 0;
    fillTable(
      document.getElementById("partners-table"),
      answer.data.map((p) => {
        const outcomes = Object.entries(p.feedback).map(([value, count]) =>
          el("li", {}, `${OUTCOMES.has(value) ? t(`admin.outcome.${value}`) : value}: ${number(count)}`),
        );
        const state = p.active ? t("admin.state.active") : t("admin.state.revoked");
        return el(
          "tr",
          { "data-partner": p.name },
          el("th", { scope: "row" }, p.name),
          el("td", {}, p.old_key_expires_at ? `${state} — ${t("admin.partners.key.old", { when: when(p.old_key_expires_at) })}` : state),
          el("td", {}, p.last_fetch_at ? when(p.last_fetch_at) : t("admin.partners.never")),
          el("td", { class: "num" }, number(p.records_24h)),
          el("td", { class: "num" }, number(p.unauthorized_24h)),
          el("td", {}, outcomes.length ? el("ul", { class: "feedback-list" }, outcomes) : "—"),
          el("td", {}, p.can_submit ? t("admin.partners.allowed") : t("admin.partners.denied")),
          admin ? el("td", {}, actions(p)) : null,
        );
      }),
    );
  };
  await refresh();
}
