// The OpenNCII web app: a six-step flow in one page (views switched by the URL fragment).
// Each view is a module of views/ (bind its controls, render its texts, enter it); this one
// routes between them, switches the language and starts the page. Files are read and
// fingerprinted in Web Workers on this device; only fingerprints are sent.

import { getLimits, listPartners } from "./api.js";
import { initialLanguage, loadLanguageList, setLanguage, t, translate } from "./i18n.js";
import { loadOrganisation, renderOrganisation } from "./organisation.js";
import { $, state } from "./state.js";
import * as check from "./views/check.js";
import * as done from "./views/done.js";
import * as eligibility from "./views/eligibility.js";
import * as finished from "./views/finished.js";
import * as partners from "./views/partners.js";
import * as select from "./views/select.js";

/** The views by name (the `data-view` of their section); each may bind, render and enter. */
const VIEWS = {
  welcome: {},
  eligibility,
  "not-eligible": eligibility.notEligible,
  select,
  done,
  finished,
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
  "/finished": "finished",
  "/check": "check",
  "/partners": "partners",
};

function route() {
  const path = location.hash.replace(/^#/, "");
  let view = ROUTES[path] || "welcome";
  if (state.created && view !== "done") {
    // The case number and PIN are shown once: do not let them slip away unnoticed; once the
    // person has noted them, leaving the page forgets them (Back will not show them again).
    if (!state.noted && !window.confirm(t("done.leaveConfirm"))) {
      history.replaceState(null, "", "#/done");
      view = "done";
    } else {
      done.forgetCase();
    }
  }
  // Leaving the check view forgets the case number and PIN typed there (a shared device).
  if (state.view === "check" && view !== "check") check.forgetCheck();
  if (view === "select" && !eligibility.allEligible()) view = "eligibility";
  if (view === "done" && !state.created) {
    // A reload or Back to the PIN page after it was left: the numbers are gone for good; say so.
    state.caseGone = true;
    history.replaceState(null, "", "#/finished");
    view = "finished";
  }
  show(view);
}

/** Quick exit: forget everything on the page and replace it (and its history entry) with a
 * neutral site (the button's data-exit address, in the HTML). */
function quickExit() {
  done.forgetCase();
  check.forgetCheck();
  location.replace($("quick-exit").dataset.exit);
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
  // One neutral tab title on every view: a shared screen or the history says nothing more.
  document.title = "OpenNCII";
  const h1 = document.querySelector(`section[data-view="${view}"] h1`);
  VIEWS[view].enter?.();
  if (changed && h1) {
    window.scrollTo(0, 0);
    h1.focus({ preventScroll: true });
  }
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
  for (const view of [eligibility, select, done, finished, eligibility.notEligible, check]) {
    view.render();
  }
  partners.renderPartnerTexts();
  renderOrganisation();
  if (state.view === "partners") partners.enter();
}

// ---------------------------------------------------------------------------------------------
// Start

/** The service's limits (GET /api/v1/limits); without them the server still refuses too much. */
async function loadLimits() {
  const result = await getLimits();
  if (result.ok && result.data) state.limits = result.data;
}

/** The participating companies' names (GET /api/v1/partners): the pages name them, or say
 * plainly that there are none yet. Unknown (null) when the list could not be read. */
async function loadPartners() {
  const result = await listPartners();
  if (result.ok && result.data && Array.isArray(result.data.partners)) {
    state.partners = result.data.partners.map((p) => p.name);
  }
}

async function start() {
  for (const view of Object.values(VIEWS)) view.bind?.();
  window.addEventListener("hashchange", route);
  $("quick-exit").addEventListener("click", quickExit);
  const limits = loadLimits();
  const partnerNames = loadPartners();
  const organisation = loadOrganisation();
  await renderLanguageSelect();
  const chosen = await setLanguage(initialLanguage());
  $("language").value = chosen;
  await limits;
  await partnerNames;
  await organisation;
  renderAll();
  route();
  document.body.dataset.ready = "true";
}

start().catch(() => {
  // Without its texts the page cannot speak any language well: say so in all three.
  $("loading").textContent =
    "OpenNCII could not start. Please reload the page. / OpenNCII kon niet starten. Laad de pagina opnieuw. / OpenNCII n'a pas pu démarrer. Veuillez recharger la page.";
});
