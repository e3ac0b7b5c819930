// The selected incident: its reports with the triage's suggestion and reasons, assessment, follow-up, tools,
// the claim's countdown, merge suggestions and the timeline.

import { $, ApiError, api, fill, fmtAge, fmtDateTime, fmtTime, h, throttle } from "../common.js";
import {
  chooseGroup, closeIncident, confirmMerge, extendClaim, mergeInto, openPhotos, saveAssessment, saveFollowUp,
  setUrgency, splitSelected, toggleClaim,
} from "./actions.js";
import { openCompose } from "./compose.js";
import { keepPanel, loadKeepStatus } from "./keeping.js";
import { URGENCY_KEYS } from "./keys.js";
import { handleError } from "./login.js";
import { canDecide, canSend, incidentWhat, isUnrecognised, label, options, S, saveDrafts, wijkName, wijkOptions } from "./state.js";

const SHORT_URGENCY = { none: "Geen" }; // an urgency button has no room for "Geen politietaak"
const CLAIM_WARNING_SECONDS = 60;

let detailRequest = 0;

export async function loadDetail(id) {
  const request = ++detailRequest;
  loadTimeline(id);
  loadDuplicates(id);
  loadKeepStatus(id);
  try {
    const incident = await api(`/api/v1/incidents/${id}`);
    if (request !== detailRequest || S.selected !== id) return;
    showIncident(incident);
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

/** The incident as the server just described it; its claim's end is counted on this browser's clock. */
export function showIncident(incident) {
  const held = S.claimDeadline && S.claimDeadline.id === incident.id; // mine until now (a release clears it first)
  S.detail = incident;
  const mine = incident.claimed_by && incident.claimed_by === S.me.display;
  if (held && !mine && incident.status === "open") S.expiredClaim = incident.id;
  S.claimDeadline = mine && incident.claim_seconds_left !== null
    ? { id: incident.id, at: Date.now() + incident.claim_seconds_left * 1000 } : null;
  if (mine) S.expiredClaim = null;
  renderDetail();
}

async function loadTimeline(id) {
  try {
    const timeline = await api(`/api/v1/incidents/${id}/timeline`);
    if (S.selected !== id) return;
    S.timeline = { id, entries: timeline.entries, total: timeline.total };
    const node = $("#timeline");
    if (node) node.replaceWith(timelineView(id));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) handleError(error);
  }
}

async function loadDuplicates(id) {
  try {
    const items = await api(`/api/v1/incidents/${id}/duplicates`);
    if (S.selected !== id) return;
    S.duplicates = { id, items };
    const node = $("#duplicates");
    if (node && S.detail && S.detail.id === id) node.replaceWith(duplicatesPanel(S.detail));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) handleError(error);
  }
}

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
        h("div", { class: "reports" }, incident.reports.map((report) => reportView(report, incident, locked))),
        timelineView(incident.id)),
      h("div", { class: "panels" },
        duplicatesPanel(incident),
        assessmentPanel(incident, d, locked),
        followUpPanel(incident, d, locked),
        toolsPanel(incident, photos, open, other),
        keepPanel(incident))),
  );

  tickClaim();
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
  return h("div", { class: "claim-area" },
    h("div", { class: `claimbar${mine ? " mine" : other ? " other" : ""}`, id: "claimbar" },
      h("span", { class: "holder", id: "claim-holder" }, text + (open && incident.claimed_by ? expires : "")),
      open && mine ? h("button", { type: "button", id: "extend-button", "aria-keyshortcuts": "v", onclick: extendClaim },
        "Verlengen (v)") : null,
      open && canDecide() ? h("button", {
        type: "button", id: "claim-button", class: mine ? "" : "primary", disabled: other,
        "aria-keyshortcuts": "c", onclick: toggleClaim,
      }, mine ? "Claim loslaten (c)" : "Claimen (c)") : null),
    h("div", { class: "claim-warning", id: "claim-warning", role: "alert", hidden: true }));
}

/** Every second: a minute before my claim ends a countdown with "verlengen"; after it, that it ended and that
 * what was typed is kept. */
