// Actions on the selected incident: claim, urgency, assessment, follow-up, close, merge, split, photos (audited),
// and the group of a report that is still to be chosen.

import { $, $$, api, fmtDateTime, h, toast } from "../common.js";
import { draft, loadDetail, renderDetail } from "./detail.js";
import { handleError } from "./login.js";
import { took } from "./queue.js";
import { canDecide, label, S } from "./state.js";

export async function toggleClaim() {
  const incident = S.detail;
  if (!incident || !canDecide() || incident.status !== "open") return;
  const mine = incident.claimed_by === S.me.display;
  try {
    took(await api(`/api/v1/incidents/${incident.id}/claim`, { method: mine ? "DELETE" : "POST" }));
    toast(mine ? `Claim op #${incident.id} losgelaten.` : `#${incident.id} geclaimd.`, "ok", 3000);
  } catch (error) {
    handleError(error, mine ? "Loslaten" : "Claimen");
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
  try {
    took(await api(`/api/v1/incidents/${S.detail.id}/merge`, { method: "POST", json: { incident_ids: ids } }));
    toast(`Samengevoegd in #${S.detail.id}.`, "ok");
  } catch (error) {
    handleError(error, "Samenvoegen");
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
