// Alerts to beheerders: compose (the draft is kept when the dialog closes; names, house numbers and other
// personal data are flagged while typing), preview with the privacy warnings to confirm, send, and the live
// list of alerts. Every warning is shown right under the text, never inside a scrolling box.

import { $, $$, api, ApiError, fill, fmtTime, h, throttle, toast } from "../common.js";
import { handleError } from "./login.js";
import { canSend, label, options, S, wijkName } from "./state.js";

const CHECK_AFTER_MS = 400;

function defaultKind(incident) {
  if (!incident) return "waarschuwing";
  if (incident.category === "vermissing") return "vermissing";
  if (incident.category === "signalement") return "signalement";
  if (incident.urgency === "P1") return "heterdaad";
  return "waarschuwing";
}

export function openCompose() {
  if (!canSend()) return;
  const incident = S.detail;
  const kind = $("#bc-kind");
  kind.replaceChildren(...options("broadcast_kinds").map((k) => h("option", { value: k.code }, k.label)));
  kind.value = defaultKind(incident);
  $("#bc-text").value = "";
  S.flags = [];
  const wijken = $("#bc-wijken");
  const home = incident && S.wijken.find((w) => w.code === incident.wijkcode);
  const ordered = home ? [...S.wijken.filter((w) => w.gemeente === home.gemeente),
    ...S.wijken.filter((w) => w.gemeente !== home.gemeente)] : S.wijken;
  wijken.replaceChildren(...ordered.map((w) => h("label", {},
    h("input", { type: "checkbox", name: "bc-wijk", value: w.code, checked: incident && w.code === incident.wijkcode }),
    `${w.name} (${w.gemeente})`)));
  $("#bc-wijk-filter").value = "";
  $("#bc-wijk-none").hidden = true;
  const hasPoint = incident && incident.lat !== null && incident.lat !== undefined;
  $("#bc-area-circle").disabled = !hasPoint;
  $$('input[name="bc-area"]').forEach((r) => { r.checked = r.value === "wijken"; });
  $("#bc-link").checked = Boolean(incident);
  $("#bc-link").disabled = !incident;
  S.preview = null;
  S.composeFor = incident ? incident.id : null;
  $("#bc-preview").replaceChildren(h("p", { class: "muted" },
    "Vraag eerst een voorbeeld op: u ziet dan de ontvangers per kanaal en eventuele privacywaarschuwingen."));
  $("#bc-error").hidden = true;
  const restored = restoreDraft(incident);
  $("#bc-restored").hidden = !restored;
  updateComposeState();
  renderChecks();
  $("#bc-dialog").showModal();
  $("#bc-text").focus();
  if (restored) checkSoon();
}

/** The alert typed before for the same incident (or none), as it was when the dialog closed. */
function restoreDraft(incident) {
  const kept = S.composeDraft;
  if (!kept || kept.incidentId !== (incident ? incident.id : null) || !kept.text) return false;
  $("#bc-kind").value = kept.kind;
  $("#bc-text").value = kept.text;
  $$('input[name="bc-area"]').forEach((r) => { r.checked = r.value === kept.area && !r.disabled; });
  if (!$('input[name="bc-area"]:checked')) $('input[name="bc-area"][value="wijken"]').checked = true;
  $$('input[name="bc-wijk"]').forEach((box) => { box.checked = kept.wijken.includes(box.value); });
  $("#bc-radius").value = kept.radius;
  $("#bc-link").checked = kept.link && Boolean(incident);
  return true;
}

function keepDraft() {
  if (!$("#bc-dialog").open) return;
  S.composeDraft = {
    incidentId: S.composeFor, kind: $("#bc-kind").value, text: $("#bc-text").value,
    area: $('input[name="bc-area"]:checked').value, wijken: $$('input[name="bc-wijk"]:checked').map((b) => b.value),
    radius: $("#bc-radius").value, link: $("#bc-link").checked,
  };
}

