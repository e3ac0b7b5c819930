// The beheerders' portal (mobile first): forward a report with photos and a location, follow my reports
// (status, advice, feedback), receive alerts live and mark them "doorgestuurd naar mijn groep(en)".
// Authenticates with the beheerder's API token: asked once, or taken from #token= in the invitation
// link, and kept in localStorage on this device.

import {
  $, api, ApiError, connectionText, EventStream, fill, fmtDateTime, fmtTime, h, loadVocabulary, takeFragmentToken,
  throttle, toast,
} from "./common.js";

const TOKEN_KEY = "meldkamer.beheerder.token";
const DRAFT_KEY = "meldkamer.beheerder.draft";
const MAX_PHOTOS = 4;
const MAX_EDGE = 2560; // photos are scaled down to this on the phone, to spare the data bundle

const S = {
  token: null,
  me: null,
  vocabulary: null, // a promise of the labels from GET /api/v1/meta
  stream: null,
  photos: [], // [{file, url}]
  location: null, // {lat, lon, accuracy}
  idempotencyKey: null,
  alerts: [],
  toasted: new Map(), // case number -> when we last said there is feedback
  seenAlerts: new Set(JSON.parse(localStorage.getItem("meldkamer.beheerder.seen") || "[]")),
};

// ---- sign in --------------------------------------------------------------------------------------

async function boot() {
  const fromLink = takeFragmentToken();
  if (fromLink) localStorage.setItem(TOKEN_KEY, fromLink);
  S.token = localStorage.getItem(TOKEN_KEY);
  updateOnline();
  registerServiceWorker();
  if (!S.token) {
    showLogin();
    return;
  }
  try {
    S.me = await api("/api/v1/me", { token: S.token });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      localStorage.removeItem(TOKEN_KEY);
      showLogin("Deze toegangscode werkt niet (meer). Vraag de politie om een nieuwe.");
      return;
    }
    // Offline or server down: show what we can, and try again.
    enter();
    $("#who").textContent = "geen verbinding";
    setTimeout(boot, 5000);
    return;
  }
  enter();
}

function showLogin(message = "") {
  setConnection("idle");
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  const error = $("#login-error");
  error.textContent = message;
  error.hidden = !message;
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = $("#login-token").value.trim();
  const error = $("#login-error");
  if (!token) {
    error.textContent = "Vul uw toegangscode in.";
    error.hidden = false;
    return;
  }
  try {
    S.me = await api("/api/v1/me", { token });
  } catch (problem) {
    error.textContent = problem instanceof ApiError && problem.status === 401
      ? "Deze toegangscode is onbekend of verlopen." : (problem.message_nl || "Aanmelden mislukt.");
    error.hidden = false;
    return;
  }
  S.token = token;
  localStorage.setItem(TOKEN_KEY, token);
  $("#login-token").value = "";
  enter();
});

$("#login-token").addEventListener("input", () => { $("#login-error").hidden = true; });

$("#logout").addEventListener("click", () => {
  if (!confirm("Afmelden op dit toestel? U heeft daarna uw toegangscode weer nodig.")) return;
  localStorage.removeItem(TOKEN_KEY);
  if (S.stream) S.stream.stop();
  S.stream = null;
  S.token = null;
  S.me = null;
  S.vocabulary = null;
  S.alerts = [];
  entered = false;
  fill($("#reports"));
  fill($("#alerts"));
  fill($("#operations"));
  showLogin();
});

let entered = false;

function enter() {
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  if (S.me) {
    $("#who").textContent = S.me.name;
    const groups = (S.me.groups || []).filter((g) => g.active !== false);
    const select = $("#r-group");
    const chosen = select.value;
    select.replaceChildren(...groups.map((g) => h("option", { value: g.id },
      g.wijk_name && !g.name.includes(g.wijk_name) ? `${g.name} (${g.wijk_name})` : g.name)));
    if (chosen) select.value = chosen;
  }
  if (entered) return;
  entered = true;
  restoreDraft();
  loadReports();
  loadAlerts();
  loadOperations();
  S.stream = new EventStream({
    token: S.token,
    onState: setConnection,
    onWelcome: (_welcome, { resumed }) => {
      if (resumed) {
        loadReports();
        loadAlerts();
        loadOperations();
      }
    },
    onEvent,
  }).start();
}

