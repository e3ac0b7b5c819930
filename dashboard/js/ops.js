// The operators' console: log in, the queue with filters, claim, the engine's suggestion with its
// reasons, overrides, follow-up, result, feedback for the reporter, close, photos (audited), merge and
// split, and alerts to beheerders with a preview and explicit confirmation of privacy warnings.
// Keyboard first (see the help overlay, "?"); claims of colleagues arrive live over /ws/events.

import {
  $, $$, api, ApiError, fill, BROADCAST_KIND, CATEGORY, CHANNEL, connectionText, EventStream, FOLLOW_UP, fmtAge,
  fmtDateTime, fmtTime, h, INCIDENT_STATUS, label, OFFENCE, REPORT_STATUS, RESULT, throttle, toast, URGENCY,
  URGENCY_RANK,
} from "./common.js";

const TOKEN_KEY = "meldkamer.ops.token";
const NAME_KEY = "meldkamer.ops.display_name"; // claims name the display name, /auth/me the username
const DECIDERS = ["operator", "specialist"];
const SENDERS = ["operator", "specialist", "wijkagent"];
const QUEUE_READERS = ["operator", "specialist", "wijkagent", "analyst"];

const S = {
  token: null,
  me: null,
  rows: new Map(),
  visible: [],
  selected: null,
  detail: null,
  drafts: new Map(), // incident id -> {field: value} typed but not saved
  filters: { status: "open", urgency: "", wijk: "", search: "" },
  wijken: [],
  wijkNames: new Map(),
  broadcasts: new Map(),
  stream: null,
  snapshotPending: true,
  buffer: [],
  preview: null,
};

const canDecide = () => S.me && DECIDERS.includes(S.me.role);
const canSend = () => S.me && SENDERS.includes(S.me.role);
const wijkName = (code) => (code ? S.wijkNames.get(code) || code : "wijk onbekend");

// ---- login ----------------------------------------------------------------------------------------

async function boot() {
  S.token = sessionStorage.getItem(TOKEN_KEY);
  if (S.token) {
    try {
      S.me = await api("/api/v1/auth/me");
      S.me.display = sessionStorage.getItem(NAME_KEY) || S.me.name;
      enter();
      return;
    } catch (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      if (error instanceof ApiError && error.status === 0) {
        showLogin("Geen verbinding met de server. Probeer het zo opnieuw.");
        return;
      }
    }
  }
  showLogin();
}

function showLogin(message = "") {
  if (S.stream) S.stream.stop();
  S.stream = null;
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  const error = $("#login-error");
  error.hidden = !message;
  error.textContent = message;
  $("#login-username").focus();
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = $("#login-username").value.trim();
  const password = $("#login-password").value;
  const error = $("#login-error");
  if (!username || !password) {
    error.textContent = "Vul uw gebruikersnaam en wachtwoord in.";
    error.hidden = false;
    return;
  }
  const button = $("#login-submit");
  button.disabled = true;
  button.textContent = "Aanmelden…";
  try {
    const result = await api("/api/v1/auth/login", { method: "POST", json: { username, password } });
    S.token = result.access_token;
    sessionStorage.setItem(TOKEN_KEY, S.token);
    sessionStorage.setItem(NAME_KEY, result.display_name);
    S.me = await api("/api/v1/auth/me");
    S.me.display = result.display_name;
    $("#login-password").value = "";
    enter();
  } catch (problem) {
    error.textContent = problem instanceof ApiError ? problem.message_nl : "Aanmelden mislukt.";
    error.hidden = false;
  } finally {
    button.disabled = false;
    button.textContent = "Aanmelden";
  }
});

$("#logout").addEventListener("click", async () => {
  try {
    await api("/api/v1/auth/logout", { method: "POST" });
  } catch {
    // the session may already be gone; we forget it anyway
  }
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(NAME_KEY);
  S.token = null;
  S.me = null;
  S.rows.clear();
  S.selected = null;
  S.detail = null;
  showLogin("U bent afgemeld.");
});

