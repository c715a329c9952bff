// The audit log (admins): the newest entries; the whole log as CSV.

import { t } from "/js/i18n.js";
import { get } from "../api.js";
import { el, fillTable, showError, when } from "../dom.js";

export async function show() {
  const answer = await get("/audit?limit=500");
  if (!answer.ok) return showError(answer);
  fillTable(
    document.getElementById("audit-table"),
    answer.data.entries.map((e) => {
      const action = t(`admin.action.${e.action}`);
      return el(
        "tr",
        {},
        el("td", {}, when(e.at)),
        el("td", {}, e.actor || "—"),
        el("td", {}, action),
        el("td", {}, e.target || ""),
        el("td", {}, e.network === "shell" ? t("admin.audit.shell") : e.network || ""),
        el("td", {}, e.detail || ""),
      );
    }),
  );
}
