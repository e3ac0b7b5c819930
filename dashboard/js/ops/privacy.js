// The privacy check's warnings on an operation's texts (briefing, message, closing message): shown as
// checkboxes; what is ticked goes back as confirm_warnings.

import { ApiError, fill, h } from "../common.js";

/** Privacy warnings of a problem become checkboxes to confirm; returns whether there were any. */
export function showPrivacyWarnings(box, problem) {
  const warnings = problem instanceof ApiError && problem.body.code === "privacy_warnings" ? problem.body.warnings || [] : [];
  fill(box, warnings.map((w) => h("div", { class: "privacy", dataset: { code: w.code } },
    h("p", {}, h("b", {}, w.matches && w.matches.length ? w.matches.join(", ") : w.code), ` – ${w.message}`),
    h("label", {}, h("input", { type: "checkbox", class: "confirm-warning", value: w.code }),
      "Ik heb dit gecontroleerd en verstuur het bewust zo."))));
  return warnings.length > 0;
}

export function confirmedWarnings(box) {
  return [...box.querySelectorAll(".confirm-warning:checked")].map((input) => input.value);
}

