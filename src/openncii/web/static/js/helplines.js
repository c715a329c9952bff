// Local helplines for the person's language, as the helpline running the service keeps them
// (`openncii helplines`): shown on the page for those this service cannot help.

import { listHelplines } from "./api.js";
import { language, t } from "./i18n.js";
import { $ } from "./state.js";

function countryName(code) {
  try {
    return new Intl.DisplayNames([language()], { type: "region" }).of(code) || code;
  } catch {
    return code;
  }
}

function helplineItem(helpline) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = helpline.url;
  link.rel = "noopener noreferrer";
  link.textContent = t("helplines.line", { name: helpline.name, country: countryName(helpline.country) });
  li.append(link);
  if (helpline.phone) {
    const phone = document.createElement("a");
    phone.href = `tel:${helpline.phone.replace(/[^+\d]/g, "")}`;
    phone.textContent = helpline.phone;
    phone.className = "phone";
    li.append(" ", t("helplines.phone"), " ", phone);
  }
  return li;
}

let shown = null; // the language whose helplines the list holds

/** Show the helplines for the current language (fetched once per language). */
export async function showHelplines() {
  const lang = language();
  if (shown === lang) return;
  const result = await listHelplines(lang);
  const list = $("helplines");
  const helplines = result.ok && result.data ? result.data.helplines || [] : [];
  list.replaceChildren(...helplines.map(helplineItem));
  shown = result.ok ? lang : null;
}
