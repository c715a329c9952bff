// Overview: what the console offers (the statistics come with their own module).

import { t } from "/js/i18n.js";
import { el } from "../dom.js";

export async function show({ state }) {
  const body = document.getElementById("overview-body");
  body.replaceChildren(el("p", { class: "lead" }, t("admin.overview.welcome", { email: state.me.staff.email })));
}
