// The organisation running the service, as the helpline set it in its console
// (GET /api/v1/organisation): its name and privacy policy at the foot of every page, and its
// helpline's contact where a person looks for someone to talk to (every element marked
// data-org-contact). A value the helpline did not set is not shown, and a block with nothing in
// it stays hidden: the pages never offer a contact that does not exist.

import { getOrganisation } from "./api.js";
import { t } from "./i18n.js";
import { $ } from "./state.js";

let organisation = null; // {name, phone, email, url, privacy_url} (null: not known)

/** Read the organisation's settings once, when the page starts. */
export async function loadOrganisation() {
  const result = await getOrganisation();
  if (result.ok && result.data && typeof result.data === "object") organisation = result.data;
}

function link(href, text, external = false) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  if (external) a.rel = "noopener noreferrer";
  return a;
}

/** "help.example.org/contact": an address as people read it. */
function shortAddress(url) {
  try {
    const parsed = new URL(url);
    return parsed.host + (parsed.pathname === "/" ? "" : parsed.pathname);
  } catch {
    return url;
  }
}

function contactItems(org) {
  const items = [];
  const item = (label, anchor) => {
    const li = document.createElement("li");
    li.append(label, " ", anchor);
    items.push(li);
  };
  if (org.phone) item(t("helplines.phone"), link(`tel:${org.phone.replace(/[^+\d]/g, "")}`, org.phone));
  if (org.email) item(t("org.email"), link(`mailto:${org.email}`, org.email));
  if (org.url) item(t("org.website"), link(org.url, shortAddress(org.url), true));
  return items;
}

function renderContact(block, org) {
  const items = org ? contactItems(org) : [];
  block.hidden = items.length === 0;
  if (block.hidden) {
    block.replaceChildren();
    return;
  }
  const text = document.createElement("p");
  text.className = "org-contact-text";
  text.textContent = org.name ? t("org.contact.named", { name: org.name }) : t("org.contact");
  const list = document.createElement("ul");
  list.className = "links org-contact-list";
  list.append(...items);
  block.replaceChildren(text, list);
}

function renderFooter(org) {
  const footer = $("org-footer");
  const parts = [];
  if (org && org.name) parts.push(t("org.runBy", { name: org.name }));
  if (org && org.privacy_url) {
    if (parts.length) parts.push(" ");
    parts.push(link(org.privacy_url, t("org.privacy"), true));
  }
  footer.replaceChildren(...parts);
  footer.hidden = parts.length === 0;
}

/** Write the organisation's name, contact and privacy link in the page's language. */
export function renderOrganisation() {
  renderFooter(organisation);
  for (const block of document.querySelectorAll("[data-org-contact]")) renderContact(block, organisation);
}
