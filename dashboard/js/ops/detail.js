// The selected incident: its reports with the triage's suggestion and reasons, assessment, follow-up, tools.

import { $, ApiError, api, fill, fmtAge, fmtDateTime, fmtTime, h, throttle } from "../common.js";
import {
  chooseGroup, closeIncident, mergeInto, openPhotos, saveAssessment, saveFollowUp, setUrgency, splitSelected,
  toggleClaim,
} from "./actions.js";
import { openCompose } from "./compose.js";
import { URGENCY_KEYS } from "./keys.js";
import { handleError } from "./login.js";
import { canDecide, canSend, incidentWhat, isUnrecognised, label, options, S, wijkName } from "./state.js";

const SHORT_URGENCY = { none: "Geen" }; // an urgency button has no room for "Geen politietaak"

let detailRequest = 0;

export async function loadDetail(id) {
  const request = ++detailRequest;
  try {
    const incident = await api(`/api/v1/incidents/${id}`);
    if (request !== detailRequest || S.selected !== id) return;
    S.detail = incident;
    renderDetail();
  } catch (error) {
    if (request !== detailRequest) return;
    if (error instanceof ApiError && error.status === 404) {
      S.detail = null;
      $("#detail").replaceChildren(h("p", { class: "empty" }, `Incident #${id} bestaat niet (meer).`));
      return;
    }
    handleError(error, "Incident laden");
  }
}

export const reloadDetailSoon = throttle(() => { if (S.selected !== null) loadDetail(S.selected); }, 300);

export function draft(id) {
  if (!S.drafts.has(id)) S.drafts.set(id, {});
  return S.drafts.get(id);
}

export function renderDetail() {
  const container = $("#detail");
  const incident = S.detail;
  if (!incident) {
    container.replaceChildren(h("p", { class: "empty" }, S.selected === null
      ? "Kies een incident in de wachtrij (j/k)." : "Incident laden…"));
    return;
  }
  // Keep focus and typing across re-renders caused by live events.
  const active = document.activeElement;
  const focusId = active && container.contains(active) ? active.id : null;
  const selection = focusId && "selectionStart" in active ? [active.selectionStart, active.selectionEnd] : null;

  const d = draft(incident.id);
  const open = incident.status === "open";
  const mine = incident.claimed_by && incident.claimed_by === S.me.display;
  const other = incident.claimed_by && !mine;
  const locked = !open || other || !canDecide();
  const photos = incident.reports.flatMap((r) => r.photo_ids.map((pid) => ({ report: r, photo_id: pid })));

  fill(container,
    h("div", { class: "d-head" },
      h("span", { class: `badge badge-${incident.urgency}`, id: "d-urgency" }, label("urgencies", incident.urgency)),
      h("h2", { id: "d-title" }, `#${incident.id} ${incidentWhat(incident)} · ${wijkName(incident.wijkcode)}`),
      incident.status !== "open" ? h("span", { class: "tag closed" }, label("incident_statuses", incident.status)) : null,
      incident.reports.some(isUnrecognised) ? h("span", { class: "tag unrecognised", id: "d-unrecognised",
        title: "De triage herkende de tekst niet: beoordeel zelf" }, "niet herkend") : null),
    h("p", { class: "d-sub" },
      `Eerste melding ${fmtDateTime(incident.first_report_at)} (${fmtAge(incident.first_report_at)} geleden), ` +
      `laatste ${fmtTime(incident.last_report_at)} · ${incident.report_count} ` +
      `${incident.report_count === 1 ? "melding" : "meldingen"} uit ${incident.group_count} ` +
      `${incident.group_count === 1 ? "groep" : "groepen"}` +
      (incident.category ? ` · ${label("categories", incident.category)}` : "")),
    claimBar(incident, mine, other, open),
    incident.appearance_only ? h("div", { class: "appearance-alert", role: "note", id: "appearance-alert" },
      h("strong", {}, "Let op: alleen uiterlijk of afkomst, geen gedrag"),
      "Minstens één melding beschrijft mensen alleen naar uiterlijk of vermoedelijke afkomst, zonder verdacht gedrag. " +
      "Zulke meldingen blijven P3; deel ze niet met buurtgroepen en vraag naar gedrag.") : null,
    h("div", { class: "d-body" },
      h("section", { class: "d-reports", "aria-labelledby": "d-reports-title" },
        h("h3", { id: "d-reports-title" }, "Meldingen en voorstel van de triage"),
        h("div", { class: "reports" }, incident.reports.map((report) => reportView(report, incident, locked)))),
      h("div", { class: "panels" },
        assessmentPanel(incident, d, locked),
        followUpPanel(incident, d, locked),
        toolsPanel(incident, photos, open, other))),
  );

  if (focusId) {
    const again = document.getElementById(focusId);
    if (again) {
      again.focus({ preventScroll: true });
      if (selection && "setSelectionRange" in again) {
        try {
          again.setSelectionRange(...selection);
        } catch {
          // not a text field
        }
      }
    }
  }
}

/** <option>s for one of the vocabulary's lists. */
function optionsOf(list) {
  return options(list).map((entry) => h("option", { value: entry.code }, entry.label));
}

