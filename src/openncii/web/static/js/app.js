// The OpenNCII web app: a six-step flow in one page (views switched by the URL fragment).
// Files are read and fingerprinted in Web Workers on this device; only fingerprints are sent.

import { caseStatus, createCase, listPartners, withdrawCase } from "./api.js";
import {
  formatDate,
  initialLanguage,
  language,
  loadLanguageList,
  setLanguage,
  t,
  tn,
  translate,
} from "./i18n.js";

const QUESTIONS = ["in_image", "adult_when_taken", "adult_now", "has_content", "intimate"];
const MIN_QUALITY = 50;
const MAX_HASHES = 200;
const OUTCOMES = ["PendingReview", "Blocked", "NotBlocked", "Withdrawn", "Deleted", "None", "QualityUnknown"];

const state = {
  answers: Object.fromEntries(QUESTIONS.map((q) => [q, null])),
  items: [], // {id, file, kind, status, fraction, result, element}
  nextId: 1,
  created: null, // {case_number, pin, hash_count}
  noted: false,
  check: null, // {caseNumber, pin, data}
  view: null,
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// Views and routing

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

function allEligible() {
  return QUESTIONS.every((q) => state.answers[q] === true);
}

function route() {
  const path = location.hash.replace(/^#/, "");
  let view = ROUTES[path] || "welcome";
  if (state.created && !state.noted && view !== "done") {
    // The case number and PIN are shown once: do not let them slip away unnoticed.
    if (!window.confirm(t("done.leaveConfirm"))) {
      history.replaceState(null, "", "#/done");
      view = "done";
    } else {
      forgetCase();
    }
  }
  if (view === "select" && !allEligible()) view = "eligibility";
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
  if (view === "not-eligible") renderNotEligible();
  const h1 = document.querySelector(`section[data-view="${view}"] h1`);
  document.title = `${h1 ? h1.textContent : ""} · OpenNCII`;
  if (view === "partners") loadPartners();
  // Start the hashing workers as the file step opens: the first photo picked then finds
  // them loaded (a fresh worker takes 30-100 ms to load its modules).
  if (view === "select") ensureWorkers();
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
  renderQuestions();
  renderItems();
  renderReview();
  renderDone();
  renderNotEligible();
  renderCheckError();
  if (state.check && state.check.data) renderStatus();
  if (state.view === "partners") loadPartners();
  refreshTitle();
}

// ---------------------------------------------------------------------------------------------
// Step 2: eligibility

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
}

// ---------------------------------------------------------------------------------------------
// Step 3: files and hashing (in workers)

const workers = [];
const busy = new Map(); // worker -> item id

function workerCount() {
  const cores = navigator.hardwareConcurrency || 2;
  return Math.max(1, Math.min(4, cores - 1));
}

function ensureWorkers() {
  while (workers.length < workerCount()) {
    const worker = new Worker(new URL("./hash-worker.js", import.meta.url), { type: "module" });
    worker.addEventListener("message", (event) => onWorkerMessage(worker, event.data));
    worker.addEventListener("error", () => onWorkerCrash(worker));
    workers.push(worker);
  }
}

function dispatch() {
  ensureWorkers();
  for (const worker of workers) {
    if (busy.has(worker)) continue;
    const item = state.items.find((i) => i.status === "queued");
    if (!item) break;
    item.status = "hashing";
    busy.set(worker, item.id);
    worker.postMessage({ type: "hash", id: item.id, file: item.file });
    renderItem(item);
  }
  renderProgress();
  renderReview();
}

function findItem(id) {
  return state.items.find((i) => i.id === id);
}

function onWorkerMessage(worker, msg) {
  const item = findItem(msg.id);
  if (msg.type === "progress") {
    if (item) {
      item.fraction = msg.fraction;
      renderProgress();
    }
    return;
  }
  if (msg.type !== "done" && msg.type !== "failed") return;
  busy.delete(worker);
  if (item) {
    item.fraction = 1;
    if (msg.type === "failed") {
      item.status = "failed";
      item.reason = msg.reason;
    } else {
      item.kind = msg.kind;
      item.result = msg;
      if (msg.kind === "image") item.status = msg.quality >= MIN_QUALITY ? "done" : "low";
      else item.status = "done";
    }
    item.file = null; // nothing of the file is kept once it is fingerprinted
    renderItem(item);
  } else if (msg.thumb) {
    msg.thumb.close();
  }
  dispatch();
}

function onWorkerCrash(worker) {
  const id = busy.get(worker);
  busy.delete(worker);
  workers.splice(workers.indexOf(worker), 1);
  worker.terminate();
  const item = id && findItem(id);
  if (item) {
    item.status = "failed";
    item.reason = "unreadable";
    item.fraction = 1;
    renderItem(item);
  }
  dispatch();
}

function addFiles(files) {
  for (const file of files) {
    state.items.push({ id: state.nextId++, file, status: "queued", fraction: 0, name: file.name });
  }
  renderItems();
  dispatch();
}

function removeItem(id) {
  const index = state.items.findIndex((i) => i.id === id);
  if (index < 0) return;
  const [item] = state.items.splice(index, 1);
  if (item.result && item.result.thumb) item.result.thumb.close();
  if (item.status === "hashing") {
    // Stop the work on that file: terminate its worker; another one is started on demand.
    for (const [worker, busyId] of busy) {
      if (busyId === id) {
        busy.delete(worker);
        workers.splice(workers.indexOf(worker), 1);
        worker.terminate();
      }
    }
  }
  renderItems();
  dispatch();
}

function clearItems() {
  for (const item of [...state.items]) removeItem(item.id);
  $("file-input").value = "";
  $("submit-error").hidden = true;
}

function statusText(item) {
  if (item.status === "queued") return t("item.queued");
  if (item.status === "hashing") return t("item.hashing");
  if (item.status === "failed") return t(item.reason === "unsupported" ? "item.unsupported" : "item.unreadable");
  if (item.status === "low") return t("item.lowQuality");
  if (item.status === "refused") return t("item.refused");
  if (item.kind === "video") {
    const usable = item.result.frames.filter((f) => f.quality >= MIN_QUALITY).length;
    return usable ? tn("item.videoFrames", usable) : t("item.videoMd5Only");
  }
  return t("item.ready");
}

function renderItem(item) {
  const li = item.element || document.createElement("li");
  item.element = li;
  li.className = `item item-${item.status}`;
  li.dataset.status = item.status;
  li.replaceChildren();
  const thumb = document.createElement("canvas");
  thumb.className = "thumb";
  thumb.setAttribute("aria-hidden", "true");
  if (item.result && item.result.thumb) {
    thumb.width = item.result.thumb.width;
    thumb.height = item.result.thumb.height;
    thumb.getContext("2d").drawImage(item.result.thumb, 0, 0);
  } else {
    thumb.width = 1;
    thumb.height = 1;
    thumb.classList.add("empty");
  }
  const text = document.createElement("div");
  text.className = "item-text";
  const name = document.createElement("p");
  name.className = "item-name";
  name.textContent = item.name;
  const status = document.createElement("p");
  status.className = "item-status";
  status.textContent = statusText(item);
  text.append(name, status);
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "button small";
  remove.textContent = t("item.remove");
  remove.setAttribute("aria-label", t("item.removeNamed", { name: item.name }));
  remove.addEventListener("click", () => removeItem(item.id));
  li.append(thumb, text, remove);
  if (!li.isConnected) $("items").append(li);
  renderProgress();
  renderReview();
}

function renderItems() {
  $("items").replaceChildren();
  for (const item of state.items) {
    item.element = null;
    renderItem(item);
  }
  renderProgress();
  renderReview();
}

function hashingDone() {
  return state.items.length > 0 && state.items.every((i) => !["queued", "hashing"].includes(i.status));
}

function renderProgress() {
  const area = $("progress-area");
  if (!state.items.length) {
    area.hidden = true;
    return;
  }
  area.hidden = false;
  const total = state.items.reduce((sum, i) => sum + (i.fraction || 0), 0);
  const percent = Math.round((100 * total) / state.items.length);
  $("progress").value = percent;
  const finished = state.items.filter((i) => !["queued", "hashing"].includes(i.status)).length;
  $("progress-text").textContent = hashingDone()
    ? t("select.progressDone")
    : t("select.progressCount", { done: finished, total: state.items.length });
  $("progress-label").textContent = t(hashingDone() ? "select.progressFinished" : "select.progress");
}

/** The hashes to send: deduplicated, only those good enough to find copies. */
function collectHashes() {
  const hashes = [];
  const owners = []; // owners[i]: the item that hashes[i] came from
  const seen = new Set();
  let item = null;
  const add = (key, hash) => {
    if (!seen.has(key)) {
      seen.add(key);
      hashes.push(hash);
      owners.push(item);
    }
  };
  for (item of state.items) {
    if (item.status !== "done") continue;
    const r = item.result;
    if (r.kind === "image") {
      add(`pdq:${r.pdq}`, { type: "pdq", value: r.pdq, quality: r.quality });
    } else {
      add(`md5:${r.md5}`, { type: "md5", value: r.md5 });
      const frames = r.frames
        .filter((f) => f.quality >= MIN_QUALITY)
        .map((f) => ({ pdq: f.pdq, quality: f.quality, timestamp: f.timestamp }));
      if (frames.length) add(`vpdq:${r.md5}`, { type: "vpdq", frames });
    }
  }
  return { hashes, owners };
}

function renderReview() {
  const review = $("review");
  const done = hashingDone();
  const photos = state.items.filter((i) => i.status === "done" && i.kind === "image").length;
  const videos = state.items.filter((i) => i.status === "done" && i.kind === "video").length;
  const left = state.items.filter((i) => ["low", "failed", "refused"].includes(i.status)).length;
  review.hidden = !done;
  const parts = [];
  if (photos) parts.push(tn("review.photos", photos));
  if (videos) parts.push(tn("review.videos", videos));
  let summary = parts.length ? t("review.summary", { items: parts.join(t("review.and")) }) : t("review.nothing");
  if (left) summary += ` ${tn("review.leftOut", left)}`;
  $("review-summary").textContent = summary;
  $("submit-case").disabled = !done || photos + videos === 0 || state.submitting === true;
}

async function onSubmit() {
  const button = $("submit-case");
  const error = $("submit-error");
  const { hashes, owners } = collectHashes();
  error.hidden = true;
  if (hashes.length > MAX_HASHES) {
    showError(error, t("errors.tooManyFiles", { max: MAX_HASHES }));
    return;
  }
  state.submitting = true;
  button.disabled = true;
  button.textContent = t("review.sending");
  const result = await createCase({ ...state.answers }, hashes, language());
  state.submitting = false;
  button.textContent = t("review.send");
  if (result.ok && result.data && result.data.case_number && result.data.pin) {
    state.created = {
      case_number: result.data.case_number,
      pin: String(result.data.pin),
      hash_count: result.data.hash_count,
    };
    state.noted = false;
    clearItems();
    renderDone();
    location.hash = "#/done";
    return;
  }
  const refused = result.data && result.data.code === "hash_rejected" ? owners[result.data.index] : null;
  if (refused) {
    // Leave that file out and say which one: the person can send the rest straight away.
    refused.status = "refused";
    renderItem(refused);
    renderReview();
    showError(error, t("errors.hashRefused", { name: refused.name }));
    return;
  }
  renderReview();
  showError(error, errorMessage(result, "create"));
}

function showError(element, text) {
  element.textContent = text;
  element.hidden = false;
  element.focus?.();
}

function errorMessage(result, action) {
  const code = result.data && result.data.code;
  if (result.status === 0) return t("errors.network");
  if (result.status === 401 || result.status === 404) return t("errors.notFound");
  if (result.status === 429) {
    const minutes = result.retryAfter ? Math.max(1, Math.ceil(result.retryAfter / 60)) : null;
    return minutes ? tn("errors.tooManyTriesMinutes", minutes) : t("errors.tooManyTries");
  }
  if (result.status === 413) return t("errors.tooLarge");
  if (code === "too_many_hashes") return t("errors.tooManyFiles", { max: MAX_HASHES });
  if (code === "not_eligible") return t("errors.notEligible");
  if (result.status === 422 || result.status === 400) {
    return t(action === "create" ? "errors.refused" : "errors.checkInput");
  }
  return t("errors.server");
}

// ---------------------------------------------------------------------------------------------
// Step 5: case number and PIN

function renderDone() {
  if (!state.created) return;
  $("case-number").textContent = state.created.case_number;
  $("pin").textContent = state.created.pin;
  const count = Number(state.created.hash_count) || 0;
  $("done-lead").textContent = tn("done.lead", count);
  $("noted").checked = state.noted;
  $("finish").disabled = !state.noted;
  $("finished").hidden = !state.noted;
}

function forgetCase() {
  state.created = null;
  state.noted = false;
  $("case-number").textContent = "";
  $("pin").textContent = "";
  $("finished").hidden = true;
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
  $("finished").hidden = false;
  $("finish").disabled = true;
  $("finished").querySelector("a").focus();
}

// ---------------------------------------------------------------------------------------------
// Step 6: check my case, withdraw

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

function renderCheckError() {
  const el = $("check-error");
  if (!state.checkError) {
    el.hidden = true;
    return;
  }
  el.textContent =
    typeof state.checkError === "string" ? t(state.checkError) : errorMessage(state.checkError.result, "check");
  el.hidden = false;
}

function outcomeWords(outcome) {
  const key = OUTCOMES.includes(outcome) ? outcome : "None";
  return t(`outcome.${key}`);
}

function pick(obj, names) {
  for (const n of names) if (obj && obj[n] !== undefined && obj[n] !== null) return obj[n];
  return undefined;
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
  $("status-explain").textContent = t(`status.${status === "withdrawn" ? "withdrawn" : "active"}.explain`);
  const list = $("status-hashes");
  list.replaceChildren();
  const hashes = pick(data, ["hashes", "items"]) || [];
  for (const hash of hashes) {
    const li = document.createElement("li");
    const title = document.createElement("p");
    title.className = "hash-title";
    const type = String(pick(hash, ["type", "signal_type"]) || "").toLowerCase();
    const prefix = pick(hash, ["prefix", "value_prefix", "short"]) || "";
    title.textContent = t(`hashType.${["pdq", "md5", "vpdq"].includes(type) ? type : "other"}`, { prefix });
    li.append(title);
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
  $("status-none").hidden = anyOutcome || status === "withdrawn";
  const withdrawn = status === "withdrawn";
  $("withdraw-area").hidden = withdrawn;
  $("withdraw-done").hidden = !state.check.withdrawn;
}

function onWithdrawStart() {
  $("withdraw-confirm").hidden = false;
  $("withdraw-start").hidden = true;
  $("withdraw-yes").focus();
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
  state.check = { caseNumber, pin, data, withdrawn: true };
  renderStatus();
  $("withdraw-done").focus();
}

// ---------------------------------------------------------------------------------------------
// Participating companies

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

// ---------------------------------------------------------------------------------------------
// Start

function bind() {
  $("eligibility-form").addEventListener("submit", onEligibilitySubmit);
  $("file-input").addEventListener("change", (event) => {
    addFiles([...event.target.files]);
    event.target.value = "";
  });
  const drop = $("dropzone");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer && event.dataTransfer.files.length) addFiles([...event.dataTransfer.files]);
  });
  // Files dropped outside the zone must not make the browser open them (and leave the page).
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
  $("submit-case").addEventListener("click", onSubmit);
  $("clear-files").addEventListener("click", clearItems);
  $("copy-case").addEventListener("click", () => onCopy("case"));
  $("copy-pin").addEventListener("click", () => onCopy("pin"));
  $("save-text").addEventListener("click", onSave);
  $("noted").addEventListener("change", (event) => {
    state.noted = event.target.checked;
    $("finish").disabled = !state.noted;
    if (!state.noted) $("finished").hidden = true;
  });
  $("done-form").addEventListener("submit", onFinish);
  $("check-form").addEventListener("submit", onCheck);
  $("withdraw-start").addEventListener("click", onWithdrawStart);
  $("withdraw-no").addEventListener("click", onWithdrawCancel);
  $("withdraw-yes").addEventListener("click", onWithdrawConfirm);
  window.addEventListener("hashchange", route);
  window.addEventListener("beforeunload", (event) => {
    if (state.created && !state.noted) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}

async function start() {
  bind();
  await renderLanguageSelect();
  const chosen = await setLanguage(initialLanguage());
  $("language").value = chosen;
  renderAll();
  route();
  document.body.dataset.ready = "true";
}

start().catch(() => {
  // Without its texts the page cannot speak any language well: say so in all three.
  $("loading").textContent =
    "OpenNCII could not start. Please reload the page. / OpenNCII kon niet starten. Laad de pagina opnieuw. / OpenNCII n'a pas pu démarrer. Veuillez recharger la page.";
});