export function tickClaim() {
  const node = $("#claim-warning");
  const incident = S.detail;
  if (!node || !incident) return;
  const deadline = S.claimDeadline && S.claimDeadline.id === incident.id ? S.claimDeadline.at : null;
  const left = deadline === null ? null : Math.ceil((deadline - Date.now()) / 1000);
  if (left !== null && left <= 0) S.expiredClaim = incident.id;
  if (S.expiredClaim === incident.id && !(left > 0)) {
    showWarning(node, "expired", () => [h("span", {}, "Uw claim is verlopen. Wat u typte is bewaard; claim opnieuw om " +
      "verder te werken."), incident.status === "open" && !incident.claimed_by
      ? h("button", { type: "button", class: "primary", onclick: toggleClaim }, "Opnieuw claimen (c)") : null]);
  } else if (left !== null && left <= CLAIM_WARNING_SECONDS && incident.status === "open") {
    showWarning(node, "soon", () => [h("span", {}, "Uw claim vervalt over "),
      h("b", { id: "claim-countdown", "aria-live": "off" }, ""), h("span", {}, ". "),
      h("button", { type: "button", class: "primary", id: "claim-extend", onclick: extendClaim }, "Verlengen (v)")]);
    $("#claim-countdown").textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  } else {
    node.hidden = true;
    delete node.dataset.state;
  }
}

function showWarning(node, state, children) {
  if (node.dataset.state !== state) {
    node.dataset.state = state;
    fill(node, ...children());
  }
  node.hidden = false;
}

function duplicatesPanel(incident) {
  const items = S.duplicates && S.duplicates.id === incident.id ? S.duplicates.items : [];
  const allowed = canDecide() && incident.status === "open";
  if (!items.length) return h("div", { id: "duplicates", hidden: true });
  return h("section", { class: "panel duplicates", id: "duplicates", "aria-labelledby": "p-dup" },
    h("h3", { id: "p-dup" }, "Mogelijk dezelfde gebeurtenis"),
    h("ul", {}, items.map((item, index) => h("li", { class: "dup", dataset: { incidentId: item.incident.id } },
      h("div", { class: "dup-head" },
        h("span", { class: `badge badge-${item.incident.urgency}` }, label("urgencies", item.incident.urgency)),
        h("b", {}, `#${item.incident.id} ${incidentWhat(item.incident)} · ${wijkName(item.incident.wijkcode)}`)),
      h("p", { class: "dup-text" }, item.incident.text),
      h("p", { class: "dup-why" }, item.reasons.join(" · ")),
      allowed ? h("button", { type: "button", class: "dup-merge", "aria-keyshortcuts": index === 0 ? "m" : null,
        onclick: () => confirmMerge(item) }, index === 0 ? "Samenvoegen… (m)" : "Samenvoegen…") : null))));
}

function timelineView(id) {
  const timeline = S.timeline && S.timeline.id === id ? S.timeline : null;
  return h("section", { class: "timeline", id: "timeline", "aria-labelledby": "d-timeline-title" },
    h("h3", { id: "d-timeline-title" }, "Tijdlijn"),
    !timeline ? h("p", { class: "muted" }, "Tijdlijn laden…") :
      h("ol", { class: "tl" }, timeline.entries.map((entry) => h("li", { class: `tl-entry tl-${entry.kind}`,
        dataset: { kind: entry.kind } },
      h("time", { datetime: entry.at }, fmtDateTime(entry.at)),
      h("div", { class: "tl-body" },
        h("b", { class: "tl-title" }, entry.title),
        entry.actor ? h("span", { class: "tl-actor" }, ` · ${entry.actor}`) : null,
        entry.text && entry.kind !== "melding" ? h("p", { class: "tl-text" }, entry.text) : null,
        entry.reason ? h("p", { class: "tl-reason" }, `${entry.kind === "voorstel" ? "Redenen" : "Reden"}: ${entry.reason}`) : null,
        entry.status ? h("p", { class: "tl-status" }, `Status: ${entry.status}`) : null)))),
    timeline && timeline.total > timeline.entries.length
      ? h("p", { class: "muted" }, `Alleen de nieuwste ${timeline.entries.length} van ${timeline.total}.`) : null);
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
    h("option", { value: "" }, "–"), wijkOptions());
  if (incident.wijkcode && !S.wijkNames.has(incident.wijkcode)) {
    wijkSelect.append(h("option", { value: incident.wijkcode }, incident.wijkcode));
  }
  wijkSelect.value = field("wijkcode", incident.wijkcode);
  for (const [node, name] of [[categorySelect, "category"], [offenceSelect, "offence"], [wijkSelect, "wijkcode"]]) {
    node.addEventListener("change", () => { d[name] = node.value; saveDrafts(); });
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
  followSelect.addEventListener("change", () => { d.follow_up = followSelect.value; saveDrafts(); });
  resultSelect.addEventListener("change", () => { d.result = resultSelect.value; saveDrafts(); });
  note.addEventListener("input", () => { d.note = note.value; saveDrafts(); });
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
      report.photos_failed ? h("span", { class: "tag warn", title: "De foto kon niet worden opgeslagen; vraag de beheerder hem opnieuw te sturen" },
        `${report.photos_failed} foto mislukt`) : null,
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
