// Sign in: e-mail, password and the authenticator's current code.

import { post } from "../api.js";
import { clearMessages, showError } from "../dom.js";

export function init({ render, signedIn }) {
  document.getElementById("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages();
    const form = event.target;
    const answer = await post("/session", {
      email: form.elements.email.value,
      password: form.elements.password.value,
      code: form.elements.code.value.replace(/\s/g, ""),
    });
    form.elements.password.value = "";
    form.elements.code.value = "";
    if (!answer.ok) return showError(answer);
    signedIn(answer.data);
    if (location.hash === "#/overview") await render();
    else location.hash = "#/overview";
  });
}

export async function show() {
  document.getElementById("signin-email").focus();
}