function enter() {
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  $("#who").textContent = `${S.me.display} (${roleName(S.me.role)})`;
  if (!QUEUE_READERS.includes(S.me.role)) {
    $("#queue-loading").hidden = true;
    showQueueError("Uw rol heeft geen toegang tot de wachtrij.");
    return;
  }
  loadWijken();
  loadBroadcasts();
  S.snapshotPending = true;
  S.stream = new EventStream({
    token: S.token,
    onState: setConnection,
    onWelcome: () => {
      loadQueue();
      refreshStats();
    },
    onEvent,
    onResync: () => loadQueue(),
  }).start();
  $("#queue").focus();
}

function roleName(role) {
  return { operator: "centralist", specialist: "operationeel specialist", wijkagent: "wijkagent", analyst: "analist",
    admin: "beheer" }[role] || role;
}

/** A 401 anywhere means the session is gone: back to the login form. */
function handleError(error, what = "Actie") {
  if (error instanceof ApiError && error.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("Uw sessie is verlopen. Meld u opnieuw aan.");
    return;
  }
  const text = error instanceof ApiError ? error.message_nl : String(error);
  toast(`${what} mislukt: ${text}`, "error", 9000);
}

// ---- data -----------------------------------------------------------------------------------------

async function loadWijken() {
  try {
    const collection = await api("/api/v1/map");
    S.wijken = collection.features.filter((f) => f.properties.kind === "wijk").map((f) => ({
      code: f.properties.wijkcode, name: f.properties.name, gemeente: f.properties.gemeente,
    })).sort((a, b) => a.gemeente.localeCompare(b.gemeente) || a.name.localeCompare(b.name));
    for (const wijk of S.wijken) S.wijkNames.set(wijk.code, wijk.name);
    const select = $("#f-wijk");
    select.replaceChildren(h("option", { value: "" }, "Alle wijken"),
      ...S.wijken.map((w) => h("option", { value: w.code }, `${w.name} (${w.gemeente})`)));
    select.value = S.filters.wijk;
    renderQueue();
    renderDetail();
  } catch (error) {
    handleError(error, "Wijken laden");
  }
}

let queueRequest = 0;

async function loadQueue() {
  const request = ++queueRequest;
  S.snapshotPending = true;
  const params = new URLSearchParams({ status: S.filters.status, limit: "200" });
  if (S.filters.urgency) params.set("urgency", S.filters.urgency);
  if (S.filters.wijk) params.set("wijk", S.filters.wijk);
  try {
    const page = await api(`/api/v1/queue?${params}`);
    if (request !== queueRequest) return;
    S.rows.clear();
    for (const item of page.items) S.rows.set(item.id, rowFromItem(item));
    S.total = page.total;
    $("#queue-error").hidden = true;
  } catch (error) {
    if (request !== queueRequest) return;
    if (error instanceof ApiError && error.status === 401) return handleError(error);
    showQueueError(error instanceof ApiError ? error.message_nl : "De wachtrij kon niet worden geladen.");
    setTimeout(() => { if (request === queueRequest) loadQueue(); }, 3000);
    return;
  } finally {
    if (request === queueRequest) $("#queue-loading").hidden = true;
  }
  S.snapshotPending = false;
  for (const event of S.buffer.splice(0)) applyIncidentEvent(event);
  renderQueue();
  if (S.selected === null) {
    if (S.visible.length) select(S.visible[0]);
  } else {
    loadDetail(S.selected);
  }
}

function showQueueError(message) {
  const node = $("#queue-error");
  node.textContent = message;
  node.hidden = false;
}

function rowFromItem(item) {
  return {
    id: item.id, status: item.status, urgency: item.urgency, category: item.category, offence: item.offence,
    wijkcode: item.wijkcode, lat: item.lat, lon: item.lon, first_report_at: item.first_report_at,
    last_report_at: item.last_report_at, report_count: item.report_count, group_count: item.group_count,
    text: item.reports[0] ? item.reports[0].text : "", claimed_by: item.claimed_by, follow_up: item.follow_up,
    result: item.result, appearance_only: item.appearance_only,
    has_photo: item.reports.some((r) => r.photo_ids.length > 0),
    case_numbers: item.reports.map((r) => r.case_number),
  };
}

