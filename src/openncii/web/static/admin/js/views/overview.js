// Overview: cases opened and withdrawn, hashes by type, partner outcomes over time, removal rate
// and time to first outcome; each table downloads as CSV. Charts: ./charts.js (our own SVG).

import { t } from "/js/i18n.js";
import { get } from "../api.js";
import { barChart, legend } from "../charts.js";
import { el, number, showError, when } from "../dom.js";

const OUTCOMES = ["PendingReview", "Blocked", "NotBlocked"];
const TYPES = { pdq: "ImagePDQ", md5: "VideoMD5", vpdq: "VideoPDQ" };

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 3600) return t("admin.duration.minutes", { count: number(Math.round(seconds / 60)) });
  if (seconds < 172800) return t("admin.duration.hours", { count: number(Math.round(seconds / 360) / 10) });
  return t("admin.duration.days", { count: number(Math.round(seconds / 8640) / 10) });
}

function figure(label, value, testid) {
  return el("div", { class: "figure" }, el("span", { class: "value", "data-testid": testid }, value), el("span", { class: "label" }, label));
}

function csvLink(name, query) {
  return el("a", { class: "button small", href: `api/stats/${name}.csv?${query}`, download: true }, t("admin.csv"));
}

function chartCard(titleKey, name, query, chart, names) {
  return el(
    "section",
    { class: "chart", "aria-label": t(titleKey) },
    el("h2", {}, el("span", {}, t(titleKey)), csvLink(name, query)),
    chart,
    names ? legend(names) : null,
  );
}

function shortDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(document.documentElement.lang, { day: "numeric", month: "short" }).format(new Date(Date.UTC(y, m - 1, d)));
}

export async function show({ state }) {
  const body = document.getElementById("overview-body");
  const days = Number(sessionStorage.getItem("console.days") || 90);
  const period = sessionStorage.getItem("console.period") || (days > 60 ? "week" : "day");
  const query = `days=${days}&period=${period}`;
  const answer = await get(`/stats?${query}`);
  if (!answer.ok) return showError(answer);
  const s = answer.data;

  const range = el("select", { id: "overview-days" });
  for (const d of [30, 90, 365]) range.append(new Option(t("admin.overview.days", { count: d }), d, false, d === days));
  const per = el("select", { id: "overview-period" });
  for (const p of ["day", "week"]) per.append(new Option(t(`admin.overview.per.${p}`), p, false, p === period));
  const apply = () => {
    sessionStorage.setItem("console.days", range.value);
    sessionStorage.setItem("console.period", per.value);
    show({ state });
  };
  range.addEventListener("change", apply);
  per.addEventListener("change", apply);

  const rate = s.hashes_with_outcome ? `${number(Math.round((1000 * s.hashes_blocked) / s.hashes_with_outcome) / 10)} %` : "—";
  const opened = s.cases.reduce((sum, r) => sum + r.opened, 0);
  const withdrawn = s.cases.reduce((sum, r) => sum + r.withdrawn, 0);
  const labels = s.cases.map((r) => shortDate(r.start));

  const periods = s.periods;
  const outcomeSeries = OUTCOMES.map((o) => ({
    name: t(`admin.outcome.${o}`),
    values: periods.map((p) => s.outcomes.filter((r) => r.start === p && r.outcome === o).reduce((a, r) => a + r.count, 0)),
  }));
  const types = [...new Set(s.hashes.map((r) => r.signal_type))];
  const typeRows = types.map((k) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, TYPES[k] || k),
      el("td", { class: "num" }, number(s.hashes.filter((r) => r.signal_type === k && r.state === "active").reduce((a, r) => a + r.hashes, 0))),
      el("td", { class: "num" }, number(s.hashes.filter((r) => r.signal_type === k && r.state !== "active").reduce((a, r) => a + r.hashes, 0))),
    ),
  );

  body.replaceChildren(
    el(
      "form",
      { class: "inline-form", onsubmit: (e) => e.preventDefault() },
      el(
        "div",
        { class: "row" },
        el("span", {}, el("label", { for: "overview-days" }, t("admin.overview.range")), range),
        el("span", {}, el("label", { for: "overview-period" }, t("admin.overview.period")), per),
      ),
    ),
    el(
      "div",
      { class: "figures" },
      figure(t("admin.overview.opened"), number(opened), "figure-opened"),
      figure(t("admin.overview.withdrawn"), number(withdrawn), "figure-withdrawn"),
      figure(t("admin.overview.removal"), rate, "figure-removal"),
      figure(t("admin.overview.median"), duration(s.median_seconds_to_first_outcome), "figure-median"),
      figure(t("admin.overview.p90"), duration(s.p90_seconds_to_first_outcome), "figure-p90"),
    ),
    el("p", { class: "actions" }, el("span", { class: "who" }, t("admin.overview.asof", { when: when(s.computed_at) })), csvLink("summary", query)),
    chartCard(
      "admin.overview.cases",
      "cases",
      query,
      barChart({
        labels,
        title: t("admin.overview.cases"),
        format: (v) => number(v),
        series: [
          { name: t("admin.overview.opened"), values: s.cases.map((r) => r.opened) },
          { name: t("admin.overview.withdrawn"), values: s.cases.map((r) => r.withdrawn) },
        ],
      }),
      [t("admin.overview.opened"), t("admin.overview.withdrawn")],
    ),
    chartCard(
      "admin.overview.outcomes",
      "outcomes",
      query,
      barChart({ labels: periods.map(shortDate), series: outcomeSeries, stacked: true, title: t("admin.overview.outcomes"), format: (v) => number(v) }),
      outcomeSeries.map((x) => x.name),
    ),
    el(
      "section",
      { class: "chart", "aria-label": t("admin.overview.hashes") },
      el("h2", {}, el("span", {}, t("admin.overview.hashes")), csvLink("hashes", query)),
      el(
        "div",
        { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("admin.overview.hashes") },
        el(
          "table",
          {},
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("admin.overview.type")), el("th", { scope: "col", class: "num" }, t("admin.state.active")), el("th", { scope: "col", class: "num" }, t("admin.overview.withdrawnhashes")))),
          el("tbody", {}, typeRows),
        ),
      ),
    ),
  );
}
