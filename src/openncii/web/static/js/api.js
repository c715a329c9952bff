// The victim API (/api/v1). Only fingerprints, eligibility answers, case numbers and PINs are
// ever sent, always as JSON in a POST body (never in a URL). No cookies.

const BASE = "api/v1";

// A 503 from a busy server comes before it did anything (nothing counted, nothing stored), with
// Retry-After: wait as told and send the same request again, a few times, before giving up.
const BUSY_RETRIES = 3;
const BUSY_WAIT_MAX_S = 5;

async function call(method, path, body, headers = {}) {
  let result;
  for (let attempt = 0; attempt <= BUSY_RETRIES; attempt++) {
    result = await callOnce(method, path, body, headers);
    if (result.status !== 503 || attempt === BUSY_RETRIES) break;
    const wait = Math.min(result.retryAfter || 1, BUSY_WAIT_MAX_S);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
  return result;
}

async function callOnce(method, path, body, headers) {
  let response;
  try {
    response = await fetch(`${BASE}${path}`, {
      method,
      headers: { ...(body ? { "Content-Type": "application/json" } : {}), Accept: "application/json", ...headers },
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch {
    return { ok: false, status: 0, data: null };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  return { ok: response.ok, status: response.status, data, retryAfter };
}

// Behind a busy shared address (a shelter, a university) the server may answer a creation with
// 429 and a proof-of-work challenge (openncii/cases/proof.py): solve it in a worker (about half
// a second) and send the creation again with the proof, so that nobody is refused a first case.
const PROOF_HEADER = "X-Proof-Of-Work";

function solveChallenge(challenge) {
  return new Promise((resolve) => {
    const worker = new Worker(new URL("./pow-worker.js", import.meta.url), { type: "module" });
    const done = (nonce) => {
      worker.terminate();
      resolve(nonce);
    };
    worker.onmessage = (event) => done(typeof event.data.nonce === "string" ? event.data.nonce : null);
    worker.onerror = () => done(null);
    worker.postMessage({ challenge });
  });
}

/** POST /cases: {eligibility, hashes, language} -> 201 {case_number, pin, hash_count}. */
export async function createCase(eligibility, hashes, language) {
  const body = { eligibility, hashes, language };
  const result = await call("POST", "/cases", body);
  const challenge = result.status === 429 && result.data ? result.data.challenge : null;
  if (typeof challenge !== "string") return result;
  const nonce = await solveChallenge(challenge);
  if (nonce === null) return result;
  return call("POST", "/cases", body, { [PROOF_HEADER]: `${challenge}:${nonce}` });
}

export function caseStatus(caseNumber, pin) {
  return call("POST", "/cases/status", { case_number: caseNumber, pin });
}

export function withdrawCase(caseNumber, pin) {
  return call("POST", "/cases/withdraw", { case_number: caseNumber, pin });
}

export function listPartners() {
  return call("GET", "/partners");
}

/** GET /limits -> {max_hashes_per_case, max_body_bytes}: what one case and one request may hold. */
export function getLimits() {
  return call("GET", "/limits");
}

/** GET /helplines?language=xx -> {helplines: [{country, language, name, url, phone}]}. */
export function listHelplines(language) {
  return call("GET", `/helplines?language=${encodeURIComponent(language)}`);
}

/** GET /organisation -> {name, phone, email, url, privacy_url}: each null until the helpline sets it. */
export function getOrganisation() {
  return call("GET", "/organisation");
}