/** While typing: what the privacy check finds in the text alone (names, house numbers, phone numbers, ...). */
async function checkText() {
  const text = $("#bc-text").value.trim();
  if (!text) {
    S.flags = [];
    renderChecks();
    return;
  }
  try {
    const result = await api("/api/v1/broadcasts/privacy-check", { method: "POST", json: { text } });
    if ($("#bc-text").value.trim() !== text) return;
    S.flags = result.warnings;
    if (!$("#bc-warnings")) renderChecks(); // the preview's warnings, when shown, say it all already
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) handleError(error);
  }
}

const checkSoon = throttle(checkText, CHECK_AFTER_MS);

/** Under the text: the preview's warnings to confirm when the preview is current, else what typing found. */
function renderChecks() {
  const fresh = S.preview && S.preview.key === JSON.stringify(composeBody());
  const box = $("#bc-checks");
  const confirmed = new Set($$(".confirm-warning:checked", box).map((input) => input.value));
  if (fresh) {
    fill(box, S.preview.warnings.length ? h("div", { id: "bc-warnings" },
      h("h3", {}, "Privacywaarschuwingen"),
      S.preview.warnings.map((w) => h("div", { class: "privacy", dataset: { code: w.code } },
        h("p", {}, h("b", {}, `${FLAG_LABELS[w.code] || "Let op"}${w.matches.length ? `: ${w.matches.join(", ")}` : ""}`),
          h("span", { class: "why" }, ` – ${w.message}`)),
        h("label", {}, h("input", { type: "checkbox", class: "confirm-warning", value: w.code,
          checked: confirmed.has(w.code) }),
        "Ik heb dit gecontroleerd en verstuur het bewust zo.")))) :
      h("p", { class: "muted", id: "bc-no-warnings" }, "Geen privacywaarschuwingen."));
    return;
  }
  fill(box, (S.flags || []).map((w) => h("p", { class: "flag", dataset: { code: w.code } },
    h("b", {}, `${FLAG_LABELS[w.code] || "Let op"}: `), w.matches.join(", ") || w.message)));
}

const FLAG_LABELS = { naam: "Mogelijk een naam", huisnummer: "Huisnummer", telefoonnummer: "Telefoonnummer",
  emailadres: "E-mailadres", kenteken: "Kenteken", bsn: "Mogelijk een BSN", uiterlijk: "Alleen uiterlijk of afkomst" };

function composeBody() {
  const incident = S.detail;
  const area = $('input[name="bc-area"]:checked').value;
  const target = area === "circle" && incident
    ? { lat: incident.lat, lon: incident.lon, radius_m: Number($("#bc-radius").value) || 1000 }
    : { wijkcodes: $$('input[name="bc-wijk"]:checked').map((b) => b.value) };
  const body = { kind: $("#bc-kind").value, text: $("#bc-text").value.trim(), target };
  if (incident && $("#bc-link").checked) body.incident_id = incident.id;
  return body;
}

/** Only the wijken whose name or gemeente holds every typed word, and the chosen ones: thousands of check boxes
 * are not a list anyone scrolls through. */
function filterWijken() {
  const words = $("#bc-wijk-filter").value.toLocaleLowerCase("nl").split(/\s+/).filter(Boolean);
  let found = 0;
  for (const label of $$("#bc-wijken label")) {
    const text = label.textContent.toLocaleLowerCase("nl");
    const matches = words.every((word) => text.includes(word));
    if (matches) found += 1;
    label.hidden = !label.querySelector("input").checked && !matches;
  }
  $("#bc-wijk-none").hidden = found > 0;
}

