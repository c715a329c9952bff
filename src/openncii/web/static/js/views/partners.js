// The participating companies (their public names), and the sentences that depend on them: the
// pages name the companies when there are some and say plainly when there are none yet.

import { listPartners } from "../api.js";
import { t } from "../i18n.js";
import { $, state } from "../state.js";

/** The names joined as a list in the current language ("A, B and C"). */
function joinedNames(names) {
  try {
    return new Intl.ListFormat(document.documentElement.lang, { type: "conjunction" }).format(names);
  } catch {
    return names.join(", ");
  }
}

/** The text of `${key}.some` (naming the companies), `${key}.none` (there are none yet) or
 * `${key}.unknown` (the list could not be read). */
export function partnersText(key) {
  if (state.partners === null) return t(`${key}.unknown`);
  if (!state.partners.length) return t(`${key}.none`);
  return t(`${key}.some`, { names: joinedNames(state.partners) });
}

/** Fill the sentences about the companies on the welcome, case and next-steps views. */
export function renderPartnerTexts() {
  $("welcome-partners").textContent = partnersText("welcome.partners");
  $("welcome-partners").className = state.partners && !state.partners.length ? "notice" : "";
  $("done-partners").textContent = partnersText("done.partners");
  $("finished-text").textContent = partnersText("done.partners");
}

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
