// The form that creates an operation or changes a planned one: name, kind, the area (wijken, gemeenten or a
// circle, on an offline map of wijken), start and end in Dutch time, the briefing. While the area is edited
// it shows how many beheerders are in it and which operations of the same kind overlap (a warning: allowed).

import { $, $$, api, ApiError, fill, fmtDateTime, h, throttle, toast, TZ } from "../common.js";
import { drawMaps, regionGroups } from "../map.js";
import { handleError } from "./login.js";
import { confirmedWarnings, showPrivacyWarnings } from "./privacy.js";
import { label, options, wijkName } from "./state.js";

const PREVIEW_AFTER_MS = 300;
const HOUR = 3600_000;
const F = { map: null, groups: [], operationId: null, preview: null, request: 0 };

const inputParts = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** A moment as the value of a datetime-local input, in Dutch time: "2026-12-12T17:00". */
function inputValue(date) {
  const p = Object.fromEntries(inputParts.formatToParts(date).map((part) => [part.type, part.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

async function mapData() {
  if (!F.map) {
    F.map = await api("/api/v1/map");
    F.groups = regionGroups(F.map);
  }
  return F.map;
}

function wijkFeatures() {
  return F.map.features.filter((f) => f.properties.kind === "wijk");
}

function gemeenten() {
  const seen = new Map();
  for (const f of wijkFeatures()) seen.set(f.properties.gemeentecode, f.properties.gemeente);
  return [...seen].map(([code, name]) => ({ code, name })).sort((a, b) => a.name.localeCompare(b.name));
}

/** Renders the form into `page`: empty for a new operation, filled in for `id`. */
export async function renderForm(page, id) {
  F.operationId = id;
  F.preview = null;
  try {
    const [operation] = await Promise.all([id ? api(`/api/v1/operations/${id}`) : null, mapData()]);
    if (operation && operation.status !== "gepland") {
      fill(page, h("p", { class: "empty" }, `Actie #${id} is ${label("operation_statuses", operation.status).toLowerCase()} ` +
        "en kan niet meer worden gewijzigd."), h("p", {}, h("a", { href: `#acties/${id}` }, "Terug naar de actie")));
      return;
    }
    fill(page, formView(operation));
    fillIn(operation);
    wire();
    updateArea();
    $("#op-name").focus();
  } catch (error) {
    handleError(error, "Formulier laden");
  }
}

function field(id, text, control, hint) {
  return h("div", { class: "op-field" }, h("label", { for: id }, text), control,
    hint ? h("p", { class: "muted hint", id: `${id}-hint` }, hint) : null);
}

function formView(operation) {
  const back = operation ? `#acties/${operation.id}` : "#acties";
  return [
    h("p", {}, h("a", { href: back }, "← Terug")),
    h("h2", { id: "op-view-title" }, operation ? `Actie wijzigen: ${operation.name}` : "Nieuwe actie"),
    h("form", { id: "op-form", class: "op-form", novalidate: true },
      h("div", { class: "op-form-grid" },
        h("div", {},
          field("op-name", "Naam", h("input", { id: "op-name", maxlength: 200, required: true, autocomplete: "off" })),
          field("op-kind", "Soort", h("select", { id: "op-kind", required: true },
            options("operation_kinds").map((k) => h("option", { value: k.code }, k.label)))),
          h("div", { class: "op-times" },
            field("op-starts", "Begin (Nederlandse tijd)", h("input", { id: "op-starts", type: "datetime-local", required: true })),
            field("op-ends", "Einde (Nederlandse tijd)", h("input", { id: "op-ends", type: "datetime-local", required: true }))),
          field("op-briefing", "Briefing voor de deelnemers", h("textarea", { id: "op-briefing", rows: 6, maxlength: 2000,
            required: true, "aria-describedby": "op-briefing-hint" }),
          "Waar letten zij op, en wat niet te doen: niemand aanspreken of achtervolgen, geen foto's van personen, bel 112."),
          h("div", { id: "op-briefing-confirm", class: "op-confirm" })),
        h("div", {},
          h("fieldset", { class: "op-area" },
            h("legend", {}, "Gebied"),
            h("div", { class: "op-area-modes" },
              ["wijken", "gemeente", "cirkel"].map((mode) => h("label", { class: "inline" },
                h("input", { type: "radio", name: "op-area", value: mode, checked: mode === "wijken" }),
                { wijken: "Wijken", gemeente: "Gemeente", cirkel: "Cirkel" }[mode]))),
            h("div", { id: "op-area-wijken", class: "wijk-checks op-checks" }, wijkFeatures()
              .sort((a, b) => a.properties.gemeente.localeCompare(b.properties.gemeente) || a.properties.name.localeCompare(b.properties.name))
              .map((f) => h("label", {}, h("input", { type: "checkbox", name: "op-wijk", value: f.properties.wijkcode }),
                `${f.properties.name} (${f.properties.gemeente})`))),
            h("div", { id: "op-area-gemeente", class: "wijk-checks op-checks", hidden: true }, gemeenten().map((g) =>
              h("label", {}, h("input", { type: "checkbox", name: "op-gemeente", value: g.code }), g.name))),
            h("div", { id: "op-area-cirkel", class: "op-circle", hidden: true },
              field("op-centre", "Midden bij wijk", h("select", { id: "op-centre" }, h("option", { value: "" }, "Kies…"),
                wijkFeatures().map((f) => h("option", { value: f.properties.wijkcode }, `${f.properties.name} (${f.properties.gemeente})`)))),
              field("op-lat", "Breedtegraad", h("input", { id: "op-lat", type: "number", step: "0.0001", min: -90, max: 90 })),
              field("op-lon", "Lengtegraad", h("input", { id: "op-lon", type: "number", step: "0.0001", min: -180, max: 180 })),
              field("op-radius", "Straal in meters", h("input", { id: "op-radius", type: "number", min: 100, max: 50000, step: 100, value: 1000 })))),
          field("op-map-of", "Kaart van", h("select", { id: "op-map-of" }, gemeenten().map((g) => h("option", { value: g.name }, g.name)))),
          h("div", { id: "op-map", class: "op-map" }),
          h("div", { id: "op-preview", class: "op-preview", role: "status", "aria-live": "polite" },
            h("p", { class: "muted" }, "Kies een gebied: u ziet dan hoeveel beheerders erin zitten.")))),
      h("p", { id: "op-form-error", class: "error", role: "alert", hidden: true }),
      h("div", { class: "op-actions" },
        h("a", { class: "button", href: back }, "Annuleren"),
        h("button", { type: "submit", class: "primary", id: "op-save" }, operation ? "Wijzigingen opslaan" : "Actie aanmaken"))),
  ];
}

function fillIn(operation) {
  if (!operation) {
    const start = new Date(Math.ceil(Date.now() / HOUR) * HOUR);
    $("#op-starts").value = inputValue(start);
    $("#op-ends").value = inputValue(new Date(start.getTime() + 4 * HOUR));
    return;
  }
  $("#op-name").value = operation.name;
  $("#op-kind").value = operation.kind;
  $("#op-starts").value = operation.starts_at.slice(0, 16); // the server gives Dutch time with its offset
  $("#op-ends").value = operation.ends_at.slice(0, 16);
  $("#op-briefing").value = operation.briefing;
  const area = operation.area || {};
  const mode = area.circle ? "cirkel" : (area.gemeentecodes || []).length ? "gemeente" : "wijken";
  $(`input[name="op-area"][value="${mode}"]`).checked = true;
  for (const box of $$('input[name="op-wijk"]')) box.checked = (area.wijkcodes || []).includes(box.value);
  for (const box of $$('input[name="op-gemeente"]')) box.checked = (area.gemeentecodes || []).includes(box.value);
  if (area.circle) {
    $("#op-lat").value = area.circle.lat;
    $("#op-lon").value = area.circle.lon;
    $("#op-radius").value = area.circle.radius_m;
  }
}

function areaMode() {
  return $('input[name="op-area"]:checked').value;
}

/** The area in the API's words, or null while it is empty. */
function areaBody() {
  const mode = areaMode();
  if (mode === "wijken") {
    const wijkcodes = $$('input[name="op-wijk"]:checked').map((box) => box.value);
    return wijkcodes.length ? { wijkcodes } : null;
  }
  if (mode === "gemeente") {
    const gemeentecodes = $$('input[name="op-gemeente"]:checked').map((box) => box.value);
    return gemeentecodes.length ? { gemeentecodes } : null;
  }
  const [lat, lon, radius] = ["#op-lat", "#op-lon", "#op-radius"].map((id) => $(id).value);
  return lat && lon && radius ? { lat: Number(lat), lon: Number(lon), radius_m: Number(radius) } : null;
}

const withSeconds = (value) => (value ? `${value}:00` : null);

function wire() {
  const form = $("#op-form");
  form.addEventListener("change", (event) => {
    if (event.target.id === "op-centre") centreOn(event.target.value);
    if (event.target.id === "op-map-of") drawMap();
    else updateArea();
  });
  form.addEventListener("input", (event) => {
    if (["op-lat", "op-lon", "op-radius"].includes(event.target.id)) previewSoon();
  });
  form.addEventListener("submit", save);
  $("#op-map").addEventListener("click", (event) => {
    const shape = event.target.closest("[data-wijkcode]");
    if (!shape || areaMode() !== "wijken") return;
    const box = $(`input[name="op-wijk"][value="${shape.dataset.wijkcode}"]`);
    box.checked = !box.checked;
    updateArea();
  });
}

function centreOn(code) {
  const feature = wijkFeatures().find((f) => f.properties.wijkcode === code);
  if (!feature) return;
  const [group] = regionGroups({ features: [feature] });
  $("#op-lat").value = ((group.bounds.minLat + group.bounds.maxLat) / 2).toFixed(4);
  $("#op-lon").value = ((group.bounds.minLon + group.bounds.maxLon) / 2).toFixed(4);
}

function updateArea() {
  for (const mode of ["wijken", "gemeente", "cirkel"]) $(`#op-area-${mode}`).hidden = areaMode() !== mode;
  const chosen = $$('input[name="op-wijk"]:checked').map((box) => box.value);
  const first = wijkFeatures().find((f) => chosen.includes(f.properties.wijkcode));
  if (first && areaMode() === "wijken") $("#op-map-of").value = first.properties.gemeente;
  drawMap();
  previewSoon();
}

/** The chosen gemeente's wijken; those in the area (as the server resolved it) are marked. */
function drawMap() {
  const group = F.groups.find((g) => g.name === $("#op-map-of").value) || F.groups[0];
  if (!group || !$("#op-map")) return;
  drawMaps($("#op-map"), [{ ...group, hotspots: [] }], { titles: false });
  const inside = new Set(F.preview ? F.preview.wijkcodes : $$('input[name="op-wijk"]:checked').map((box) => box.value));
  for (const shape of $$("#op-map [data-wijkcode]")) shape.classList.toggle("chosen", inside.has(shape.dataset.wijkcode));
}

async function loadPreview() {
  if (!$("#op-form")) return; // the page changed meanwhile
  const area = areaBody();
  const request = ++F.request;
  if (!area) {
    F.preview = null;
    fill($("#op-preview"), h("p", { class: "muted" }, "Kies een gebied: u ziet dan hoeveel beheerders erin zitten."));
    drawMap();
    return;
  }
  const body = { area, kind: $("#op-kind").value, starts_at: withSeconds($("#op-starts").value),
    ends_at: withSeconds($("#op-ends").value), operation_id: F.operationId };
  try {
    const preview = await api("/api/v1/operations/preview", { method: "POST", json: body });
    if (request !== F.request || !$("#op-form")) return;
    F.preview = preview;
    showPreview(preview);
    drawMap();
  } catch (problem) {
    if (request !== F.request || !$("#op-form")) return;
    if (problem instanceof ApiError && problem.status === 401) return handleError(problem);
    F.preview = null;
    fill($("#op-preview"), h("p", { class: "error" }, problem instanceof ApiError ? problem.message_nl : String(problem)));
  }
}

const previewSoon = throttle(loadPreview, PREVIEW_AFTER_MS);

function showPreview(preview) {
  const count = preview.beheerders;
  fill($("#op-preview"),
    h("p", { id: "op-count", class: count ? "op-count" : "op-count none", dataset: { beheerders: count } },
      h("b", {}, `${count} ${count === 1 ? "beheerder" : "beheerders"}`), " in dit gebied",
      preview.wijkcodes.length ? ` (${preview.wijkcodes.map(wijkName).join(", ")})` : " – het gebied raakt geen wijk"),
    count ? null : h("p", { class: "warn" }, "Er zijn hier geen actieve beheerders: niemand kan worden uitgenodigd."),
    preview.overlapping.length ? h("div", { class: "warn", id: "op-overlap" },
      h("b", {}, "Let op: in dit gebied loopt in dezelfde tijd al een actie van deze soort."),
      h("ul", {}, preview.overlapping.map((o) => h("li", {}, h("a", { href: `#acties/${o.id}` }, o.name),
        ` (${label("operation_statuses", o.status).toLowerCase()}, ${fmtDateTime(o.starts_at)} tot ${fmtDateTime(o.ends_at)})`))),
      h("p", {}, "U kunt de actie toch opslaan.")) : null);
}

function formBody() {
  return {
    name: $("#op-name").value.trim(), kind: $("#op-kind").value, area: areaBody(),
    starts_at: withSeconds($("#op-starts").value), ends_at: withSeconds($("#op-ends").value),
    briefing: $("#op-briefing").value.trim(), confirm_warnings: confirmedWarnings($("#op-briefing-confirm")),
  };
}

/** A missing field, said in Dutch before the server is asked. */
function missing(body) {
  if (!body.name) return ["#op-name", "Geef de actie een naam."];
  if (!body.area) return [null, "Kies het gebied van de actie."];
  if (!body.starts_at || !body.ends_at) return ["#op-starts", "Vul het begin en het einde in."];
  if (!body.briefing) return ["#op-briefing", "Schrijf de briefing voor de deelnemers."];
  return null;
}

async function save(event) {
  event.preventDefault();
  const error = $("#op-form-error");
  error.hidden = true;
  const body = formBody();
  const gap = missing(body);
  if (gap) {
    error.textContent = gap[1];
    error.hidden = false;
    if (gap[0]) $(gap[0]).focus();
    return;
  }
  const button = $("#op-save");
  button.disabled = true;
  try {
    const saved = F.operationId
      ? await api(`/api/v1/operations/${F.operationId}`, { method: "PATCH", json: body })
      : await api("/api/v1/operations", { method: "POST", json: body });
    for (const warning of saved.warnings) toast(warning.message, "warn", 9000);
    toast(F.operationId ? "De actie is gewijzigd." : "De actie is aangemaakt.", "ok");
    location.hash = `#acties/${saved.id}`;
  } catch (problem) {
    if (problem instanceof ApiError && problem.status === 401) return handleError(problem);
    if (showPrivacyWarnings($("#op-briefing-confirm"), problem)) $("#op-briefing").focus();
    error.textContent = problem instanceof ApiError ? problem.message_nl : String(problem);
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}
