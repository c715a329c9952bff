// Step 3 and 4: choose files, fingerprint them in Web Workers on this device, review and send.
// Only fingerprints leave the device.

import { createCase } from "../api.js";
import { language, t, tn } from "../i18n.js";
import { $, MIN_QUALITY, errorMessage, filesText, maxFiles, maxHashes, showError, state } from "../state.js";

const workers = [];
const busy = new Map(); // worker -> item id

function workerCount() {
  const cores = navigator.hardwareConcurrency || 2;
  return Math.max(1, Math.min(4, cores - 1));
}

function ensureWorkers() {
  while (workers.length < workerCount()) {
    const worker = new Worker(new URL("../hash-worker.js", import.meta.url), { type: "module" });
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

/** The same file chosen twice (again in the file picker, or dropped again) is listed once. */
function fileKey(file) {
  return `${file.name}\u0000${file.size}\u0000${file.lastModified}\u0000${file.type}`;
}

function addFiles(files) {
  const chosen = new Set(state.items.map((i) => i.key));
  for (const file of files) {
    const key = fileKey(file);
    if (chosen.has(key)) continue;
    chosen.add(key);
    state.items.push({ id: state.nextId++, file, key, status: "queued", fraction: 0, name: file.name });
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
  if (item.status === "failed") {
    const reasons = { unsupported: "item.unsupported", heic: "item.heicUnsupported" };
    return t(reasons[item.reason] || "item.unreadable");
  }
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

/** What to send: one entry per photo (its robust-matching hashes with their kinds) and per
 * video (its MD5 and frame fingerprints), each file's content once, only what is good enough
 * to find copies. `owners[i]` is the item entry i came from; `photos` and `videos` count the
 * files sent, as the review and the done page say them. */
function collectEntries() {
  const hashes = [];
  const owners = [];
  const seen = new Set();
  let photos = 0;
  let videos = 0;
  const add = (key, item, ...entries) => {
    if (seen.has(key)) return false;
    seen.add(key);
    for (const entry of entries) {
      hashes.push(entry);
      owners.push(item);
    }
    return true;
  };
  for (const item of state.items) {
    if (item.status !== "done") continue;
    const r = item.result;
    if (r.kind === "image") {
      const variants = r.variants.map((v) => ({ pdq: v.hex, kind: v.kind, quality: v.quality }));
      const key = `photo:${variants.map((v) => `${v.kind}:${v.pdq}`).join(",")}`;
      if (add(key, item, { type: "photo", variants })) photos += 1;
    } else {
      const frames = r.frames
        .filter((f) => f.quality >= MIN_QUALITY)
        .map((f) => ({ pdq: f.pdq, quality: f.quality, timestamp: f.timestamp }));
      const entries = [{ type: "md5", value: r.md5 }];
      if (frames.length) entries.push({ type: "vpdq", frames });
      if (add(`video:${r.md5}`, item, ...entries)) videos += 1;
    }
  }
  return { hashes, owners, photos, videos };
}

function renderReview() {
  const review = $("review");
  const done = hashingDone();
  const { photos, videos } = collectEntries();
  const left = state.items.filter((i) => ["low", "failed", "refused"].includes(i.status)).length;
  review.hidden = !done;
  let summary = photos + videos ? t("review.summary", { items: filesText(photos, videos) }) : t("review.nothing");
  if (left) summary += ` ${tn("review.leftOut", left)}`;
  $("review-summary").textContent = summary;
  $("submit-case").disabled = !done || photos + videos === 0 || state.submitting === true;
  renderActionBar();
}

/** The bar that keeps Send in reach below a long list: how many files are ready, and Send. */
function renderActionBar() {
  $("action-bar").hidden = !state.items.length;
  const finished = state.items.filter((i) => !["queued", "hashing"].includes(i.status)).length;
  const ready = state.items.filter((i) => i.status === "done").length;
  $("action-count").textContent = hashingDone()
    ? tn("select.readyCount", ready)
    : t("select.progressCount", { done: finished, total: state.items.length });
}

async function onSubmit() {
  const button = $("submit-case");
  const error = $("submit-error");
  const { hashes, owners, photos, videos } = collectEntries();
  error.hidden = true;
  const max = maxFiles();
  const sent = hashes.reduce((sum, h) => sum + (h.type === "photo" ? h.variants.length : 1), 0);
  if (max !== null && (photos + videos > max || sent > maxHashes())) {
    showError(error, t("errors.tooManyFiles", { max }));
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
      photos,
      videos,
    };
    state.noted = false;
    clearItems();
    location.hash = "#/done"; // the done view shows them (views/done.js)
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

export function bind() {
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
}

export function render() {
  renderItems();
  renderReview();
}

/** Start the hashing workers as the file step opens: the first photo picked then finds them
 * loaded (a fresh worker takes 30-100 ms to load its modules). */
export function enter() {
  ensureWorkers();
}