function rowFromEvent(data, before) {
  return {
    id: data.incident_id, status: data.status, urgency: data.urgency, category: data.category, offence: data.offence,
    wijkcode: data.wijkcode, lat: data.lat, lon: data.lon, first_report_at: data.first_report_at,
    last_report_at: data.last_report_at, report_count: data.report_count, group_count: data.group_count,
    text: data.text, claimed_by: data.claimed_by, follow_up: data.follow_up, result: data.result,
    appearance_only: data.appearance_only, has_photo: Boolean(data.photo),
    case_numbers: before ? before.case_numbers : [],
  };
}

function matchesFilters(row) {
  const f = S.filters;
  return (!f.status || row.status === f.status) && (!f.urgency || row.urgency === f.urgency) &&
    (!f.wijk || row.wijkcode === f.wijk);
}

function matchesSearch(row) {
  const query = S.filters.search.trim().toLowerCase();
  if (!query) return true;
  const haystack = [row.text, wijkName(row.wijkcode), row.wijkcode, label(OFFENCE, row.offence, ""),
    label(CATEGORY, row.category, ""), `#${row.id}`, ...(row.case_numbers || []), row.claimed_by || ""]
    .join(" ").toLowerCase();
  return query.split(/\s+/).every((word) => haystack.includes(word));
}

// ---- events ---------------------------------------------------------------------------------------

function onEvent(event) {
  if (event.type.startsWith("incident.")) {
    if (S.snapshotPending) {
      S.buffer.push(event);
      return;
    }
    applyIncidentEvent(event);
    renderQueue();
    refreshStatsSoon();
  } else if (event.type.startsWith("broadcast.")) {
    applyBroadcastEvent(event);
    renderBroadcasts();
  } else if (event.type.startsWith("report.")) {
    refreshStatsSoon();
    if (event.type === "report.photo_added" && S.detail &&
      S.detail.reports.some((r) => r.id === event.data.report_id)) reloadDetailSoon();
  }
}

function applyIncidentEvent(event) {
  const data = event.data || {};
  const id = data.incident_id;
  if (event.type === "incident.merged") {
    S.rows.delete(id);
    if (S.selected === id) {
      toast(`Incident #${id} is samengevoegd met #${data.into}.`, "info");
      select(data.into);
    }
    return;
  }
  const row = rowFromEvent(data, S.rows.get(id));
  if (matchesFilters(row)) S.rows.set(id, row);
  else S.rows.delete(id);
  if (S.selected === id) reloadDetailSoon();
}

const reloadDetailSoon = throttle(() => { if (S.selected !== null) loadDetail(S.selected); }, 300);

const refreshStatsSoon = throttle(refreshStats, 1500);

async function refreshStats() {
  try {
    const stats = await api("/api/v1/stats/overview");
    $("#s-p1").textContent = stats.open_p1;
    $("#s-p2").textContent = stats.open_p2;
    $("#s-p3").textContent = stats.open_p3;
    $("#s-today").textContent = stats.reports_today;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) handleError(error);
  }
}

function setConnection(state, detail) {
  const [text, kind] = connectionText(state, detail);
  const node = $("#conn");
  node.className = `conn ${kind}`;
  node.dataset.state = state;
  node.querySelector(".conn-text").textContent = text;
  if (state === "unauthorized") {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("Uw sessie is verlopen. Meld u opnieuw aan.");
  }
}

// ---- the queue ------------------------------------------------------------------------------------

function sortedRows() {
  return [...S.rows.values()].filter(matchesSearch).sort((a, b) =>
    (URGENCY_RANK[a.urgency] - URGENCY_RANK[b.urgency]) ||
    (Date.parse(a.first_report_at) - Date.parse(b.first_report_at)) || (a.id - b.id));
}

