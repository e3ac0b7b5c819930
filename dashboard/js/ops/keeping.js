// "Bewaren (Wpg)": an operator keeps an incident beyond the ordinary retention (POST /incidents/{id}/keep, with
// a reason; audited). The panel says whether it is kept already and until when (GET /incidents/{id}/keep).

import { $, api, ApiError, fmtDateTime, h, toast, TZ } from "../common.js";
import { handleError } from "./login.js";
import { canDecide, S } from "./state.js";

const MIN_REASON = 3;
// A hold ends a year or so from now: its date needs the year, which the console's short format leaves out.
const LONG_DATE = new Intl.DateTimeFormat("nl-NL", { day: "numeric", month: "long", year: "numeric", timeZone: TZ });
const untilText = (iso) => LONG_DATE.format(new Date(iso));
let status = null; // { id, ...KeepStatusOut } of the selected incident
let reasonDraft = { id: null, text: "" }; // what is typed survives the re-renders of live events

/** Reads the selected incident's hold and redraws the panel. */
export async function loadKeepStatus(id) {
  try {
    const answer = await api(`/api/v1/incidents/${id}/keep`);
    if (S.selected !== id) return;
    status = { id, ...answer };
    redraw();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) handleError(error);
  }
}

function redraw() {
  const node = $("#keep-panel");
  if (!node || !S.detail) return;
  const focused = node.contains(document.activeElement) ? document.activeElement.id : null;
  node.replaceWith(keepPanel(S.detail));
  if (focused) document.getElementById(focused)?.focus();
}

function statusText(current) {
  if (!current) return "Bewaarstatus laden…";
  if (current.kept) {
    return `Wordt bewaard tot ${untilText(current.keep_until)}` +
      `${current.marked_by ? ` (door ${current.marked_by}, ${fmtDateTime(current.marked_at)})` : ""}.`;
  }
  if (current.keep_until) return `Werd bewaard tot ${untilText(current.keep_until)}; die termijn is voorbij.`;
  return `Niet bewaard: teksten, foto's en locaties worden na ${current.retention_days} dagen verwijderd.`;
}

export function keepPanel(incident) {
  const current = status && status.id === incident.id ? status : null;
  if (reasonDraft.id !== incident.id) reasonDraft = { id: incident.id, text: "" };
  const reason = h("input", { id: "keep-reason", maxlength: "300", autocomplete: "off",
    placeholder: "bijv. lopend onderzoek woninginbraken", "aria-describedby": "keep-status" });
  reason.value = reasonDraft.text;
  reason.addEventListener("input", () => { reasonDraft.text = reason.value; });
  reason.addEventListener("keydown", (event) => { if (event.key === "Enter") keep(incident.id, reason); });
  return h("section", { class: "panel keep", id: "keep-panel", "aria-labelledby": "p-keep",
    dataset: { kept: current ? String(current.kept) : "" } },
  h("h3", { id: "p-keep" }, "Bewaren (Wet politiegegevens)"),
  h("p", { id: "keep-status", class: current && current.kept ? "kept" : "muted", role: "status" }, statusText(current)),
  current && current.reason ? h("p", { class: "muted", id: "keep-current-reason" }, `Reden: ${current.reason}`) : null,
  canDecide() ? h("div", { class: "fields" },
    h("label", { class: "full", for: "keep-reason" }, current && current.kept
      ? "Reden om opnieuw te bewaren (de termijn telt dan vanaf nu)" : "Reden om te bewaren (Wpg-doel)", reason)) : null,
  canDecide() ? h("div", { class: "actions" },
    h("button", { type: "button", id: "keep-button", onclick: () => keep(incident.id, reason) },
      current && current.kept ? "Opnieuw bewaren (Wpg)" : "Bewaren (Wpg)"),
    current ? h("span", { class: "muted" }, `Bewaart ${current.kept_days} dagen vanaf nu; wordt vastgelegd in het auditlog.`)
      : null) : null);
}

async function keep(id, input) {
  const reason = input.value.trim();
  if (reason.length < MIN_REASON) {
    toast(`Geef een reden van minstens ${MIN_REASON} tekens: waarom moet dit incident bewaard blijven?`, "error");
    input.focus();
    return;
  }
  try {
    const hold = await api(`/api/v1/incidents/${id}/keep`, { method: "POST", json: { reason } });
    reasonDraft = { id, text: "" };
    toast(`#${id} wordt bewaard tot ${untilText(hold.keep_until)}.`, "ok", 5000);
    await loadKeepStatus(id);
  } catch (error) {
    handleError(error, "Bewaren");
  }
}
