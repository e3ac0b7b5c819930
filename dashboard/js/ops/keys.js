// The keyboard shortcuts (listed in the help dialog, "?"), and every second the ages in the queue and the
// claim's countdown.

import { $, $$, fmtAge } from "../common.js";
import { closeIncident, confirmMerge, extendClaim, openPhotos, setUrgency, toggleClaim, undoMerge } from "./actions.js";
import { openCompose } from "./compose.js";
import { tickClaim } from "./detail.js";
import { move } from "./queue.js";
import { S } from "./state.js";

/** The key that sets each urgency (shown on the urgency buttons). */
export const URGENCY_KEYS = { P1: "1", P2: "2", P3: "3", none: "0" };

$("#help-button").addEventListener("click", () => $("#help").showModal());

function typing(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if ($("#app-view").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  if (document.querySelector("dialog[open]")) return; // dialogs handle their own keys (Esc closes)
  if (!$("#operations-view").hidden || !$("#registry-view").hidden) return; // the queue's keys act on the queue only
  if (typing(event.target)) {
    if (event.key === "Escape") {
      event.target.blur();
      $("#queue").focus();
    }
    return;
  }
  const focusField = (selector) => {
    const node = $(selector);
    if (node && !node.disabled) {
      node.focus();
      node.scrollIntoView({ block: "nearest" });
    }
  };
  const actions = {
    j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
    c: toggleClaim, v: extendClaim, m: mergeFirstSuggestion, u: undoMerge, o: () => focusField("#f-follow-up"), r: () => focusField("#f-result"),
    n: () => focusField("#f-note"), f: openPhotos, b: openCompose, x: closeIncident,
    "/": () => focusField("#f-search"), "?": () => $("#help").showModal(),
    Escape: () => $("#queue").focus(), Enter: () => { if (S.selected !== null) $("#detail").focus(); },
  };
  for (const [urgency, key] of Object.entries(URGENCY_KEYS)) actions[key] = () => setUrgency(urgency);
  const action = actions[event.key];
  if (!action) return;
  if ((event.key === "ArrowDown" || event.key === "ArrowUp") && document.activeElement !== $("#queue")) return;
  event.preventDefault();
  action();
});

function mergeFirstSuggestion() {
  const suggestions = S.duplicates && S.detail && S.duplicates.id === S.detail.id ? S.duplicates.items : [];
  if (suggestions.length) confirmMerge(suggestions[0]);
}

// every second: the ages in the list, and the claim's countdown
setInterval(() => {
  const now = Date.now();
  for (const node of $$("#queue .age[data-since]")) node.textContent = fmtAge(node.dataset.since, now);
  tickClaim();
}, 1000);
