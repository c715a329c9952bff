// Language catalogues: one JSON file per language in i18n/ (a flat map of key -> text), listed in
// i18n/languages.json with the language's name and writing direction. The language comes from
// ?lang=xx, else from the browser's preferences, else English. Switching language re-renders the
// page in place (nothing is reloaded or lost); a right-to-left language sets <html dir="rtl">.
// Plural texts are `key.one`, `key.few`, ... chosen by Intl.PluralRules (see tn).

const FALLBACK = "en";
let catalogue = {};
let fallback = {};
let current = FALLBACK;
let available = [];

async function fetchJson(url) {
  const response = await fetch(url, { credentials: "omit", cache: "no-cache" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

/** The languages on offer: [{code, name, dir}], from i18n/languages.json. */
export async function loadLanguageList() {
  const list = await fetchJson("i18n/languages.json");
  available = list.languages;
  return available;
}

/** The code on offer for a BCP 47 tag: the same tag (any case), else the first language on offer
 * with the same base language ("pt-PT" -> "pt-BR", "de-AT" -> "de"), else null. */
function supported(code) {
  if (!code) return null;
  const lower = code.toLowerCase();
  const exact = available.find((l) => l.code.toLowerCase() === lower);
  if (exact) return exact.code;
  const base = lower.split("-")[0];
  const sameBase = available.find((l) => l.code.toLowerCase().split("-")[0] === base);
  return sameBase ? sameBase.code : null;
}

/** The language to start in: ?lang=, then navigator.languages, then English. */
export function initialLanguage() {
  const fromUrl = supported(new URLSearchParams(location.search).get("lang"));
  if (fromUrl) return fromUrl;
  for (const code of navigator.languages || [navigator.language]) {
    const found = supported(code);
    if (found) return found;
  }
  return FALLBACK;
}

/** Load a catalogue and make it current; <html lang> follows. */
export async function setLanguage(code) {
  const chosen = supported(code) || FALLBACK;
  if (!Object.keys(fallback).length) fallback = await fetchJson(`i18n/${FALLBACK}.json`);
  catalogue = chosen === FALLBACK ? fallback : await fetchJson(`i18n/${chosen}.json`);
  current = chosen;
  document.documentElement.lang = chosen;
  document.documentElement.dir = available.find((l) => l.code === chosen)?.dir || "ltr";
  return chosen;
}

export function language() {
  return current;
}

/** The text for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  let text = catalogue[key] ?? fallback[key];
  if (text === undefined) {
    console.warn(`missing text: ${key}`);
    text = key;
  }
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Plural-aware text: uses `${key}.one`, `${key}.other`, ... per the language's rules. */
export function tn(key, count, vars = {}) {
  const rule = new Intl.PluralRules(current).select(count);
  const k = `${key}.${rule}` in catalogue || `${key}.${rule}` in fallback ? `${key}.${rule}` : `${key}.other`;
  return t(k, { count, ...vars });
}

/** Fill every [data-i18n] element's text and [data-i18n-attr] attributes under `root`. */
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

/** Format a date/time in the current language. */
export function formatDate(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(current, { dateStyle: "long", timeStyle: "short" }).format(date);
}