function renderQueue() {
  const rows = sortedRows();
  S.visible = rows.map((r) => r.id);
  const list = $("#queue");
  list.replaceChildren(...rows.map(queueRow));
  const selectedVisible = S.visible.includes(S.selected);
  if (selectedVisible) list.setAttribute("aria-activedescendant", `inc-${S.selected}`);
  else list.removeAttribute("aria-activedescendant");
  $("#queue-empty").hidden = rows.length > 0 || S.snapshotPending;
  const hiddenBySearch = S.rows.size - rows.length;
  $("#queue-count").textContent = S.snapshotPending ? "" :
    `${rows.length} ${rows.length === 1 ? "incident" : "incidenten"}` +
    (hiddenBySearch ? ` (${hiddenBySearch} verborgen door zoekterm)` : "");
}

function queueRow(row) {
  const mine = row.claimed_by && S.me && row.claimed_by === S.me.display;
  const what = row.offence ? label(OFFENCE, row.offence) : label(CATEGORY, row.category, "Incident");
  return h("li", {
    id: `inc-${row.id}`, role: "option", class: `row u-${row.urgency}`, "aria-selected": String(row.id === S.selected),
    dataset: { incident: row.id, urgency: row.urgency }, onclick: () => select(row.id),
  },
  h("span", { class: `badge badge-${row.urgency}` }, row.urgency === "none" ? "–" : row.urgency),
  h("span", { class: "what" }, `${what} · ${wijkName(row.wijkcode)}`),
  h("span", { class: "age", dataset: { since: row.first_report_at }, title: `Eerste melding ${fmtDateTime(row.first_report_at)}` },
    fmtAge(row.first_report_at)),
  h("span", { class: "line2" }, row.text || ""),
  h("span", { class: "line3" },
    h("span", {}, `#${row.id}`),
    h("span", {}, `${row.report_count} ${row.report_count === 1 ? "melding" : "meldingen"} · ${row.group_count} ${row.group_count === 1 ? "groep" : "groepen"}`),
    row.status !== "open" ? h("span", { class: "tag closed" }, label(INCIDENT_STATUS, row.status)) : null,
    row.has_photo ? h("span", { class: "tag photo" }, "foto") : null,
    row.appearance_only ? h("span", { class: "tag appearance" }, "alleen uiterlijk") : null,
    row.follow_up ? h("span", { class: "tag" }, label(FOLLOW_UP, row.follow_up)) : null,
    row.claimed_by ? h("span", { class: `tag ${mine ? "mine" : "claimed"}`, dataset: { claim: row.claimed_by } },
      mine ? "door u geclaimd" : `geclaimd door ${row.claimed_by}`) : null));
}

function select(id, { focus = false } = {}) {
  S.selected = id;
  for (const node of $$("#queue .row")) node.setAttribute("aria-selected", String(Number(node.dataset.incident) === id));
  const current = document.getElementById(`inc-${id}`);
  if (current) {
    $("#queue").setAttribute("aria-activedescendant", current.id);
    current.scrollIntoView({ block: "nearest" });
  }
  if (!S.detail || S.detail.id !== id) {
    S.detail = null;
    renderDetail();
  }
  loadDetail(id);
  if (focus) $("#detail").focus();
}

function move(step) {
  if (!S.visible.length) return;
  const index = S.visible.indexOf(S.selected);
  const next = index < 0 ? 0 : Math.max(0, Math.min(S.visible.length - 1, index + step));
  select(S.visible[next]);
}

let detailRequest = 0;

