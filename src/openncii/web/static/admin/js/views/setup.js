// The set-up link (#setup=TOKEN): choose a password and enrol an authenticator. The token stays in
// the page (a URL fragment is never sent to a server) and travels only in POST bodies.

import { t } from "/js/i18n.js";
import { post } from "../api.js";
import { clearMessages, showError, showNotice } from "../dom.js";

let token = null;

export function init() {
  document.getElementById("setup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages();
    const password = document.getElementById("setup-password").value;
    if (password !== document.getElementById("setup-password2").value) {
      return showError({ data: { code: "passwords_differ" } });
    }
    const answer = await post("/setup", {
      token,
      password,
      code: document.getElementById("setup-code").value.replace(/\s/g, ""),
    });
    if (!answer.ok) return showError(answer);
    token = null;
    history.replaceState(null, "", "#/signin");
    for (const id of ["setup-password", "setup-password2", "setup-code"]) document.getElementById(id).value = "";
    document.getElementById("setup-qr").replaceChildren();
    document.getElementById("setup-secret").textContent = "";
    document.querySelector('[data-view="setup"]').hidden = true;
    document.querySelector('[data-view="signin"]').hidden = false;
    document.getElementById("signin-email").value = answer.data.email;
    showNotice(t("admin.setup.done"));
    document.getElementById("signin-password").focus();
  });
}

export async function show({ arg }) {
  token = arg;
  const form = document.getElementById("setup-form");
  const answer = await post("/setup/view", { token });
  form.hidden = !answer.ok;
  if (!answer.ok) {
    document.getElementById("setup-account").textContent = "";
    return showError(answer);
  }
  document.getElementById("setup-account").textContent = t("admin.setup.account", { email: answer.data.email });
  // The QR code is drawn by our server (no third-party request); parsed as SVG, never as HTML.
  const svg = new DOMParser().parseFromString(answer.data.qr_svg, "image/svg+xml").documentElement;
  const figure = document.getElementById("setup-qr");
  figure.replaceChildren(document.importNode(svg, true));
  figure.firstChild.setAttribute("role", "img");
  figure.firstChild.setAttribute("aria-label", t("admin.setup.qr"));
  document.getElementById("setup-secret").textContent = answer.data.totp_secret.replace(/(.{4})/g, "$1 ").trim();
}