/** Fetched once per sign-in; a failed fetch is tried again by the next list that needs it. */
function vocabulary() {
  if (!S.vocabulary) {
    S.vocabulary = loadVocabulary(S.token).catch((error) => {
      S.vocabulary = null;
      throw error;
    });
  }
  return S.vocabulary;
}

function setConnection(state, detail) {
  const [text, kind] = state === "idle" ? ["niet aangemeld", "wait"] : connectionText(state, detail);
  const node = $("#conn");
  node.className = `conn ${kind}`;
  node.dataset.state = state;
  node.querySelector(".conn-text").textContent = text;
  if (state === "unauthorized") {
    localStorage.removeItem(TOKEN_KEY);
    showLogin("Deze toegangscode werkt niet (meer). Vraag de politie om een nieuwe.");
  }
}

function onEvent(event) {
  if (event.type === "alert") {
    loadAlertsSoon();
    loadOperationsSoon(); // an invitation, a message or the closing of an operation
    $("#alert-banner").hidden = false;
    if (navigator.vibrate) navigator.vibrate([300, 100, 300]);
  } else if (event.type === "feedback") {
    loadReportsSoon();
    const caseNumber = event.data && event.data.case_number;
    // One decision can bring several feedback events (follow-up, result, note): one toast per report.
    if (caseNumber && Date.now() - (S.toasted.get(caseNumber) || 0) > 10_000) {
      S.toasted.set(caseNumber, Date.now());
      toast(`Terugkoppeling op uw melding ${caseNumber}`, "ok", 4000);
    }
  }
}

// ---- online / offline ------------------------------------------------------------------------------

function updateOnline() {
  const online = navigator.onLine;
  if (online && formError && formError.offline) clearFormError();
  $("#offline").hidden = online;
  const submit = $("#r-submit");
  submit.disabled = !online;
  submit.textContent = online ? "Melding versturen" : "Geen verbinding – bewaard als concept";
}

window.addEventListener("online", () => {
  updateOnline();
  if (S.token && !S.me) boot();
});
window.addEventListener("offline", updateOnline);

function registerServiceWorker() {
  if ("serviceWorker" in navigator && location.protocol !== "file:") {
    navigator.serviceWorker.register("/beheerder-sw.js", { scope: "/beheerder" }).catch(() => {});
  }
}

// ---- tabs -----------------------------------------------------------------------------------------

const TABS = ["melden", "meldingen", "alarmen", "acties"];

function showTab(name, focus = false) {
  for (const tab of TABS) {
    const button = $(`#tab-${tab}`);
    const selected = tab === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`#panel-${tab}`).hidden = !selected;
    if (selected && focus) button.focus();
  }
  if (name === "alarmen") {
    $("#alert-banner").hidden = true;
    markAlertsSeen();
  }
  if (name === "meldingen") loadReports();
  if (name === "acties") loadOperations();
}

for (const tab of TABS) {
  $(`#tab-${tab}`).addEventListener("click", () => showTab(tab));
  $(`#tab-${tab}`).addEventListener("keydown", (event) => {
    const index = TABS.indexOf(tab);
    if (event.key === "ArrowRight") showTab(TABS[(index + 1) % TABS.length], true);
    else if (event.key === "ArrowLeft") showTab(TABS[(index + TABS.length - 1) % TABS.length], true);
    else return;
    event.preventDefault();
  });
}
$("#alert-banner-open").addEventListener("click", () => showTab("alarmen", true));

// ---- the report form ------------------------------------------------------------------------------

function restoreDraft() {
  try {
    const draft = JSON.parse(localStorage.getItem(DRAFT_KEY) || "{}");
    if (draft.text) $("#r-text").value = draft.text;
    if (draft.street) $("#r-street").value = draft.street;
    if (draft.number) $("#r-number").value = draft.number;
    if (draft.place) $("#r-place").value = draft.place;
    if (draft.called112) $("#r-112").checked = true;
  } catch {
    localStorage.removeItem(DRAFT_KEY);
  }
}

const saveDraft = throttle(() => {
  localStorage.setItem(DRAFT_KEY, JSON.stringify({
    text: $("#r-text").value, street: $("#r-street").value, number: $("#r-number").value,
    place: $("#r-place").value, called112: $("#r-112").checked,
  }));
}, 500);

$("#report-form").addEventListener("input", (event) => {
  saveDraft();
  S.idempotencyKey = null; // a changed report is a new report
  if (formError && corrected(event.target)) clearFormError();
});

// ---- errors in the form: shown next to the button, gone once corrected ----------------------------