function updateComposeState() {
  const area = $('input[name="bc-area"]:checked').value;
  $("#bc-wijken-box").hidden = area !== "wijken";
  const chosen = $$('input[name="bc-wijk"]:checked').length;
  $("#bc-wijk-chosen").textContent = `${chosen} ${chosen === 1 ? "wijk" : "wijken"} gekozen`;
  $("#bc-radius-label").hidden = area !== "circle";
  $("#bc-count").textContent = `(${$("#bc-text").value.length}/1000)`;
  const current = JSON.stringify(composeBody());
  const fresh = S.preview && S.preview.key === current;
  const confirmed = $$(".privacy input[type=checkbox]").every((box) => box.checked);
  $("#bc-send").disabled = !(fresh && confirmed && S.preview.allowed);
  if (S.preview && !fresh) {
    const stale = $("#bc-stale");
    if (!stale) $("#bc-preview").prepend(h("p", { id: "bc-stale", class: "warn" }, "De tekst of het gebied is gewijzigd: vraag opnieuw een voorbeeld op."));
    if ($("#bc-warnings")) renderChecks();
  }
}

// The draft is kept as it is typed: however the dialog closes (Esc, Annuleren, a new P1 to look at), and
// however soon it is opened again, nothing typed is lost.
$("#bc-form").addEventListener("input", (event) => {
  if (event.target.id === "bc-wijk-filter") {
    filterWijken();
    return;
  }
  updateComposeState();
  keepDraft();
  if (event.target.id === "bc-text") checkSoon();
});
$("#bc-form").addEventListener("change", () => {
  updateComposeState();
  keepDraft();
});
$("#bc-cancel").addEventListener("click", () => $("#bc-dialog").close());
// Enter in the search box filters; it must never send the alert (the form's default button).
$("#bc-wijk-filter").addEventListener("keydown", (event) => {
  if (event.key === "Enter") event.preventDefault();
});

$("#bc-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = composeBody();
  const error = $("#bc-error");
  error.hidden = true;
  if (!body.text) {
    error.textContent = "Schrijf eerst de tekst van het alarm.";
    error.hidden = false;
    $("#bc-text").focus();
    return;
  }
  if (body.target.wijkcodes && !body.target.wijkcodes.length) {
    error.textContent = "Kies minstens één wijk.";
    error.hidden = false;
    return;
  }
  const button = $("#bc-preview-button");
  button.disabled = true;
  try {
    const preview = await api("/api/v1/broadcasts/preview", { method: "POST", json: body });
    const allowed = !(preview.needs_specialist && S.me.role !== "specialist") && preview.recipients > 0;
    S.preview = { key: JSON.stringify(body), warnings: preview.warnings, allowed };
    renderPreview(preview, allowed);
    renderChecks();
  } catch (problem) {
    if (problem instanceof ApiError && problem.status === 401) return handleError(problem);
    error.textContent = problem instanceof ApiError ? problem.message_nl : String(problem);
    error.hidden = false;
  } finally {
    button.disabled = false;
    updateComposeState();
  }
});

function renderPreview(preview, allowed) {
  const wijken = preview.wijkcodes.map(wijkName).join(", ");
  const channels = Object.entries(preview.per_channel);
  fill($("#bc-preview"),
    h("pre", { id: "bc-message" }, preview.message),
    h("p", { id: "bc-recipients" }, h("b", {}, `${preview.recipients} ${preview.recipients === 1 ? "beheerder" : "beheerders"}`),
      ` in ${wijken || "–"}`),
    channels.length ? h("table", { id: "bc-channels" },
      h("thead", {}, h("tr", {}, h("th", {}, "Kanaal"), h("th", {}, "Ontvangers"))),
      h("tbody", {}, channels.map(([channel, count]) => h("tr", {}, h("td", {}, label("channels", channel)), h("td", {}, String(count))))))
      : h("p", { class: "error" }, "Er zijn geen actieve beheerders in dit gebied."),
    preview.recipient_list.length ? h("details", {},
      h("summary", {}, "Ontvangers tonen"),
      h("ul", {}, preview.recipient_list.map((r) => h("li", {}, `${r.name} (${label("channels", r.channel)})`))),
      preview.recipient_list_truncated ? h("p", { class: "muted" }, "Lijst ingekort.") : null) : null,
    preview.needs_specialist ? h("p", { class: "warn" }, "Dit alarm gaat naar meer dan één gemeente en vraagt de rol operationeel specialist." +
      (allowed ? "" : " U kunt het niet zelf versturen.")) : null,
    preview.warnings.length ? h("p", { class: "warn" }, `${preview.warnings.length} privacywaarschuwing` +
      `${preview.warnings.length === 1 ? "" : "en"}: bevestig ${preview.warnings.length === 1 ? "die" : "ze"} onder de tekst.`)
      : null,
  );
}