function claimBar(incident, mine, other, open) {
  let text;
  if (!open) text = "Dit incident is afgesloten.";
  else if (mine) text = "U heeft dit incident geclaimd.";
  else if (other) text = `Geclaimd door ${incident.claimed_by}.`;
  else text = "Nog niet geclaimd.";
  const expires = incident.claim_expires_at ? ` De claim vervalt om ${fmtTime(incident.claim_expires_at)}.` : "";
  return h("div", { class: `claimbar${mine ? " mine" : other ? " other" : ""}`, id: "claimbar" },
    h("span", { class: "holder", id: "claim-holder" }, text + (open && incident.claimed_by ? expires : "")),
    open && canDecide() ? h("button", {
      type: "button", id: "claim-button", class: mine ? "" : "primary", disabled: other,
      "aria-keyshortcuts": "c", onclick: toggleClaim,
    }, mine ? "Claim loslaten (c)" : "Claimen (c)") : null);
}

function assessmentPanel(incident, d, locked) {
  const overridden = incident.overridden || [];
  const urgencyButtons = options("urgencies").map((u) => h("button", {
    type: "button", class: `u-${u.code}`, "aria-pressed": String(incident.urgency === u.code), disabled: locked,
    "aria-keyshortcuts": URGENCY_KEYS[u.code], dataset: { urgency: u.code },
    onclick: () => setUrgency(u.code),
  }, `${SHORT_URGENCY[u.code] || u.label}${URGENCY_KEYS[u.code] ? ` (${URGENCY_KEYS[u.code]})` : ""}`));
  const field = (name, value) => (d[name] !== undefined ? d[name] : value ?? "");
  const categorySelect = h("select", { id: "a-category", disabled: locked },
    h("option", { value: "" }, "–"), optionsOf("categories"));
  categorySelect.value = field("category", incident.category);
  const offenceSelect = h("select", { id: "a-offence", disabled: locked },
    h("option", { value: "" }, "geen delict"), optionsOf("offences"));
  offenceSelect.value = field("offence", incident.offence);
  const wijkSelect = h("select", { id: "a-wijk", disabled: locked },
    h("option", { value: "" }, "–"), S.wijken.map((w) => h("option", { value: w.code }, `${w.name} (${w.gemeente})`)));
  if (incident.wijkcode && !S.wijkNames.has(incident.wijkcode)) {
    wijkSelect.append(h("option", { value: incident.wijkcode }, incident.wijkcode));
  }
  wijkSelect.value = field("wijkcode", incident.wijkcode);
  for (const [node, name] of [[categorySelect, "category"], [offenceSelect, "offence"], [wijkSelect, "wijkcode"]]) {
    node.addEventListener("change", () => { d[name] = node.value; });
  }
  return h("section", { class: "panel", "aria-labelledby": "p-assess" },
    h("h3", { id: "p-assess" }, "Beoordeling"),
    h("div", { class: "urgency-buttons", role: "group", "aria-label": "Urgentie instellen" }, urgencyButtons),
    incident.urgency_override ? h("p", { class: "override" },
      `Urgentie handmatig gezet${incident.override_reason ? `: ${incident.override_reason}` : ""}.`) : null,
    h("div", { class: "fields" },
      h("label", {}, "Categorie", categorySelect),
      h("label", {}, "Delict", offenceSelect),
      h("label", { class: "full" }, "Wijk", wijkSelect)),
    overridden.length ? h("p", { class: "override" }, `Handmatig aangepast: ${overridden.join(", ")}`) : null,
    h("div", { class: "actions" },
      h("button", { type: "button", id: "save-assessment", disabled: locked, onclick: saveAssessment }, "Beoordeling opslaan")));
}

function followUpPanel(incident, d, locked) {
  const field = (name, value) => (d[name] !== undefined ? d[name] : value ?? "");
  const followSelect = h("select", { id: "f-follow-up", disabled: locked, "aria-keyshortcuts": "o" },
    h("option", { value: "" }, "nog niet gekozen"), optionsOf("follow_ups"));
  followSelect.value = field("follow_up", incident.follow_up);
  const resultSelect = h("select", { id: "f-result", disabled: locked, "aria-keyshortcuts": "r" },
    h("option", { value: "" }, "nog niet bekend"), optionsOf("results"));
  resultSelect.value = field("result", incident.result);
  const note = h("textarea", {
    id: "f-note", rows: "3", maxlength: "1000", disabled: locked, "aria-keyshortcuts": "n",
    placeholder: "Korte terugkoppeling voor de melder. Geen persoonsgegevens.",
  });
  note.value = d.note || "";
  followSelect.addEventListener("change", () => { d.follow_up = followSelect.value; });
  resultSelect.addEventListener("change", () => { d.result = resultSelect.value; });
  note.addEventListener("input", () => { d.note = note.value; });
  return h("section", { class: "panel", "aria-labelledby": "p-follow" },
    h("h3", { id: "p-follow" }, "Opvolging en terugkoppeling"),
    h("div", { class: "fields" },
      h("label", {}, "Opvolging (o)", followSelect),
      h("label", {}, "Resultaat (r)", resultSelect),
      h("label", { class: "full" }, "Terugkoppeling aan de melder (n)", note)),
    h("p", { class: "muted", style: "font-size:.8rem;margin:.3rem 0 0" },
      "De beheerder die de melding doorstuurde krijgt opvolging, resultaat en uw tekst te zien."),
    h("div", { class: "actions" },
      h("button", { type: "button", id: "save-follow-up", class: "primary", disabled: locked, onclick: saveFollowUp },
        "Opslaan en terugkoppelen"),
      h("button", { type: "button", id: "close-incident", class: "danger", disabled: locked, "aria-keyshortcuts": "x",
        onclick: closeIncident }, "Afsluiten (x)")));
}

