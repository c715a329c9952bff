// Step 5: the case number and PIN, shown once; copy or save them, and confirm they are noted.
// Once confirmed they are gone: from the page, from the history (the entry of this view is
// replaced by the next-steps view, views/finished.js) and from the app's memory.

import { t } from "../i18n.js";
import { $, filesText, state } from "../state.js";
import { partnersText } from "./partners.js";

function renderDone() {
  if (!state.created) return;
  $("case-number").textContent = state.created.case_number;
  $("pin").textContent = state.created.pin;
  // The photos and videos the review counted, not the hashes (a photo has several).
  const { photos = 0, videos = 0 } = state.created;
  $("done-lead").textContent = t("done.received", { items: filesText(photos, videos) });
  $("done-partners").textContent = partnersText("done.partners");
  $("noted").checked = state.noted;
  $("finish").disabled = !state.noted;
}

/** Forget the case number and PIN: the person finished, or left the page. */
export function forgetCase() {
  state.created = null;
  state.noted = false;
  $("case-number").textContent = "";
  $("pin").textContent = "";
  $("copy-status").textContent = "";
  $("done-lead").textContent = "";
  $("noted").checked = false;
  $("finish").disabled = true;
}


async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

async function onCopy(which) {
  const value = which === "case" ? state.created.case_number : state.created.pin;
  const ok = await copyText(value);
  $("copy-status").textContent = ok ? t(which === "case" ? "done.copiedCase" : "done.copiedPin") : t("done.copyFailed");
}

function onSave() {
  const lines = [
    t("done.file.title"),
    "",
    `${t("done.caseNumber")}: ${state.created.case_number}`,
    `${t("done.pin")}: ${state.created.pin}`,
    "",
    t("done.file.check", { url: `${location.origin}${location.pathname}#/check` }),
    t("done.warning.text"),
    "",
  ];
  const blob = new Blob([lines.join("\r\n")], { type: "text/plain;charset=utf-8" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `openncii-${state.created.case_number}.txt`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  $("copy-status").textContent = t("done.saved");
}

function onFinish(event) {
  event.preventDefault();
  if (!state.noted) return;
  forgetCase();
  state.justFinished = true;
  // Replace this view's history entry: Back (or Home, then Back) cannot bring the PIN back.
  location.replace("#/finished");
}

export function bind() {
  $("copy-case").addEventListener("click", () => onCopy("case"));
  $("copy-pin").addEventListener("click", () => onCopy("pin"));
  $("save-text").addEventListener("click", onSave);
  $("noted").addEventListener("change", (event) => {
    state.noted = event.target.checked;
    $("finish").disabled = !state.noted;
  });
  $("done-form").addEventListener("submit", onFinish);
  window.addEventListener("beforeunload", (event) => {
    if (state.created && !state.noted) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}

export const render = renderDone;
export const enter = renderDone;
