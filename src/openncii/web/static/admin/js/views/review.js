// Hash review: the hashes that need a human look (each with why), never an image. Everyone
// signed in opens (audited), disables (the feed sends Deleted) and adds to the deny-list;
// admins re-enable a hash and remove deny-list entries.

import { t } from "/js/i18n.js";
import { del, get, post } from "../api.js";
import { clearMessages, el, fillTable, number, showError, showNotice, when } from "../dom.js";

let refresh = null;
let chosen = null; // the queue item being disabled
let admin = false;

// The catalogue's words for each stored hash type and each reason (literal keys: the
// catalogue test reads them here).
const TYPES = {
  pdq: () => t("admin.review.type.pdq"),
  pdq_trim: () => t("admin.review.type.pdq_trim"),
  pdq_square: () => t("admin.review.type.pdq_square"),
  pdq_strip: () => t("admin.review.type.pdq_strip"),
  md5: () => t("admin.review.type.md5"),
  vpdq: () => t("admin.review.type.vpdq"),
};
const SOURCES = {
  shipped: () => t("admin.review.source.shipped"),
  helpline: () => t("admin.review.source.helpline"),
};
const REASONS = {
  not_blocked: (f) => t("admin.review.reason.not_blocked", { partners: number(f.partners) }),
  frequent_match: (f) =>
    t("admin.review.reason.frequent_match", { partners: number(f.partners), median: number(f.median) }),
  near_denied: (f) =>
    t("admin.review.reason.near_denied", {
      distance: number(f.distance),
      entry: f.entry,
      source: (SOURCES[f.source] || (() => f.source))(),
    }),
  network_burst: (f) =>
    t("admin.review.reason.network_burst", { cases: number(f.cases), minutes: number(f.minutes), network: f.network }),
};

const typeName = (type) => (TYPES[type] || (() => type))();

function button(key, onclick, extra = "", attrs = {}) {
  return el("button", { type: "button", class: `button small ${extra}`, onclick, ...attrs }, t(key));
}

/** The hash's first 8 characters, and a button that shows it whole (the server logs it). */
function hashCell(item) {
  const code = el("code", { class: "breakable" }, item.prefix);
  const show = button("admin.review.open", async () => {
    clearMessages();
    const answer = await post(`/review/hashes/${item.hash_id}/open`);
    if (!answer.ok) return showError(answer);
    code.textContent = answer.data.value;
    show.remove();
  }, "", { "data-testid": "review-open" });
  return el("th", { scope: "row" }, code, " ", show);
}

function startDisable(item) {
  clearMessages();
  chosen = item;
  const form = document.getElementById("review-disable");
  form.hidden = false;
  document.getElementById("review-disable-title").textContent = t("admin.review.disable.title", { hash: item.prefix });
  document.getElementById("review-reason").value = "";
  document.getElementById("review-deny").checked = false;
  document.getElementById("review-reason").focus();
}

function stopDisable() {
  chosen = null;
  document.getElementById("review-disable").hidden = true;
}

function queueRows(items) {
  return items.map((item) =>
    el(
      "tr",
      { "data-hash": item.prefix },
      hashCell(item),
      el("td", {}, typeName(item.type)),
      el("td", { class: "num" }, number(item.cases)),
      el("td", {}, when(item.created_at)),
      el("td", {}, el("ul", { class: "reason-list" }, item.reasons.map((r) => el("li", { "data-reason": r.code }, (REASONS[r.code] || (() => r.code))(r.figures))))),
      el("td", {}, button("admin.review.disable", () => startDisable(item), "danger", { "data-testid": "review-disable" })),
    ),
  );
}

/** One row per disabling (a photo's hashes are disabled together, under the one chosen). */
function disabledRows(entries) {
  const groups = new Map();
  for (const d of entries) groups.set(d.chosen_hash_id, [...(groups.get(d.chosen_hash_id) || []), d]);
  return [...groups.values()].map((group) => {
    const d = group.find((x) => x.hash_id === x.chosen_hash_id) || group[0];
    const others = group.length - 1;
    return el(
      "tr",
      { "data-hash": d.prefix },
      el("th", { scope: "row" }, el("code", {}, d.prefix), others ? ` ${t("admin.review.withphoto", { count: number(others) })}` : ""),
      el("td", {}, typeName(d.type)),
      el("td", {}, d.reason),
      el("td", {}, d.disabled_by || "—"),
      el("td", {}, when(d.disabled_at)),
      admin
        ? el("td", {}, button("admin.review.enable", () => {
            if (window.confirm(t("admin.review.confirm.enable", { hash: d.prefix }))) {
              act(() => post(`/review/hashes/${d.hash_id}/enable`), (data) =>
                showNotice(t("admin.review.enabled", { count: number(data.enabled) })));
            }
          }, "", { "data-testid": "review-enable" }))
        : null,
    );
  });
}

function deniedRows(entries) {
  return entries.map((e) =>
    el(
      "tr",
      { "data-hash": e.prefix },
      el("th", { scope: "row" }, el("code", {}, e.prefix)),
      el("td", {}, typeName(e.type)),
      el("td", {}, e.reason),
      el("td", {}, e.added_by || "—"),
      el("td", {}, when(e.created_at)),
      admin
        ? el("td", {}, button("admin.denylist.remove", () => {
            if (window.confirm(t("admin.denylist.confirm.remove", { hash: e.prefix }))) {
              act(() => del(`/denylist/${e.id}`));
            }
          }, "danger"))
        : null,
    ),
  );
}

async function act(call, done) {
  clearMessages();
  const answer = await call();
  if (!answer.ok) return showError(answer);
  if (done) done(answer.data);
  await refresh();
}

export function init() {
  document.getElementById("review-disable").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!chosen) return;
    const item = chosen;
    const body = {
      reason: document.getElementById("review-reason").value,
      deny: document.getElementById("review-deny").checked,
    };
    await act(() => post(`/review/hashes/${item.hash_id}/disable`, body), (data) => {
      stopDisable();
      showNotice(t("admin.review.disabled", { hash: item.prefix, count: number(data.disabled) }));
    });
  });
  document.getElementById("review-disable-cancel").addEventListener("click", stopDisable);
  document.getElementById("denylist-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = document.getElementById("denylist-value");
    const reason = document.getElementById("denylist-reason");
    const text = value.value.trim();
    await act(() => post("/denylist", { type: text.length === 32 ? "md5" : "pdq", value: text, reason: reason.value }), () => {
      showNotice(t("admin.denylist.added", { hash: text.slice(0, 8) }));
      value.value = "";
      reason.value = "";
    });
  });
}

export async function show({ state }) {
  admin = state.me.staff.role === "admin";
  stopDisable();
  for (const node of document.querySelectorAll('[data-view="review"] [data-admin]')) node.hidden = !admin;
  refresh = async () => {
    const [queue, disabled, denied] = await Promise.all([get("/review"), get("/review/disabled"), get("/denylist")]);
    for (const answer of [queue, disabled, denied]) if (!answer.ok) return showError(answer);
    document.getElementById("review-empty").hidden = queue.data.items.length > 0;
    fillTable(document.getElementById("review-table"), queueRows(queue.data.items));
    document.getElementById("review-disabled-empty").hidden = disabled.data.length > 0;
    fillTable(document.getElementById("review-disabled-table"), disabledRows(disabled.data));
    document.getElementById("denylist-empty").hidden = denied.data.length > 0;
    fillTable(document.getElementById("denylist-table"), deniedRows(denied.data));
  };
  await refresh();
}
