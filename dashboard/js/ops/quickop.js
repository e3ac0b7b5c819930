// The quick heterdaad or vermissing from the selected incident: "a" then "h" (heterdaad) or "v" (vermissing)
// opens a small dialog with the radius and the incident's description as the text for the beheerders; sending
// it opens the operation for the wijken in that radius and invites their beheerders at once
// (POST /api/v1/incidents/{id}/operation). Self-contained: keys.js does not know about it; the second key is
// taken here, before keys.js sees it ("v" alone still extends the claim).

import { $, ApiError, api, h, toast } from "../common.js";
import { handleError } from "./login.js";
import { canDecide, S } from "./state.js";

const KINDS = { h: "heterdaad", v: "vermissing" };
const TITLES = { heterdaad: "Snelle heterdaad", vermissing: "Snelle vermissing" };
const RADIUS = { heterdaad: 1000, vermissing: 2000 };
const ARMED_MS = 2000; // how long "a" waits for its second key

let armedUntil = 0;
let confirmed = []; // privacy warnings the operator confirmed for the text in the dialog

function typing(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function ready() {
  return !$("#app-view").hidden && !document.querySelector("dialog[open]") && S.detail && canDecide();
}

window.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || !ready()) return;
  const kind = Date.now() < armedUntil ? KINDS[event.key] : undefined;
  armedUntil = 0;
  if (kind) {
    event.preventDefault();
    event.stopImmediatePropagation();
    openDialog(kind);
  } else if (event.key === "a") {
    event.preventDefault();
    armedUntil = Date.now() + ARMED_MS;
  }
}, true);

function dialog() {
  let node = $("#quickop-dialog");
  if (node) return node;
  node = h("dialog", { id: "quickop-dialog", "aria-labelledby": "quickop-title" },
    h("form", { id: "quickop-form", method: "dialog" },
      h("h2", { id: "quickop-title" }),
      h("p", { id: "quickop-what" }),
      h("label", { for: "quickop-radius" }, "Straal rond het incident (meter)"),
      h("input", { id: "quickop-radius", type: "number", min: 100, max: 10000, step: 100, required: true }),
      h("label", { for: "quickop-text" }, "Tekst voor de beheerders (gedrag, plaats en tijd; geen uiterlijk of afkomst alleen)"),
      h("textarea", { id: "quickop-text", rows: 5, maxlength: 2000, required: true }),
      h("p", { id: "quickop-error", class: "error", role: "alert", hidden: true }),
      h("div", { class: "buttons" },
        h("button", { value: "cancel", formnovalidate: true, class: "ghost" }, "Annuleren"),
        h("button", { id: "quickop-send", value: "ok", class: "primary" }, "Openen en uitnodigen"))));
  document.body.append(node);
  node.querySelector("form").addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.value === "ok") {
      event.preventDefault();
      send(node.dataset.kind, Number(node.dataset.incident));
    }
  });
  node.querySelector("#quickop-text").addEventListener("input", () => { confirmed = []; showError(null); });
  return node;
}

function openDialog(kind) {
  const node = dialog();
  const incident = S.detail;
  node.dataset.kind = kind;
  node.dataset.incident = String(incident.id);
  confirmed = [];
  $("#quickop-title").textContent = `${TITLES[kind]} vanuit incident #${incident.id}`;
  $("#quickop-what").textContent = "De actie gaat nu open voor de wijken binnen de straal; hun beheerders krijgen " +
    "meteen een uitnodiging.";
  $("#quickop-radius").value = String(RADIUS[kind]);
  $("#quickop-text").value = incident.reports && incident.reports.length ? incident.reports[0].text : "";
  $("#quickop-send").textContent = "Openen en uitnodigen";
  showError(null);
  node.showModal();
  $("#quickop-text").focus();
}

function showError(text) {
  const node = $("#quickop-error");
  node.hidden = !text;
  node.textContent = text || "";
}

async function send(kind, incidentId) {
  const body = { kind, radius_m: Number($("#quickop-radius").value), briefing: $("#quickop-text").value,
    confirm_warnings: confirmed };
  try {
    const out = await api(`/api/v1/incidents/${incidentId}/operation`, { method: "POST", json: body });
    $("#quickop-dialog").close("ok");
    toast(`${TITLES[kind]} geopend in ${out.wijkcodes.length} wijk(en); ${out.invited} beheerder(s) uitgenodigd.`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 401 || error.status === 0) {
      handleError(error, "Actie openen");
      return;
    }
    const warnings = Array.isArray(error.body.warnings) ? error.body.warnings : [];
    if (error.body.code === "privacy_warnings" && warnings.length) {
      confirmed = warnings.map((warning) => warning.code);
      $("#quickop-send").textContent = "Toch openen";
      showError(warnings.map((warning) => warning.message).join(" "));
      return;
    }
    showError(error.message_nl);
  }
}
