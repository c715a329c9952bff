// What the views share: the page's state, the element lookup and the words for errors.

import { t, tn } from "./i18n.js";

/** PDQ quality below this is too plain to fingerprint (the reference's advice). */
export const MIN_QUALITY = 50;

export const state = {
  answers: {}, // eligibility question -> true | false | null (views/eligibility.js)
  items: [], // {id, file, kind, status, fraction, result, element} (views/select.js)
  nextId: 1,
  created: null, // {case_number, pin, hash_count, photos, videos} (views/done.js)
  noted: false,
  justFinished: false, // the person opened a case on this page and finished (step 6 follows)
  caseGone: false, // the PIN page was asked for after its numbers were forgotten
  partners: null, // the participating companies' names (null: unknown) from GET /api/v1/partners
  check: null, // {caseNumber, pin, data} (views/check.js)
  checkError: null,
  submitting: false,
  view: null,
  limits: null, // {max_files_per_case, max_hashes_per_case, max_body_bytes} from GET /api/v1/limits
};

export const $ = (id) => document.getElementById(id);

/** The most fingerprints one case may hold, as the server says (null until it has said). */
export function maxHashes() {
  return state.limits ? state.limits.max_hashes_per_case : null;
}

/** The most photos and videos one case may hold, as the server says (null until it has said). */
export function maxFiles() {
  return state.limits ? state.limits.max_files_per_case : null;
}

/** "3 photos and 1 video": the words of the review, and of the done page after sending. */
export function filesText(photos, videos) {
  const parts = [];
  if (photos) parts.push(tn("review.photos", photos));
  if (videos) parts.push(tn("review.videos", videos));
  return parts.join(t("review.and"));
}

export function showError(element, text) {
  element.textContent = text;
  element.hidden = false;
  element.focus?.();
}

/** Words for a failed API call (`action`: "create" or "check"). */
export function errorMessage(result, action) {
  const code = result.data && result.data.code;
  if (result.status === 0) return t(action === "check" ? "errors.networkCheck" : "errors.network");
  if (result.status === 401 || result.status === 404) return t("errors.notFound");
  if (result.status === 429) {
    const minutes = result.retryAfter ? Math.max(1, Math.ceil(result.retryAfter / 60)) : null;
    return minutes ? tn("errors.tooManyTriesMinutes", minutes) : t("errors.tooManyTries");
  }
  if (result.status === 413) return t("errors.tooLarge");
  if (result.status === 503 && code === "busy") return t("errors.busy");
  if (code === "too_many_hashes") {
    return maxFiles() ? t("errors.tooManyFiles", { max: maxFiles() }) : t("errors.tooLarge");
  }
  if (code === "not_eligible") return t("errors.notEligible");
  if (result.status === 422 || result.status === 400) {
    return t(action === "create" ? "errors.refused" : "errors.checkInput");
  }
  return t("errors.server");
}
