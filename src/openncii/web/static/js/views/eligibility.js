// Step 2: the five eligibility questions, and the kind page for those who cannot use the service.

import { t } from "../i18n.js";
import { $, state } from "../state.js";
import { showHelplines } from "../helplines.js";

export const QUESTIONS = ["in_image", "adult_when_taken", "adult_now", "has_content", "intimate"];

for (const q of QUESTIONS) state.answers[q] = null;

export function allEligible() {
  return QUESTIONS.every((q) => state.answers[q] === true);
}

function renderQuestions() {
  const container = $("questions");
  container.replaceChildren();
  for (const q of QUESTIONS) {
    const fieldset = document.createElement("fieldset");
    fieldset.className = "question";
    fieldset.id = `question-${q}`;
    const legend = document.createElement("legend");
    legend.textContent = t(`eligibility.${q}.question`);
    fieldset.append(legend);
    const choices = document.createElement("div");
    choices.className = "choices";
    for (const value of [true, false]) {
      const id = `answer-${q}-${value ? "yes" : "no"}`;
      const wrap = document.createElement("div");
      wrap.className = "choice";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = q;
      input.id = id;
      input.value = value ? "yes" : "no";
      input.checked = state.answers[q] === value;
      input.dataset.testid = value ? `eligibility-${q}` : `eligibility-${q}-no`;
      input.addEventListener("change", () => {
        state.answers[q] = value;
        fieldset.classList.remove("invalid");
        fieldset.removeAttribute("aria-invalid");
      });
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = t(value ? "common.yes" : "common.no");
      wrap.append(input, label);
      choices.append(wrap);
    }
    fieldset.append(choices);
    const details = document.createElement("details");
    details.className = "why";
    const summary = document.createElement("summary");
    summary.textContent = t("eligibility.why");
    const explanation = document.createElement("p");
    explanation.textContent = t(`eligibility.${q}.why`);
    details.append(summary, explanation);
    fieldset.append(details);
    container.append(fieldset);
  }
}

function onEligibilitySubmit(event) {
  event.preventDefault();
  const missing = QUESTIONS.filter((q) => state.answers[q] === null);
  const error = $("eligibility-error");
  if (missing.length) {
    error.textContent = t("eligibility.missing");
    error.hidden = false;
    for (const q of missing) $(`question-${q}`).classList.add("invalid");
    $(`answer-${missing[0]}-yes`).focus();
    return;
  }
  error.hidden = true;
  location.hash = allEligible() ? "#/select" : "#/not-eligible";
}

function renderNotEligible() {
  const minor = state.answers.adult_when_taken === false || state.answers.adult_now === false;
  $("help-minor").hidden = !minor;
  const reasons = ["in_image", "has_content", "intimate"].filter((q) => state.answers[q] === false);
  $("help-other").hidden = reasons.length === 0;
  $("noteligible-reason").textContent = reasons.map((q) => t(`noteligible.reason.${q}`)).join(" ");
  // Files on another device: this page works there too.
  $("noteligible-device").hidden = state.answers.has_content !== false;
  if (state.view === "not-eligible") showHelplines();
}

/** The "not eligible" view. */
export const notEligible = { enter: renderNotEligible, render: renderNotEligible };

export function bind() {
  $("eligibility-form").addEventListener("submit", onEligibilitySubmit);
}

export function render() {
  renderQuestions();
}