async function loadDetail(id) {
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

/** Puts a changed incident (from an action's response) into the list and the detail. */
function took(incident) {
  const row = rowFromItem(incident);
  if (matchesFilters(row)) S.rows.set(row.id, row);
  else S.rows.delete(row.id);
  if (S.selected === incident.id) S.detail = incident;
  renderQueue();
  renderDetail();
}

// ---- the detail -----------------------------------------------------------------------------------

function draft(id) {
  if (!S.drafts.has(id)) S.drafts.set(id, {});
  return S.drafts.get(id);
}

function renderDetail() {
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
  const what = incident.offence ? label(OFFENCE, incident.offence) : label(CATEGORY, incident.category, "Incident");
  const photos = incident.reports.flatMap((r) => r.photo_ids.map((pid) => ({ report: r, photo_id: pid })));

  fill(container,
    h("div", { class: "d-head" },
      h("span", { class: `badge badge-${incident.urgency}`, id: "d-urgency" }, label(URGENCY, incident.urgency)),
      h("h2", { id: "d-title" }, `#${incident.id} ${what} · ${wijkName(incident.wijkcode)}`),
      incident.status !== "open" ? h("span", { class: "tag closed" }, label(INCIDENT_STATUS, incident.status)) : null),
    h("p", { class: "d-sub" },
      `Eerste melding ${fmtDateTime(incident.first_report_at)} (${fmtAge(incident.first_report_at)} geleden), ` +
      `laatste ${fmtTime(incident.last_report_at)} · ${incident.report_count} ` +
      `${incident.report_count === 1 ? "melding" : "meldingen"} uit ${incident.group_count} ` +
      `${incident.group_count === 1 ? "groep" : "groepen"}` +
      (incident.category ? ` · ${label(CATEGORY, incident.category)}` : "")),
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
  const urgencyButtons = ["P1", "P2", "P3", "none"].map((u, i) => h("button", {
    type: "button", class: `u-${u}`, "aria-pressed": String(incident.urgency === u), disabled: locked,
    "aria-keyshortcuts": u === "none" ? "0" : String(i + 1), dataset: { urgency: u },
    onclick: () => setUrgency(u),
  }, u === "none" ? "Geen (0)" : `${u} (${i + 1})`));
  const field = (name, value) => (d[name] !== undefined ? d[name] : value ?? "");
  const categorySelect = h("select", { id: "a-category", disabled: locked },
    h("option", { value: "" }, "–"), Object.entries(CATEGORY).map(([v, t]) => h("option", { value: v }, t)));
  categorySelect.value = field("category", incident.category);
  const offenceSelect = h("select", { id: "a-offence", disabled: locked },
    h("option", { value: "" }, "geen delict"), Object.entries(OFFENCE).map(([v, t]) => h("option", { value: v }, t)));
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
    h("option", { value: "" }, "nog niet gekozen"), Object.entries(FOLLOW_UP).map(([v, t]) => h("option", { value: v }, t)));
  followSelect.value = field("follow_up", incident.follow_up);
  const resultSelect = h("select", { id: "f-result", disabled: locked, "aria-keyshortcuts": "r" },
    h("option", { value: "" }, "nog niet bekend"), Object.entries(RESULT).map(([v, t]) => h("option", { value: v }, t)));
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
      h("span", { class: "tag" }, label(REPORT_STATUS, report.status))),
    h("p", { class: "text" }, report.text),
    h("div", { class: "suggestion", "aria-label": "Voorstel van de triage" },
      h("div", { class: "labels" },
        h("span", {}, "Voorstel:"),
        h("span", { class: `badge badge-${report.urgency || "none"}` }, label(URGENCY, report.urgency || "none")),
        s ? h("span", { class: "tag" }, label(CATEGORY, s.category)) : null,
        s && s.offence ? h("span", { class: "tag" }, label(OFFENCE, s.offence)) : null,
        s && s.in_progress ? h("span", { class: "tag" }, "nu bezig") : null,
        report.appearance_only ? h("span", { class: "tag appearance" }, "alleen uiterlijk, geen gedrag") : null),
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

// ---- actions --------------------------------------------------------------------------------------

async function chooseGroup(report, groupId) {
  if (!groupId) return;
  try {
    await api(`/api/v1/reports/${report.id}`, { method: "PATCH", json: { group_id: groupId } });
    toast(`Melding ${report.case_number}: groep gekozen.`, "ok", 3000);
  } catch (error) {
    handleError(error, "Groep kiezen");
  }
  loadDetail(S.detail.id);
}

async function toggleClaim() {
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

async function setUrgency(urgency) {
  const incident = S.detail;
  if (!incident || !canDecide() || incident.status !== "open" || incident.urgency === urgency) return;
  const body = { urgency };
  if (incident.urgency === "P1" && URGENCY_RANK[urgency] > URGENCY_RANK.P1) {
    const reason = await askReason(urgency);
    if (reason === null) return;
    body.reason = reason;
  }
  if (await patch(body, "Urgentie wijzigen")) toast(`#${incident.id} is nu ${label(URGENCY, urgency)}.`, "ok", 3000);
}

function askReason(urgency) {
  const dialog = $("#reason-dialog");
  $("#reason-target").textContent = label(URGENCY, urgency);
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

async function saveAssessment() {
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

async function saveFollowUp() {
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

async function closeIncident() {
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

async function mergeInto(value) {
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

async function splitSelected() {
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

function openPhotos() {
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

// ---- alerts to beheerders -------------------------------------------------------------------------

function defaultKind(incident) {
  if (!incident) return "waarschuwing";
  if (incident.category === "vermissing") return "vermissing";
  if (incident.category === "signalement") return "signalement";
  if (incident.urgency === "P1") return "heterdaad";
  return "waarschuwing";
}

function openCompose() {
  if (!canSend()) return;
  const incident = S.detail;
  const kind = $("#bc-kind");
  kind.replaceChildren(...Object.entries(BROADCAST_KIND).map(([v, t]) => h("option", { value: v }, t)));
  kind.value = defaultKind(incident);
  $("#bc-text").value = "";
  const wijken = $("#bc-wijken");
  const home = incident && S.wijken.find((w) => w.code === incident.wijkcode);
  const ordered = home ? [...S.wijken.filter((w) => w.gemeente === home.gemeente),
    ...S.wijken.filter((w) => w.gemeente !== home.gemeente)] : S.wijken;
  wijken.replaceChildren(...ordered.map((w) => h("label", {},
    h("input", { type: "checkbox", name: "bc-wijk", value: w.code, checked: incident && w.code === incident.wijkcode }),
    `${w.name} (${w.gemeente})`)));
  const hasPoint = incident && incident.lat !== null && incident.lat !== undefined;
  $("#bc-area-circle").disabled = !hasPoint;
  $$('input[name="bc-area"]').forEach((r) => { r.checked = r.value === "wijken"; });
  $("#bc-link").checked = Boolean(incident);
  $("#bc-link").disabled = !incident;
  S.preview = null;
  $("#bc-preview").replaceChildren(h("p", { class: "muted" },
    "Vraag eerst een voorbeeld op: u ziet dan de ontvangers per kanaal en eventuele privacywaarschuwingen."));
  $("#bc-error").hidden = true;
  updateComposeState();
  $("#bc-dialog").showModal();
  $("#bc-text").focus();
}

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

function updateComposeState() {
  const area = $('input[name="bc-area"]:checked').value;
  $("#bc-wijken").hidden = area !== "wijken";
  $("#bc-radius-label").hidden = area !== "circle";
  $("#bc-count").textContent = `(${$("#bc-text").value.length}/1000)`;
  const current = JSON.stringify(composeBody());
  const fresh = S.preview && S.preview.key === current;
  const confirmed = $$(".privacy input[type=checkbox]").every((box) => box.checked);
  $("#bc-send").disabled = !(fresh && confirmed && S.preview.allowed);
  if (S.preview && !fresh) {
    const stale = $("#bc-stale");
    if (!stale) $("#bc-preview").prepend(h("p", { id: "bc-stale", class: "warn" }, "De tekst of het gebied is gewijzigd: vraag opnieuw een voorbeeld op."));
  }
}

$("#bc-form").addEventListener("input", updateComposeState);
$("#bc-form").addEventListener("change", updateComposeState);
$("#bc-cancel").addEventListener("click", () => $("#bc-dialog").close());

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
      h("tbody", {}, channels.map(([channel, count]) => h("tr", {}, h("td", {}, label(CHANNEL, channel)), h("td", {}, String(count))))))
      : h("p", { class: "error" }, "Er zijn geen actieve beheerders in dit gebied."),
    preview.recipient_list.length ? h("details", {},
      h("summary", {}, "Ontvangers tonen"),
      h("ul", {}, preview.recipient_list.map((r) => h("li", {}, `${r.name} (${label(CHANNEL, r.channel)})`))),
      preview.recipient_list_truncated ? h("p", { class: "muted" }, "Lijst ingekort.") : null) : null,
    preview.needs_specialist ? h("p", { class: "warn" }, "Dit alarm gaat naar meer dan één gemeente en vraagt de rol operationeel specialist." +
      (allowed ? "" : " U kunt het niet zelf versturen.")) : null,
    preview.warnings.length ? h("div", { id: "bc-warnings" },
      h("h3", {}, "Privacywaarschuwingen"),
      preview.warnings.map((w) => h("div", { class: "privacy", dataset: { code: w.code } },
        h("p", { style: "margin:0" }, w.message),
        w.matches.length ? h("p", { style: "margin:.2rem 0 0" }, "Gevonden: ", h("b", {}, w.matches.join(", "))) : null,
        h("label", {}, h("input", { type: "checkbox", class: "confirm-warning", value: w.code }),
          "Ik heb dit gecontroleerd en verstuur het bewust zo.")))) :
      h("p", { class: "muted", id: "bc-no-warnings" }, "Geen privacywaarschuwingen."),
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

async function loadBroadcasts() {
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

function applyBroadcastEvent(event) {
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

function renderBroadcasts() {
  const items = [...S.broadcasts.values()].sort((a, b) => b.id - a.id).slice(0, 8);
  $("#broadcasts").replaceChildren(...items.map((b) => {
    const p = b.progress || { recipients: b.recipients || 0, delivered: 0, forwarded: 0, failed: 0, done: false };
    const n = p.recipients || 0;
    const pct = (x) => (n ? `${Math.round((100 * x) / n)}%` : "0%");
    return h("li", { dataset: { broadcast: b.id } },
      h("b", {}, label(BROADCAST_KIND, b.kind)), ` · ${(b.wijkcodes || []).map(wijkName).join(", ")} · ${fmtTime(b.created_at)} — `,
      h("span", { class: "bc-progress" }, `afgeleverd ${p.delivered} / doorgestuurd ${p.forwarded} van ${n}` +
        (p.failed ? ` · ${p.failed} mislukt` : "")),
      h("div", { class: "bar", role: "presentation" },
        h("span", { class: "delivered", style: `width:${pct(p.delivered)}` }),
        h("span", { class: "forwarded", style: `width:${pct(p.forwarded)}` })));
  }));
  $("#bc-empty").hidden = items.length > 0;
}

// ---- filters and keyboard -------------------------------------------------------------------------

for (const [id, key] of [["#f-status", "status"], ["#f-urgency", "urgency"], ["#f-wijk", "wijk"]]) {
  $(id).addEventListener("change", (event) => {
    S.filters[key] = event.target.value;
    loadQueue();
  });
}
$("#f-search").addEventListener("input", (event) => {
  S.filters.search = event.target.value;
  renderQueue();
});
$("#help-button").addEventListener("click", () => $("#help").showModal());

function typing(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if ($("#app-view").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  if (document.querySelector("dialog[open]")) return; // dialogs handle their own keys (Esc closes)
  if (typing(event.target)) {
    if (event.key === "Escape") {
      event.target.blur();
      $("#queue").focus();
    }
    return;
  }
  const focusField = (selector) => {
    const node = $(selector);
    if (node && !node.disabled) {
      node.focus();
      node.scrollIntoView({ block: "nearest" });
    }
  };
  const actions = {
    j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
    c: toggleClaim, 1: () => setUrgency("P1"), 2: () => setUrgency("P2"), 3: () => setUrgency("P3"),
    0: () => setUrgency("none"), o: () => focusField("#f-follow-up"), r: () => focusField("#f-result"),
    n: () => focusField("#f-note"), f: openPhotos, b: openCompose, x: closeIncident,
    "/": () => focusField("#f-search"), "?": () => $("#help").showModal(),
    Escape: () => $("#queue").focus(), Enter: () => { if (S.selected !== null) $("#detail").focus(); },
  };
  const action = actions[event.key];
  if (!action) return;
  if ((event.key === "ArrowDown" || event.key === "ArrowUp") && document.activeElement !== $("#queue")) return;
  event.preventDefault();
  action();
});

// every second: the ages in the list
setInterval(() => {
  const now = Date.now();
  for (const node of $$("#queue .age[data-since]")) node.textContent = fmtAge(node.dataset.since, now);
}, 1000);

boot();
