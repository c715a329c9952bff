// After the case number and PIN: what happens next, and where to check the case. Also shown in
// place of the PIN page when its numbers are already gone (a reload, or Back after leaving).

import { $, state } from "../state.js";
import { partnersText } from "./partners.js";

function renderFinished() {
  $("finished-text").textContent = partnersText("done.partners");
  $("finished-gone").hidden = !state.caseGone;
}

export const render = renderFinished;

export function enter() {
  renderFinished();
  state.caseGone = false; // said once: a later visit to this view is not a lost case
}
