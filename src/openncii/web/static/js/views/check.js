// Step 6: check my case with its number and PIN, read what partners reported, withdraw it.

import { caseStatus, withdrawCase } from "../api.js";
import { formatDate, t, tn } from "../i18n.js";
import { $, errorMessage, state } from "../state.js";

const OUTCOMES = ["PendingReview", "Blocked", "NotBlocked", "Withdrawn", "Deleted", "None", "QualityUnknown"];

function normaliseCaseNumber(value) {
  return value.trim().toUpperCase().replace(/\s+/g, "");
}

async function onCheck(event) {
  event.preventDefault();
  const caseNumber = normaliseCaseNumber($("check-case").value);
  const pin = $("check-pin").value.trim();
  if (!caseNumber || !pin) {
    state.checkError = "errors.missingFields";
    renderCheckError();
    return;
  }
  const button = event.submitter || $("check-form").querySelector("button");
  button.disabled = true;
  const result = await caseStatus(caseNumber, pin);
  button.disabled = false;
  if (result.ok && result.data) {
    state.check = { caseNumber, pin, data: result.data, withdrawn: false };
    state.checkError = null;
    renderCheckError();
    renderStatus();
    $("case-status").focus();
  } else {
    state.check = null;
    $("case-status").hidden = true;
    state.checkError = { result };
    renderCheckError();
  }
}

// The warning before the last PIN tries: the server says how many are left (tries_left) in
// every refusal of a wrong case number or PIN; we speak from 2 on. Made here, under the error.
const WARN_AT = 2;

function triesElement() {
  let el = document.getElementById("check-tries");
  if (!el) {
    el = document.createElement("p");
    el.id = "check-tries";
    el.className = "warning";
    el.dataset.testid = "check-tries";
    el.setAttribute("role", "status");
    $("check-error").after(el);
  }
  return el;
}

function triesWords(result) {
  const left = result && result.status === 401 && result.data ? result.data.tries_left : undefined;
  if (typeof left !== "number" || left > WARN_AT) return null;
  return left <= 0 ? t("check.lastTry") : tn("check.triesLeft", left);
}

function renderCheckError() {
  const el = $("check-error");
  const tries = triesElement();
  if (!state.checkError) {
    el.hidden = true;
    tries.hidden = true;
    return;
  }
  el.textContent =
    typeof state.checkError === "string" ? t(state.checkError) : errorMessage(state.checkError.result, "check");
  el.hidden = false;
  const words = typeof state.checkError === "string" ? null : triesWords(state.checkError.result);
  tries.textContent = words || "";
  tries.hidden = !words;
}

function outcomeWords(outcome) {
  const key = OUTCOMES.includes(outcome) ? outcome : "None";
  return t(`outcome.${key}`);
}

function pick(obj, names) {
  for (const n of names) if (obj && obj[n] !== undefined && obj[n] !== null) return obj[n];
  return undefined;
}

/** A photo's fingerprints (robust matching sends several per photo, each with the photo's
 * number) as one entry: the first one's prefix, every partner's outcome once, disabled when
 * the helpline disabled them (it disables a photo's fingerprints together). */
function onePerPhoto(hashes) {
  const out = [];
  const photos = new Map();
  for (const hash of hashes) {
    const photo = hash.photo;
    if (photo === null || photo === undefined) {
      out.push(hash);
      continue;
    }
    const seen = photos.get(photo);
    if (seen && hash.disabled) seen.disabled = true;
    if (!seen) {
      const entry = { ...hash, type: "pdq", outcomes: [...(hash.outcomes || [])] };
      photos.set(photo, entry);
      out.push(entry);
      continue;
    }
    for (const o of hash.outcomes || []) {
      if (!seen.outcomes.some((x) => x.partner === o.partner && x.outcome === o.outcome)) seen.outcomes.push(o);
    }
  }
  return out;
}

