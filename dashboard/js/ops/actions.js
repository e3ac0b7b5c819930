// Actions on the selected incident: claim (and extend), urgency, assessment, follow-up, close, merge with an
// undo for a minute, split, photos (audited), and the group of a report that is still to be chosen.

import { $, $$, api, fill, fmtDateTime, fmtTime, h, toast } from "../common.js";
import { draft, loadDetail, renderDetail } from "./detail.js";
import { handleError } from "./login.js";
import { took } from "./queue.js";
import { canDecide, incidentWhat, label, S, saveDrafts, wijkName } from "./state.js";

const UNDO_MS = 60_000;

export async function toggleClaim() {
  const incident = S.detail;
  if (!incident || !canDecide() || incident.status !== "open") return;
  const mine = incident.claimed_by === S.me.display;
  if (mine) S.claimDeadline = null; // let go on purpose: not an expired claim
  try {
    took(await api(`/api/v1/incidents/${incident.id}/claim`, { method: mine ? "DELETE" : "POST" }));
    toast(mine ? `Claim op #${incident.id} losgelaten.` : `#${incident.id} geclaimd.`, "ok", 3000);
  } catch (error) {
    handleError(error, mine ? "Loslaten" : "Claimen");
    loadDetail(incident.id);
  }
}

/** Claiming again what one holds extends the claim (the server counts from now). */
export async function extendClaim() {
  const incident = S.detail;
  if (!incident || !canDecide() || incident.status !== "open" || incident.claimed_by !== S.me.display) return;
  try {
    const extended = await api(`/api/v1/incidents/${incident.id}/claim`, { method: "POST" });
    took(extended);
    toast(`Claim op #${incident.id} verlengd tot ${fmtTime(extended.claim_expires_at)}.`, "ok", 4000);
  } catch (error) {
    handleError(error, "Verlengen");
    loadDetail(incident.id);
  }
}

async function patch(body, what) {
  const incident = S.detail;
  try {
    const updated = await api(`/api/v1/incidents/${incident.id}`, { method: "PATCH", json: body });
    took(updated);
    return updated;
  } catch (error) {
    handleError(error, what);
    loadDetail(incident.id);
    return null;
  }
}

export async function setUrgency(urgency) {
  const incident = S.detail;
  if (!incident || !canDecide() || incident.status !== "open" || incident.urgency === urgency) return;
  const body = { urgency };
  if (incident.urgency === "P1" && S.vocabulary.urgencyRank(urgency) > S.vocabulary.urgencyRank("P1")) {
    const reason = await askReason(urgency);
    if (reason === null) return;
    body.reason = reason;
  }
  if (await patch(body, "Urgentie wijzigen")) toast(`#${incident.id} is nu ${label("urgencies", urgency)}.`, "ok", 3000);
}

function askReason(urgency) {
  const dialog = $("#reason-dialog");
  $("#reason-target").textContent = label("urgencies", urgency);
  const text = $("#reason-text");
  text.value = "";
  dialog.returnValue = "";
  dialog.showModal();
  text.focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" && text.value.trim() ? text.value.trim() : null);
    }, { once: true });
  });
}

export async function saveAssessment() {
  const incident = S.detail;
  const d = draft(incident.id);
  const body = {};
  if (d.category !== undefined && d.category !== (incident.category || "")) body.category = d.category || null;
  if (d.offence !== undefined && d.offence !== (incident.offence || "")) body.offence = d.offence || null;
  if (d.wijkcode !== undefined && d.wijkcode !== (incident.wijkcode || "")) body.wijkcode = d.wijkcode || null;
  if (!Object.keys(body).length) {
    toast("Er is niets gewijzigd.", "info", 3000);
    return;
  }
  if (await patch(body, "Beoordeling opslaan")) {
    delete d.category;
    delete d.offence;
    delete d.wijkcode;
    saveDrafts();
    renderDetail();
    toast("Beoordeling opgeslagen.", "ok", 3000);
  }
}

export async function saveFollowUp() {
  const incident = S.detail;
  const d = draft(incident.id);
  const body = {};
  if (d.follow_up && d.follow_up !== (incident.follow_up || "")) body.follow_up = d.follow_up;
  if (d.result && d.result !== (incident.result || "")) body.result = d.result;
  if (d.note && d.note.trim()) body.note_for_reporter = d.note.trim();
  if (!Object.keys(body).length) {
    toast("Kies een opvolging of resultaat, of schrijf een terugkoppeling.", "info", 4000);
    return;
  }
  if (await patch(body, "Opvolging opslaan")) {
    delete d.follow_up;
    delete d.result;
    delete d.note;
    saveDrafts();
    renderDetail();
    toast("Opgeslagen; de melder krijgt terugkoppeling.", "ok", 4000);
  }
}

export async function closeIncident() {
  const incident = S.detail;
  if (!incident || !canDecide() || incident.status !== "open") return;
  const dialog = $("#close-dialog");
  $("#close-warning").hidden = Boolean(incident.follow_up);
  dialog.returnValue = "";
  dialog.showModal();
  const answer = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
  if (answer !== "ok") return;
  if (await patch({ close: true }, "Afsluiten")) toast(`Incident #${incident.id} is afgesloten.`, "ok", 4000);
}

