// The helpline console: one page, one view per #/route. Sign-in and set-up need no session; every
// other view loads its data from /admin/api with the session cookie.

import { initialLanguage, loadLanguageList, setLanguage, t, translate } from "/js/i18n.js";
import { get, del, post, setCsrf } from "./api.js";
import { clearMessages, showError } from "./dom.js";
import * as signin from "./views/signin.js";
import * as setup from "./views/setup.js";
import * as overview from "./views/overview.js";
import * as partners from "./views/partners.js";
import * as review from "./views/review.js";
import * as staff from "./views/staff.js";
import * as audit from "./views/audit.js";
import * as settings from "./views/settings.js";

const VIEWS = { signin, setup, overview, partners, review, staff, audit, settings };
const ADMIN_ONLY = new Set(["staff", "audit"]);

export const state = { me: null };

function route() {
  const hash = location.hash || "";
  if (hash.startsWith("#setup=")) return { name: "setup", arg: hash.slice("#setup=".length) };
  const name = hash.replace(/^#\/?/, "").split("/")[0] || "overview";
  return { name: VIEWS[name] ? name : "overview", arg: null };
}

function showChrome() {
  const signedIn = Boolean(state.me);
  document.getElementById("console-nav").hidden = !signedIn;
  document.getElementById("sign-out").hidden = !signedIn;
  const who = document.getElementById("who");
  who.hidden = !signedIn;
  if (signedIn) {
    who.textContent = `${state.me.staff.email} (${t(`admin.role.${state.me.staff.role}`)})`;
    for (const link of document.querySelectorAll("[data-admin]")) link.hidden = state.me.staff.role !== "admin";
  }
}

async function loadSession() {
  const answer = await get("/session");
  state.me = answer.ok ? answer.data : null;
  setCsrf(state.me ? state.me.csrf_token : null);
  return state.me;
}

export async function render() {
  clearMessages();
  let { name, arg } = route();
  if (name !== "setup") {
    await loadSession();
    if (!state.me) name = "signin";
    else if (ADMIN_ONLY.has(name) && state.me.staff.role !== "admin") name = "overview";
  }
  showChrome();
  for (const section of document.querySelectorAll("[data-view]")) section.hidden = section.dataset.view !== name;
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.getElementById("loading").hidden = true;
  await VIEWS[name].show({ arg, state, render });
  const heading = document.querySelector(`[data-view="${name}"] h1`);
  document.title = `${heading ? heading.textContent : ""} — ${t("admin.brand")}`;
  if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
}

/** Called by the sign-in and set-up views when a session starts. */
export function signedIn(me) {
  state.me = me;
  setCsrf(me.csrf_token);
}

async function start() {
  const languages = await loadLanguageList();
  const select = document.getElementById("language");
  for (const { code, name } of languages) select.append(new Option(name, code));
  select.value = await setLanguage(initialLanguage());
  translate();
  select.addEventListener("change", async () => {
    await setLanguage(select.value);
    translate();
    await render();
  });
  document.getElementById("sign-out").addEventListener("click", async () => {
    const answer = await del("/session");
    if (!answer.ok && answer.status !== 401) return showError(answer);
    state.me = null;
    setCsrf(null);
    location.hash = "#/signin";
    await render();
  });
  for (const view of Object.values(VIEWS)) view.init?.({ state, render, signedIn, post });
  window.addEventListener("hashchange", () => render());
  await render();
}

start();