function renderStatus() {
  const { data } = state.check;
  const box = $("case-status");
  box.hidden = false;
  const status = String(pick(data, ["status", "state"]) || "active").toLowerCase();
  $("status-case").textContent = pick(data, ["case_number"]) || state.check.caseNumber;
  $("status-state").textContent = t(`status.${["active", "withdrawn", "received", "deleted"].includes(status) ? status : "active"}`);
  $("status-state").dataset.status = status;
  const created = pick(data, ["created_at", "created", "opened_at"]);
  $("status-created").textContent = created ? formatDate(created) : "—";
  const noPartners = state.partners !== null && state.partners.length === 0;
  $("status-explain").textContent =
    status === "withdrawn"
      ? t("status.withdrawn.explain")
      : t(noPartners ? "status.active.none" : "status.active.explain");
  const list = $("status-hashes");
  list.replaceChildren();
  const hashes = onePerPhoto(pick(data, ["hashes", "items"]) || []);
  for (const hash of hashes) {
    const li = document.createElement("li");
    const title = document.createElement("p");
    title.className = "hash-title";
    const type = String(pick(hash, ["type", "signal_type"]) || "").toLowerCase();
    const prefix = pick(hash, ["prefix", "value_prefix", "short"]) || "";
    title.textContent = t(`hashType.${["pdq", "md5", "vpdq"].includes(type) ? type : "other"}`, { prefix });
    li.append(title);
    if (hash.disabled) {
      const note = document.createElement("p");
      note.className = "hash-disabled";
      note.dataset.testid = "hash-disabled";
      note.textContent = t("status.disabled.hash");
      li.append(note);
    }
    const outcomes = pick(hash, ["outcomes", "partners", "feedback"]) || [];
    if (outcomes.length) {
      const sub = document.createElement("ul");
      for (const o of outcomes) {
        const row = document.createElement("li");
        const partner = pick(o, ["partner", "partner_name", "name"]) || "";
        const outcome = pick(o, ["outcome", "status", "feedback"]) || "None";
        const when = pick(o, ["at", "when", "updated_at", "reported_at"]);
        row.textContent = t("outcome.line", { partner, outcome: outcomeWords(outcome) });
        if (when) {
          const time = document.createElement("span");
          time.className = "when";
          time.textContent = ` (${formatDate(when)})`;
          row.append(time);
        }
        row.dataset.outcome = outcome;
        sub.append(row);
      }
      li.append(sub);
    }
    list.append(li);
  }
  // When nobody has reported anything yet, say so once rather than under every fingerprint.
  const anyOutcome = hashes.some((h) => (pick(h, ["outcomes", "partners", "feedback"]) || []).length);
  $("status-none").hidden = anyOutcome || status === "withdrawn" || noPartners;
  $("status-disabled").hidden = !hashes.some((h) => h.disabled);
  const withdrawn = status === "withdrawn";
  $("withdraw-area").hidden = withdrawn;
  $("withdraw-done").hidden = !state.check.withdrawn;
}

function onWithdrawStart() {
  $("withdraw-confirm").hidden = false;
  $("withdraw-start").hidden = true;
  // The safe choice has the focus: pressing Enter twice must not withdraw the case.
  $("withdraw-no").focus();
}

function onWithdrawCancel() {
  $("withdraw-confirm").hidden = true;
  $("withdraw-start").hidden = false;
  $("withdraw-start").focus();
}

async function onWithdrawConfirm() {
  const { caseNumber, pin } = state.check;
  $("withdraw-yes").disabled = true;
  const result = await withdrawCase(caseNumber, pin);
  $("withdraw-yes").disabled = false;
  $("withdraw-confirm").hidden = true;
  $("withdraw-start").hidden = false;
  if (!result.ok) {
    state.checkError = { result };
    renderCheckError();
    $("check-error").focus?.();
    return;
  }
  const refreshed = await caseStatus(caseNumber, pin);
  const data = refreshed.ok && refreshed.data ? refreshed.data : { ...state.check.data, status: "withdrawn" };
  // The case is withdrawn: its number and PIN are no longer needed here.
  state.check = { caseNumber, pin: null, data, withdrawn: true };
  clearCheckForm();
  renderStatus();
  $("withdraw-done").focus();
}

function clearCheckForm() {
  $("check-case").value = "";
  $("check-pin").value = "";
}

/** Forget the case being looked at and clear the form (the quick exit). */
export function forgetCheck() {
  state.check = null;
  state.checkError = null;
  clearCheckForm();
  renderCheckError();
  $("case-status").hidden = true;
}

export function enter() {
  // "Step 6 of 6" only for the person who has just gone through the steps on this page.
  $("check-step").hidden = !state.justFinished;
}

export function bind() {
  $("check-form").addEventListener("submit", onCheck);
  $("withdraw-start").addEventListener("click", onWithdrawStart);
  $("withdraw-no").addEventListener("click", onWithdrawCancel);
  $("withdraw-yes").addEventListener("click", onWithdrawConfirm);
}

export function render() {
  renderCheckError();
  if (state.check && state.check.data) renderStatus();
}
