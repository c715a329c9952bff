// The participating companies (their public names).

import { listPartners } from "../api.js";
import { t } from "../i18n.js";
import { $ } from "../state.js";

async function loadPartners() {
  const result = await listPartners();
  const list = $("partners-list");
  list.replaceChildren();
  const raw = result.ok ? result.data : null;
  const partners = Array.isArray(raw) ? raw : (raw && raw.partners) || [];
  for (const p of partners) {
    const li = document.createElement("li");
    li.textContent = typeof p === "string" ? p : p.name;
    list.append(li);
  }
  $("partners-empty").hidden = partners.length > 0;
  if (result.ok && !partners.length) $("partners-empty").textContent = t("partners.none");
  else $("partners-empty").textContent = t("partners.empty");
}

export const enter = loadPartners;