$("#bc-send").addEventListener("click", async () => {
  const body = composeBody();
  if (!S.preview || S.preview.key !== JSON.stringify(body)) return;
  body.confirm_warnings = $$(".confirm-warning:checked").map((box) => box.value);
  const button = $("#bc-send");
  button.disabled = true;
  button.textContent = "Versturen…";
  try {
    const sent = await api("/api/v1/broadcasts", { method: "POST", json: body });
    S.broadcasts.set(sent.id, { id: sent.id, kind: sent.kind, wijkcodes: sent.wijkcodes, progress: sent.progress,
      created_at: sent.created_at });
    renderBroadcasts();
    S.composeDraft = null; // sent: nothing to keep
    $("#bc-dialog").close();
    toast(`Alarm verstuurd naar ${sent.progress.recipients} beheerders.`, "ok", 6000);
  } catch (problem) {
    if (problem instanceof ApiError && problem.status === 401) return handleError(problem);
    if (problem instanceof ApiError && problem.body.code === "privacy_warnings" && problem.body.warnings) {
      S.preview.warnings = problem.body.warnings;
    }
    const error = $("#bc-error");
    error.textContent = problem instanceof ApiError ? problem.message_nl : String(problem);
    error.hidden = false;
  } finally {
    button.textContent = "Versturen";
    updateComposeState();
  }
});

export async function loadBroadcasts() {
  if (!canSend()) {
    $(".bc-list").hidden = true;
    return;
  }
  try {
    const page = await api("/api/v1/broadcasts?limit=10");
    for (const b of page.items) {
      S.broadcasts.set(b.id, { id: b.id, kind: b.kind, wijkcodes: b.wijkcodes, progress: b.progress, created_at: b.created_at });
    }
    renderBroadcasts();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) handleError(error);
  }
}

export function applyBroadcastEvent(event) {
  const data = event.data || {};
  const current = S.broadcasts.get(data.broadcast_id) || { id: data.broadcast_id, kind: data.kind, wijkcodes: [],
    progress: null, created_at: event.at };
  if (event.type === "broadcast.created") {
    current.wijkcodes = data.wijkcodes || [];
    current.recipients = data.recipients;
  } else if (event.type === "broadcast.progress") {
    current.progress = data;
  }
  S.broadcasts.set(current.id, current);
}

export function renderBroadcasts() {
  const items = [...S.broadcasts.values()].sort((a, b) => b.id - a.id).slice(0, 8);
  $("#broadcasts").replaceChildren(...items.map((b) => {
    const p = b.progress || { recipients: b.recipients || 0, delivered: 0, forwarded: 0, failed: 0, done: false };
    const n = p.recipients || 0;
    const pct = (x) => (n ? `${Math.round((100 * x) / n)}%` : "0%");
    return h("li", { dataset: { broadcast: b.id } },
      h("b", {}, label("message_kinds", b.kind)), ` · ${(b.wijkcodes || []).map(wijkName).join(", ")} · ${fmtTime(b.created_at)} — `,
      h("span", { class: "bc-progress" }, `afgeleverd ${p.delivered} / doorgestuurd ${p.forwarded} van ${n}` +
        (p.failed ? ` · ${p.failed} mislukt` : "")),
      h("div", { class: "bar", role: "presentation" },
        h("span", { class: "delivered", style: `width:${pct(p.delivered)}` }),
        h("span", { class: "forwarded", style: `width:${pct(p.forwarded)}` })));
  }));
  $("#bc-empty").hidden = items.length > 0;
}