const FIELDS = { text: "#r-text", "location.street": "#r-street", "location.house_number": "#r-number",
  "location.place": "#r-place", group_id: "#r-group" };
let formError = null; // {fields: [elements], offline}

function showFormError(message, fields = [], { offline = false } = {}) {
  clearFormError();
  const error = $("#r-error");
  error.textContent = message;
  error.hidden = false;
  for (const field of fields) {
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-errormessage", "r-error");
  }
  formError = { fields, offline };
}

function clearFormError() {
  $("#r-error").hidden = true;
  for (const field of (formError && formError.fields) || []) {
    field.removeAttribute("aria-invalid");
    field.removeAttribute("aria-errormessage");
  }
  formError = null;
}

/** Whether this change answers the error: a change to the field it named (and no longer empty, for the
 *  text), or any change when it named none. */
function corrected(target) {
  if (formError.offline) return false;
  if (formError.fields.length && !formError.fields.includes(target)) return false;
  return target !== $("#r-text") || target.value.trim() !== "";
}

/** The fields a problem names (RFC 9457 `errors`), as elements of this form. */
function fieldsOf(problem) {
  const errors = problem instanceof ApiError && Array.isArray(problem.body.errors) ? problem.body.errors : [];
  return errors.map((e) => FIELDS[String(e.field || "").replace(/^body\./, "")]).filter(Boolean).map((id) => $(id));
}

