// Staff accounts (admins): add with a one-time set-up link, disable, reset.

import { t } from "/js/i18n.js";
import { get, post } from "../api.js";
import { clearMessages, el, fillTable, showError, showNotice, when } from "../dom.js";

let refresh = null;

function showLink(data) {
  document.getElementById("staff-link").hidden = false;
  document.getElementById("staff-link-url").textContent = data.setup_url;
  document.getElementById("staff-link-expires").textContent = when(data.expires_at);
}

async function act(path, confirmKey, email) {
  if (confirmKey && !window.confirm(t(confirmKey, { email }))) return;
  clearMessages();
  const answer = await post(path);
  if (!answer.ok) return showError(answer);
  if (answer.data.setup_url) showLink(answer.data);
  await refresh();
}

export function init() {
  document.getElementById("staff-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages();
    const email = document.getElementById("staff-email");
    const answer = await post("/staff", { email: email.value, role: document.getElementById("staff-role").value });
    if (!answer.ok) return showError(answer);
    email.value = "";
    showLink(answer.data);
    showNotice(t("admin.staff.added", { email: answer.data.staff.email }));
    await refresh();
  });
}

export async function show({ state }) {
  document.getElementById("staff-link").hidden = true;
  refresh = async () => {
    const answer = await get("/staff");
    if (!answer.ok) return showError(answer);
    fillTable(
      document.getElementById("staff-table"),
      answer.data.map((s) => {
        const path = `/staff/${encodeURIComponent(s.email)}`;
        const self = s.email === state.me.staff.email;
        return el(
          "tr",
          {},
          el("td", {}, s.email),
          el("td", {}, t(`admin.role.${s.role}`)),
          el("td", {}, t(`admin.state.${s.state}`)),
          el(
            "td",
            {},
            el("button", { type: "button", class: "button small", onclick: () => act(`${path}/reset`, "admin.staff.confirm.reset", s.email) }, t("admin.staff.reset")),
            s.state === "disabled" || self
              ? null
              : el("button", { type: "button", class: "button small danger", onclick: () => act(`${path}/disable`, "admin.staff.confirm.disable", s.email) }, t("admin.staff.disable")),
          ),
        );
      }),
    );
  };
  await refresh();
}
