// The triage against the operators: agreement per field, per day, the urgency confusion and recent disagreements.

import { $, api, fill, fmtDateTime, h } from "../common.js";
import { handleError } from "./login.js";
import { canReadAgreement, label } from "./state.js";

const FIELDS = [["urgency", "Urgentie"], ["category", "Categorie"], ["offence", "Delict"], ["wijk", "Wijk"]];
const URGENCIES = ["P1", "P2", "P3", "none"];

export function initAgreement() {
  const button = $("#agreement-button");
  button.hidden = !canReadAgreement();
  button.onclick = openAgreement;
  $("#agreement-form").onsubmit = (event) => { event.preventDefault(); loadAgreement(); };
}

function openAgreement() {
  $("#agreement-dialog").showModal();
  loadAgreement();
}

async function loadAgreement() {
  const params = new URLSearchParams();
  if ($("#agreement-from").value) params.set("from", $("#agreement-from").value);
  if ($("#agreement-to").value) params.set("to", $("#agreement-to").value);
  const body = $("#agreement-body");
  fill(body, h("p", { class: "muted" }, "Laden…"));
  try {
    renderAgreement(await api(`/api/v1/triage/agreement?${params}`));
  } catch (error) {
    fill(body, h("p", { class: "error", role: "alert" }, error.message || "Kon de overeenstemming niet laden."));
    handleError(error);
  }
}

const pct = (share) => (share === null || share === undefined ? "–" : `${Math.round(share * 100)}%`);
const urgencyLabel = (code) => (code === "none" ? "geen" : label("urgencies", code));

function renderAgreement(data) {
  if (!data.n) {
    fill($("#agreement-body"), h("p", { class: "muted", id: "agreement-empty" }, "Nog geen beslissingen van centralisten in deze periode."));
    return;
  }
  fill($("#agreement-body"),
    h("p", {}, `${data.n} ${data.n === 1 ? "melding" : "meldingen"} beoordeeld door centralisten.`),
    h("table", { class: "agreement", id: "agreement-fields" },
      h("thead", {}, h("tr", {}, h("th", {}, "Dag"), h("th", {}, "Aantal"), ...FIELDS.map(([, name]) => h("th", {}, name)))),
      h("tbody", {},
        h("tr", { class: "total" }, h("th", {}, "Totaal"), h("td", {}, String(data.n)),
          ...FIELDS.map(([code]) => h("td", {}, pct(data.agreement[code])))),
        ...data.per_day.map((day) => h("tr", {}, h("th", {}, day.day), h("td", {}, String(day.n)),
          ...FIELDS.map(([code]) => h("td", {}, pct(day.agreement[code]))))))),
    h("h3", {}, "Urgentie: centralist (rij) tegen triage (kolom)"),
    h("table", { class: "agreement", id: "agreement-confusion" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), ...URGENCIES.map((u) => h("th", {}, urgencyLabel(u))))),
      h("tbody", {}, ...URGENCIES.map((g) => h("tr", {}, h("th", {}, urgencyLabel(g)),
        ...URGENCIES.map((p) => h("td", { class: g === p ? "same" : "" }, String(data.urgency_confusion.matrix[g][p]))))))),
    h("h3", {}, "Recente verschillen"),
    h("ul", { id: "agreement-disagreements" }, ...data.recent_disagreements.map((d) => h("li", {},
      h("span", { class: "muted" }, `${fmtDateTime(d.decided_at)} · #${d.incident_id ?? "–"} `),
      Object.entries(d.fields).map(([field, v]) => `${field}: triage ${v.engine ?? "–"} → centralist ${v.operator ?? "–"}`).join("; "),
      h("p", { class: "text" }, d.text)))));
}