function toolsPanel(incident, photos, open, other) {
  const mergeInput = h("input", { id: "merge-ids", inputmode: "numeric", placeholder: "bijv. 12, 15", size: "10",
    disabled: !open || other || !canDecide() });
  return h("section", { class: "panel", "aria-labelledby": "p-tools" },
    h("h3", { id: "p-tools" }, "Acties"),
    h("div", { class: "actions" },
      h("button", { type: "button", id: "open-photos", disabled: photos.length === 0, "aria-keyshortcuts": "f",
        onclick: openPhotos }, photos.length ? `Foto's bekijken (${photos.length}) (f)` : "Geen foto's"),
      canSend() ? h("button", { type: "button", id: "compose-broadcast", class: "danger", "aria-keyshortcuts": "b",
        onclick: openCompose }, "Alarm naar beheerders (b)") : null),
    photos.length ? h("p", { class: "muted", style: "font-size:.8rem" }, "Foto's openen wordt vastgelegd in het auditlog.") : null,
    canDecide() ? h("div", { class: "actions" },
      h("label", { for: "merge-ids", style: "font-weight:400" }, "Samenvoegen met incident(en):"), mergeInput,
      h("button", { type: "button", id: "merge-button", disabled: !open || other, onclick: () => mergeInto(mergeInput.value) },
        "Samenvoegen")) : null,
    canDecide() && incident.reports.length > 1 ? h("div", { class: "actions" },
      h("button", { type: "button", id: "split-button", disabled: !open || other, onclick: splitSelected },
        "Aangevinkte meldingen afsplitsen")) : null);
}

function reportView(report, incident, locked) {
  const s = report.suggestion && report.suggestion.labels ? report.suggestion.labels : null;
  return h("article", { class: "report", dataset: { report: report.id } },
    h("header", {},
      incident.reports.length > 1 && canDecide() ? h("label", { class: "split-check" },
        h("input", { type: "checkbox", class: "split-box", value: report.id, disabled: locked }),
        h("span", { class: "visually-hidden" }, `Melding ${report.case_number} selecteren om af te splitsen`)) : null,
      h("b", {}, report.case_number),
      h("span", {}, fmtDateTime(report.received_at)),
      report.group_pending ? groupPicker(report, locked) : h("span", {}, `groep ${report.group_name || report.group_id}`),
      h("span", {}, wijkName(report.wijkcode)),
      report.called_112 ? h("span", { class: "tag" }, "112 gebeld") : null,
      report.photo_ids.length ? h("span", { class: "tag photo" }, `${report.photo_ids.length} foto`) : null,
      h("span", { class: "tag" }, label("report_statuses", report.status))),
    h("p", { class: "text" }, report.text),
    h("div", { class: "suggestion", "aria-label": "Voorstel van de triage" },
      h("div", { class: "labels" },
        h("span", {}, "Voorstel:"),
        h("span", { class: `badge badge-${report.urgency || "none"}` }, label("urgencies", report.urgency || "none")),
        s ? h("span", { class: "tag" }, label("categories", s.category)) : null,
        s && s.offence ? h("span", { class: "tag" }, label("offences", s.offence)) : null,
        s && s.in_progress ? h("span", { class: "tag" }, "nu bezig") : null,
        report.appearance_only ? h("span", { class: "tag appearance" }, "alleen uiterlijk, geen gedrag") : null,
        isUnrecognised(report) ? h("span", { class: "tag unrecognised" }, "niet herkend") : null),
      report.reasons.length ? h("ul", {}, report.reasons.map((r) => h("li", {}, r.text, " ", h("code", {}, `(${r.code})`))))
        : h("p", { class: "muted", style: "margin:0" }, "Geen redenen vastgelegd.")));
}

// A WhatsApp report of a beheerder with several groups waits for its group: they are asked, or we choose.
function groupPicker(report, locked) {
  if (!canDecide()) return h("span", { class: "tag" }, "groep nog niet gekozen");
  const select = h("select", { "aria-label": `Groep van melding ${report.case_number}`, disabled: locked,
    onchange: () => chooseGroup(report, Number(select.value)) },
  h("option", { value: "" }, "Groep nog niet gekozen: kies…"),
  report.group_choices.map((choice) => h("option", { value: choice.id }, choice.name)));
  return select;
}