$("#r-geo").addEventListener("click", () => {
  const status = $("#r-geo-status");
  if (S.location) {
    S.location = null;
    status.textContent = "";
    $("#r-geo").textContent = "Gebruik mijn huidige locatie";
    return;
  }
  if (!("geolocation" in navigator)) {
    status.textContent = "Dit toestel kan de locatie niet bepalen. Vul een adres in.";
    return;
  }
  status.textContent = "Locatie bepalen…";
  navigator.geolocation.getCurrentPosition((position) => {
    const { latitude, longitude, accuracy } = position.coords;
    S.location = { lat: Number(latitude.toFixed(6)), lon: Number(longitude.toFixed(6)), accuracy };
    S.idempotencyKey = null;
    status.textContent = `Locatie: ${S.location.lat.toFixed(5)}, ${S.location.lon.toFixed(5)} ` +
      `(op ongeveer ${Math.round(accuracy)} m nauwkeurig)`;
    $("#r-geo").textContent = "Locatie niet meesturen";
  }, (error) => {
    status.textContent = error.code === error.PERMISSION_DENIED
      ? "U heeft geen toestemming gegeven voor uw locatie. Vul een adres in."
      : "Locatie bepalen lukte niet. Vul een adres in.";
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
});

for (const id of ["#r-camera", "#r-photos"]) {
  $(id).addEventListener("change", (event) => {
    const files = Array.from(event.target.files || []);
    const room = MAX_PHOTOS - S.photos.length;
    if (files.length > room) toast(`Maximaal ${MAX_PHOTOS} foto's per melding.`, "warn");
    for (const file of files.slice(0, Math.max(0, room))) {
      S.photos.push({ file, url: URL.createObjectURL(file) });
    }
    event.target.value = "";
    S.idempotencyKey = null;
    renderPreviews();
  });
}

function renderPreviews() {
  fill($("#r-previews"), S.photos.map((photo, index) => h("li", {},
    h("img", { src: photo.url, alt: `Foto ${index + 1}` }),
    h("button", { type: "button", "aria-label": `Foto ${index + 1} verwijderen`, onclick: () => {
      URL.revokeObjectURL(photo.url);
      S.photos.splice(index, 1);
      S.idempotencyKey = null;
      renderPreviews();
    } }, "×"))));
  const full = S.photos.length >= MAX_PHOTOS;
  for (const id of ["#r-camera", "#r-photos"]) $(id).disabled = full;
}

/** Scales a large photo down on the phone; anything the browser cannot decode goes as it is. */
async function shrink(file) {
  if (file.size < 1_500_000 || !("createImageBitmap" in window)) return file;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_EDGE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
    return blob && blob.size < file.size ? new File([blob], "foto.jpg", { type: "image/jpeg" }) : file;
  } catch {
    return file;
  }
}

function reportBody() {
  const body = { text: $("#r-text").value.trim() };
  const group = $("#r-group").value;
  if (group) body.group_id = Number(group);
  if ($("#r-112").checked) body.called_112 = true;
  const street = $("#r-street").value.trim();
  const number = $("#r-number").value.trim();
  const place = $("#r-place").value.trim();
  // The phone's location and a typed address both go along: the address says where it happened, the
  // location where the beheerder is; the meldkamer sees both.
  const location = {};
  if (S.location) Object.assign(location, { lat: S.location.lat, lon: S.location.lon });
  if (street || place) {
    if (street) location.street = street;
    if (number) location.house_number = number;
    if (place) location.place = place;
  }
  if (Object.keys(location).length) body.location = location;
  return body;
}

$("#report-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFormError();
  $("#r-done").hidden = true;
  const body = reportBody();
  if (!body.text) {
    showFormError("Beschrijf eerst wat er is gezien.", [$("#r-text")]);
    $("#r-text").focus();
    return;
  }
  if (!navigator.onLine) {
    showFormError("Geen verbinding. Uw melding is bewaard; verstuur hem zodra u weer verbinding heeft. Spoed? Bel 112.",
      [], { offline: true });
    return;
  }
  const button = $("#r-submit");
  button.disabled = true;
  button.textContent = "Versturen…";
  // The same key for retries of the same report: a report is never stored twice.
  S.idempotencyKey = S.idempotencyKey || (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
  try {
    let result;
    if (S.photos.length) {
      const form = new FormData();
      form.append("report", JSON.stringify(body));
      for (const photo of S.photos) {
        const file = await shrink(photo.file);
        form.append("photos", file, file.name || "foto.jpg");
      }
      result = await api("/api/v1/reports", { method: "POST", token: S.token, form,
        headers: { "Idempotency-Key": S.idempotencyKey } });
    } else {
      result = await api("/api/v1/reports", { method: "POST", token: S.token, json: body,
        headers: { "Idempotency-Key": S.idempotencyKey } });
    }
    reportSent(result);
  } catch (problem) {
    if (problem instanceof ApiError && problem.status === 401) {
      localStorage.removeItem(TOKEN_KEY);
      showLogin("Deze toegangscode werkt niet (meer). Uw melding is bewaard als concept.");
      return;
    }
    showFormError(problem instanceof ApiError ? problem.message_nl : "Versturen mislukt. Probeer het opnieuw.",
      fieldsOf(problem));
  } finally {
    updateOnline();
  }
});

function reportSent(report) {
  S.idempotencyKey = null;
  for (const photo of S.photos) URL.revokeObjectURL(photo.url);
  S.photos = [];
  S.location = null;
  renderPreviews();
  $("#report-form").reset();
  $("#r-geo-status").textContent = "";
  $("#r-geo").textContent = "Gebruik mijn huidige locatie";
  localStorage.removeItem(DRAFT_KEY);
  if (S.me) enter(); // restores the group choice
  fill($("#r-done"),
    h("strong", {}, `Verstuurd: ${report.case_number}`),
    h("p", { style: "margin:.3rem 0 0" }, "De meldkamer heeft uw melding ontvangen. U ziet de status en terugkoppeling onder ",
      h("a", { href: "#", onclick: (e) => { e.preventDefault(); showTab("meldingen", true); } }, "Mijn meldingen"), "."),
    report.advice && report.advice.length ? h("ul", {}, report.advice.map((a) => h("li", {}, a))) : null);
  $("#r-done").hidden = false;
  $("#r-done").scrollIntoView({ block: "nearest" });
  loadReports();
}

// ---- my reports -----------------------------------------------------------------------------------

let reportsRequest = 0;

async function loadReports() {
  if (!S.token) return;
  const request = ++reportsRequest;
  try {
    const [page, words] = await Promise.all([api("/api/v1/reports?limit=50", { token: S.token }), vocabulary()]);
    if (request !== reportsRequest) return;
    renderReports(page.items, words);
    $("#reports-error").hidden = true;
  } catch (error) {
    if (request !== reportsRequest) return;
    const node = $("#reports-error");
    node.textContent = error instanceof ApiError ? error.message_nl : "Laden mislukt.";
    node.hidden = false;
  } finally {
    if (request === reportsRequest) $("#reports-loading").hidden = true;
  }
}

const loadReportsSoon = throttle(loadReports, 1000);

function renderReports(items, words) {
  $("#reports-empty").hidden = items.length > 0;
  fill($("#reports"), items.map((report) => {
    const loc = report.location;
    const where = loc ? [loc.street && `${loc.street}${loc.house_number ? ` ${loc.house_number}` : ""}`, loc.place,
      loc.lat !== null && loc.lat !== undefined ? "locatie van telefoon" : null].filter(Boolean).join(", ") : "";
    const photos = report.photos.filter((p) => p.status === "stored" || p.status === "pending").length;
    return h("li", { class: "item report", dataset: { report: report.id, case: report.case_number } },
      h("header", {},
        h("span", { class: "case" }, report.case_number),
        h("span", { class: `status status-${report.status}` }, words.label("report_statuses", report.status))),
      h("div", { class: "time" }, `Verstuurd ${fmtDateTime(report.received_at)}`),
      h("p", { class: "text" }, report.text),
      h("div", { class: "meta" }, [where, photos ? `${photos} foto${photos === 1 ? "" : "'s"}` : null,
        report.called_112 ? "112 gebeld" : null].filter(Boolean).join(" · ")),
      report.advice && report.advice.length ? h("div", { class: "advice" },
        h("h3", {}, "Advies"), h("ul", {}, report.advice.map((a) => h("li", {}, a)))) : null,
      report.feedback && report.feedback.length ? h("div", { class: "feedback" },
        h("h3", {}, "Terugkoppeling van de politie"),
        h("ul", {}, report.feedback.map((f) => h("li", {}, h("time", { datetime: f.at }, fmtDateTime(f.at)), f.text))))
        : h("p", { class: "meta" }, "Nog geen terugkoppeling."));
  }));
}

$("#reports-refresh").addEventListener("click", loadReports);

// ---- alerts ---------------------------------------------------------------------------------------

let alertsRequest = 0;

async function loadAlerts() {
  if (!S.token) return;
  const request = ++alertsRequest;
  try {
    const [page, words] = await Promise.all([api("/api/v1/alerts?limit=50", { token: S.token }), vocabulary()]);
    if (request !== alertsRequest) return;
    S.alerts = page.items;
    renderAlerts(words);
    $("#alerts-error").hidden = true;
  } catch (error) {
    if (request !== alertsRequest) return;
    const node = $("#alerts-error");
    node.textContent = error instanceof ApiError ? error.message_nl : "Laden mislukt.";
    node.hidden = false;
  } finally {
    if (request === alertsRequest) $("#alerts-loading").hidden = true;
  }
}

const loadAlertsSoon = throttle(loadAlerts, 500);

function renderAlerts(words) {
  const alerts = S.alerts;
  $("#alerts-empty").hidden = alerts.length > 0;
  fill($("#alerts"), alerts.map((alert) => h("li", {
    class: `item alert${alert.forwarded_at ? " forwarded" : ""}`, dataset: { delivery: alert.delivery_id },
  },
  h("header", {},
    h("span", { class: "kind" }, words.label("message_kinds", alert.kind)),
    h("span", { class: "time" }, fmtDateTime(alert.sent_at || alert.created_at))),
  h("p", { class: "message" }, alert.message),
  h("div", { class: "actions" },
    navigator.share || navigator.clipboard ? h("div", { class: "row" },
      navigator.share ? h("button", { type: "button", class: "secondary", onclick: () => share(alert) }, "Delen…") : null,
      navigator.clipboard ? h("button", { type: "button", class: "secondary", onclick: () => copy(alert) }, "Tekst kopiëren") : null)
      : null,
    alert.forwarded_at
      ? h("p", { class: "forwarded-note" }, `✓ Doorgestuurd om ${fmtTime(alert.forwarded_at)}`)
      : h("button", { type: "button", class: "primary forward", onclick: () => forwarded(alert) },
        "Doorgestuurd naar mijn groep(en)")))));
  const unforwarded = alerts.filter((a) => !a.forwarded_at && !S.seenAlerts.has(a.delivery_id)).length;
  const badge = $("#alert-count");
  badge.textContent = String(unforwarded);
  badge.hidden = unforwarded === 0;
  if (!$("#panel-alarmen").hidden) markAlertsSeen();
}

function markAlertsSeen() {
  for (const alert of S.alerts) S.seenAlerts.add(alert.delivery_id);
  localStorage.setItem("meldkamer.beheerder.seen", JSON.stringify([...S.seenAlerts].slice(-200)));
  $("#alert-count").hidden = true;
}

async function share(alert) {
  try {
    await navigator.share({ text: alert.message });
  } catch {
    // cancelled
  }
}

async function copy(alert) {
  try {
    await navigator.clipboard.writeText(alert.message);
    toast("Tekst gekopieerd. Plak hem in uw buurtgroep(en).", "ok", 4000);
  } catch {
    toast("Kopiëren lukte niet; selecteer de tekst zelf.", "warn");
  }
}

async function forwarded(alert) {
  try {
    const updated = await api(`/api/v1/alerts/${alert.delivery_id}/forwarded`, { method: "POST", token: S.token });
    S.alerts = S.alerts.map((a) => (a.delivery_id === updated.delivery_id ? updated : a));
    renderAlerts(await vocabulary());
    toast("Bedankt! Gemarkeerd als doorgestuurd.", "ok", 4000);
  } catch (error) {
    toast(error instanceof ApiError ? error.message_nl : "Dat lukte niet.", "error");
  }
}

$("#alerts-refresh").addEventListener("click", loadAlerts);

// ---- operations: invitations to take part, join and leave ------------------------------------------

let operationsRequest = 0;

async function loadOperations() {
  if (!S.token) return;
  const request = ++operationsRequest;
  try {
    const [items, words] = await Promise.all([api("/api/v1/operations/invitations", { token: S.token }), vocabulary()]);
    if (request !== operationsRequest) return;
    renderOperations(items, words);
    $("#operations-error").hidden = true;
  } catch (error) {
    if (request !== operationsRequest) return;
    const node = $("#operations-error");
    node.textContent = error instanceof ApiError ? error.message_nl : "Laden mislukt.";
    node.hidden = false;
  } finally {
    if (request === operationsRequest) $("#operations-loading").hidden = true;
  }
}

const loadOperationsSoon = throttle(loadOperations, 1000);

/** What the beheerder's answer means now, in a sentence. */
function participationText(item) {
  if (item.operation_status === "gesloten") {
    return item.status === "joined" || item.status === "left"
      ? "Deze actie is afgesloten. Bedankt voor uw hulp; u krijgt er geen berichten meer over."
      : "Deze actie is afgesloten; meedoen kan niet meer.";
  }
  return { joined: "U doet mee: u krijgt de berichten van deze actie tot het einde.",
    declined: "U doet niet mee. U kunt zich alsnog aanmelden.",
    left: "U heeft zich afgemeld en krijgt geen berichten meer van deze actie.",
    no_answer: "Doet u mee? U krijgt dan de berichten van deze actie tot het einde." }[item.status] || "";
}

function operationButtons(item) {
  if (item.operation_status === "gesloten") return null;
  const join = h("button", { type: "button", class: "primary", onclick: () => answer(item, "join") },
    item.status === "left" || item.status === "declined" ? "Toch meedoen" : "Ik doe mee");
  const leave = h("button", { type: "button", class: "secondary", onclick: () => answer(item, "leave") },
    item.status === "joined" ? "Afmelden" : "Ik doe niet mee");
  if (item.status === "joined") return h("div", { class: "row" }, leave);
  if (item.status === "no_answer") return h("div", { class: "row" }, join, leave);
  return h("div", { class: "row" }, join);
}

function renderOperations(items, words) {
  $("#operations-empty").hidden = items.length > 0;
  fill($("#operations"), items.map((item) => h("li", {
    class: `item operation op-${item.operation_status}`, dataset: { operation: item.operation_id, status: item.status },
  },
  h("header", {},
    h("span", { class: "kind" }, words.label("operation_kinds", item.kind)),
    h("span", { class: `status op-status-${item.operation_status}` }, words.label("operation_statuses", item.operation_status))),
  h("h3", { class: "op-name" }, item.name),
  h("div", { class: "time" }, `${fmtDateTime(item.starts_at)} tot ${fmtDateTime(item.ends_at)}`),
  h("p", { class: "text" }, item.briefing),
  h("p", { class: "participation", role: "status" }, participationText(item)),
  h("div", { class: "actions" }, operationButtons(item)))));
  const open = items.filter((item) => item.status === "no_answer" && item.operation_status !== "gesloten").length;
  const badge = $("#operation-count");
  badge.textContent = String(open);
  badge.hidden = open === 0;
}

async function answer(item, choice) {
  try {
    const updated = await api(`/api/v1/operations/${item.operation_id}/${choice}`, { method: "POST", token: S.token });
    toast(updated.status === "joined" ? `U doet mee aan ${updated.name}.` : `U doet niet mee aan ${updated.name}.`, "ok", 4000);
  } catch (error) {
    toast(error instanceof ApiError ? error.message_nl : "Dat lukte niet.", "error", 8000);
  }
  loadOperations();
}

$("#operations-refresh").addEventListener("click", loadOperations);

boot();
