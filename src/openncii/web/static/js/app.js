// The OpenNCII web app: a six-step flow in one page (views switched by the URL fragment).
// Each view is a module of views/ (bind its controls, render its texts, enter it); this one
// routes between them, switches the language and starts the page. Files are read and
// fingerprinted in Web Workers on this device; only fingerprints are sent.

import { getLimits } from "./api.js";
import { initialLanguage, loadLanguageList, setLanguage, t, translate } from "./i18n.js";
import { $, state } from "./state.js";
import * as check from "./views/check.js";
import * as done from "./views/done.js";
import * as eligibility from "./views/eligibility.js";
import * as partners from "./views/partners.js";
import * as select from "./views/select.js";

/** The views by name (the `data-view` of their section); each may bind, render and enter. */
const VIEWS = {
  welcome: {},
  eligibility,
  "not-eligible": eligibility.notEligible,
  select,
  done,
  check,
  partners,
};

const ROUTES = {
  "": "welcome",
  "/": "welcome",
  "/eligibility": "eligibility",
  "/not-eligible": "not-eligible",
  "/select": "select",
  "/done": "done",
  "/check": "check",
  "/partners": "partners",
};

function route() {
  const path = location.hash.replace(/^#/, "");
  let view = ROUTES[path] || "welcome";
  if (state.created && !state.noted && view !== "done") {
    // The case number and PIN are shown once: do not let them slip away unnoticed.
    if (!window.confirm(t("done.leaveConfirm"))) {
      history.replaceState(null, "", "#/done");
      view = "done";
    } else {
      done.forgetCase();
    }
  }
  if (view === "select" && !eligibility.allEligible()) view = "eligibility";
  if (view === "done" && !state.created) view = "welcome";
  show(view);
}

function show(view) {
  // Move focus to the new view's heading (screen readers announce it), but not on first load.
  const changed = state.view !== null && state.view !== view;
  state.view = view;
  for (const section of document.querySelectorAll("[data-view]")) {
    section.hidden = section.dataset.view !== view;
  }
  $("loading").hidden = true;
  document.body.dataset.currentView = view;
  const h1 = document.querySelector(`section[data-view="${view}"] h1`);
  document.title = `${h1 ? h1.textContent : ""} · OpenNCII`;
  VIEWS[view].enter?.();
  if (changed && h1) {
    window.scrollTo(0, 0);
    h1.focus({ preventScroll: true });
  }
}

function refreshTitle() {
  const h1 = document.querySelector(`section[data-view="${state.view}"] h1`);
  if (h1) document.title = `${h1.textContent} · OpenNCII`;
}

// ---------------------------------------------------------------------------------------------
// Language

async function renderLanguageSelect() {
  const select = $("language");
  const languages = await loadLanguageList();
  select.replaceChildren(
    ...languages.map((l) => {
      const option = document.createElement("option");
      option.value = l.code;
      option.lang = l.code;
      option.textContent = l.name;
      return option;
    }),
  );
  select.addEventListener("change", async () => {
    await switchLanguage(select.value);
  });
}

async function switchLanguage(code) {
  const chosen = await setLanguage(code);
  $("language").value = chosen;
  const url = new URL(location.href);
  url.searchParams.set("lang", chosen);
  history.replaceState(null, "", url);
  renderAll();
}

function renderAll() {
  translate();
  for (const view of [eligibility, select, done, eligibility.notEligible, check]) view.render();
  if (state.view === "partners") partners.enter();
  refreshTitle();
}

// ---------------------------------------------------------------------------------------------
// Start

/** The service's limits (GET /api/v1/limits); without them the server still refuses too much. */
async function loadLimits() {
  const result = await getLimits();
  if (result.ok && result.data) state.limits = result.data;
}

async function start() {
  for (const view of Object.values(VIEWS)) view.bind?.();
  window.addEventListener("hashchange", route);
  const limits = loadLimits();
  await renderLanguageSelect();
  const chosen = await setLanguage(initialLanguage());
  $("language").value = chosen;
  await limits;
  renderAll();
  route();
  document.body.dataset.ready = "true";
}

start().catch(() => {
  // Without its texts the page cannot speak any language well: say so in all three.
  $("loading").textContent =
    "OpenNCII could not start. Please reload the page. / OpenNCII kon niet starten. Laad de pagina opnieuw. / OpenNCII n'a pas pu démarrer. Veuillez recharger la page.";
});