export async function mergeInto(value) {
  const ids = value.split(/[\s,;]+/).map((v) => Number(v.replace("#", ""))).filter((n) => Number.isInteger(n) && n > 0);
  if (!ids.length) {
    toast("Geef de nummers van de incidenten die u wilt samenvoegen.", "warn");
    return;
  }
  await merge(S.detail.id, ids);
}

async function merge(target, ids) {
  try {
    took(await api(`/api/v1/incidents/${target}/merge`, { method: "POST", json: { incident_ids: ids } }));
    offerUndo(target, ids);
    return true;
  } catch (error) {
    handleError(error, "Samenvoegen");
    return false;
  }
}

/** A suggested duplicate: both incidents side by side, then merged into the one that is open here. */
export async function confirmMerge(suggestion) {
  const incident = S.detail;
  if (!incident || !canDecide() || incident.status !== "open") return;
  const other = suggestion.incident;
  fill($("#merge-target"), side("Blijft", incident, incident.reports.map((r) => r.text)));
  fill($("#merge-other"), side("Gaat op in het incident links", other, [other.text]),
    h("p", { class: "muted" }, suggestion.reasons.join(" · ")));
  const dialog = $("#merge-dialog");
  dialog.returnValue = "";
  dialog.showModal();
  const answer = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
  if (answer === "ok") await merge(incident.id, [other.id]);
}

function side(role, incident, texts) {
  const count = incident.report_count;
  return [
    h("p", { class: "merge-role" }, role),
    h("h3", {}, h("span", { class: `badge badge-${incident.urgency}` }, label("urgencies", incident.urgency)), " ",
      `#${incident.id} ${incidentWhat(incident)} · ${wijkName(incident.wijkcode)}`),
    h("p", { class: "muted" }, `${count} ${count === 1 ? "melding" : "meldingen"} · eerste ${fmtDateTime(incident.first_report_at)}`),
    h("ul", { class: "merge-texts" }, texts.slice(0, 4).map((text) => h("li", {}, text))),
  ];
}

let undoTimer = null;

function offerUndo(target, ids) {
  S.undo = { target, ids, until: Date.now() + UNDO_MS };
  const bar = $("#undo-bar");
  fill(bar, h("span", {}, `${ids.map((id) => `#${id}`).join(", ")} samengevoegd in #${target}. `),
    h("button", { type: "button", id: "undo-merge", class: "primary", "aria-keyshortcuts": "u", onclick: undoMerge },
      "Ongedaan maken (u)"));
  bar.hidden = false;
  clearTimeout(undoTimer);
  undoTimer = setTimeout(closeUndo, UNDO_MS);
}

function closeUndo() {
  S.undo = null;
  $("#undo-bar").hidden = true;
}

export async function undoMerge() {
  const pending = S.undo;
  if (!pending || Date.now() > pending.until) return;
  closeUndo();
  try {
    took(await api(`/api/v1/incidents/${pending.target}/merge/undo`, { method: "POST" }));
    toast(`Samenvoegen ongedaan gemaakt: ${pending.ids.map((id) => `#${id}`).join(", ")} staat weer apart.`, "ok", 5000);
  } catch (error) {
    handleError(error, "Ongedaan maken");
  }
}

export async function splitSelected() {
  const ids = $$(".split-box:checked").map((box) => Number(box.value));
  if (!ids.length) {
    toast("Vink eerst de meldingen aan die u wilt afsplitsen.", "warn");
    return;
  }
  try {
    const created = await api(`/api/v1/incidents/${S.detail.id}/split`, { method: "POST", json: { report_ids: ids } });
    toast(`Afgesplitst naar nieuw incident #${created.id}.`, "ok");
    loadDetail(S.detail.id);
  } catch (error) {
    handleError(error, "Afsplitsen");
  }
}

export async function chooseGroup(report, groupId) {
  if (!groupId) return;
  try {
    await api(`/api/v1/reports/${report.id}`, { method: "PATCH", json: { group_id: groupId } });
    toast(`Melding ${report.case_number}: groep gekozen.`, "ok", 3000);
  } catch (error) {
    handleError(error, "Groep kiezen");
  }
  loadDetail(S.detail.id);
}

export function openPhotos() {
  const incident = S.detail;
  if (!incident) return;
  const items = incident.reports.flatMap((r) => r.photo_ids.map((pid) => ({ report: r, photo_id: pid })));
  if (!items.length) return;
  $("#photos").replaceChildren(...items.map(({ report, photo_id: pid }) => h("figure", {},
    h("img", { src: `/api/v1/reports/${report.id}/photos/${pid}`, alt: `Foto bij melding ${report.case_number}`,
      loading: "eager", onerror: (e) => { e.target.alt = "Foto kon niet worden geladen"; } }),
    h("figcaption", {}, `${report.case_number} · ${fmtDateTime(report.received_at)}`))));
  $("#photos-dialog").showModal();
}
