// The videowall: open P1/P2 incidents of the wall's region, live. Kiosk: no clicks needed.
// Authenticates with a read-only wall token from the URL fragment (#token=...), kept in localStorage.

import {
  $, ageSeconds, api, ApiError, connectionText, fill, fmtAge, fmtClock, fmtDay, fmtTime, h, LiveFeed, loadVocabulary,
  svg, takeFragmentToken, throttle,
} from "./common.js";
import { drawMaps, regionGroups, wijkCentres } from "./map.js";
import { DENSITIES, pagesOf, visibleCount, wallOrder } from "./wall-layout.js";

const TOKEN_KEY = "meldkamer.wall.token";
const FLASH_MS = 40_000; // a new P1 flashes this long
const NEW_TAG_MS = 5 * 60_000; // and keeps its "NIEUW" tag this long
const BROADCAST_WINDOW_MS = 30 * 60_000;
const STALE_P1_S = 5 * 60; // a P1 without follow-up after this long gets a red timer
const PAGE_MS = 12_000; // when not everything fits, each page shows this long
const LOST_AFTER_MS = 3_000; // a connection gone this long dims the wall (a blip of a reconnect does not)
const MAX_ROW_SCALE = 1.6; // compact rows grow into the room left, up to this
const SILENCE_SLACK_S = 5; // no message (not even a ping) for a ping interval plus this: the stream is dead

const state = {
  token: null,
  incidents: new Map(), // id -> incident (event shape)
  newSince: new Map(), // id -> ms when it became a P1 on this wall
  broadcasts: new Map(), // id -> {id, kind, wijkcodes, recipients, progress, createdAt, updatedAt}
  operations: new Map(), // id -> {operation_id, name, kind, ends_at}: running in this region (the banner)
  wijkNames: new Map(),
  mapGroups: [],
  centres: new Map(),
  vocabulary: null, // labels from GET /api/v1/meta
  feed: null,
  cards: new Map(), // id -> card element
  order: [], // the incidents in wall order, as last drawn
  page: 0,
  pageCount: 1,
  pageShownAt: 0,
  shown: new Set(), // ids of the incidents on the current page
  lostAt: null, // ms: since when the wall has not heard from the server (null: connected)
};

const label = (list, code, empty) => state.vocabulary.label(list, code, empty);
const snapshotPending = () => !state.feed || state.feed.pending;

// ---- start ----------------------------------------------------------------------------------------

function start() {
  const fromLink = takeFragmentToken();
  if (fromLink) localStorage.setItem(TOKEN_KEY, fromLink);
  state.token = localStorage.getItem(TOKEN_KEY);
  tick();
  setInterval(tick, 1000);
  if (!state.token) {
    showOverlay("Geen walltoken",
      "Open deze pagina met het token van deze videowall in de link: /wall#token=… (het token blijft daarna bewaard op dit scherm).");
    setConnection("unauthorized");
    return;
  }
  loadWho().catch(() => {}); // a refused token is shown by withRetry's overlay
  loadMap().catch(() => {});
  goLive().catch(() => {});
  setInterval(refreshStats, 60_000);
  setInterval(() => { if (state.mapGroups.length) renderMap(); }, 60_000); // hot times change
  window.addEventListener("resize", throttle(render, 200));
}

async function withRetry(task, what, onProblem = () => {}) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await task();
    } catch (error) {
      if (!retryable(error, what)) throw error;
      onProblem(error);
      await new Promise((resolve) => setTimeout(resolve, Math.min(15000, 1000 * 2 ** attempt)));
    }
  }
}

/** A refused token is final (and shown); anything else is worth another try. */
function retryable(error, what) {
  if (error instanceof ApiError && error.status === 401) {
    showOverlay("Walltoken ongeldig", "Dit token is verlopen of ingetrokken. Vraag de beheerder om een nieuw walltoken.");
    return false;
  }
  console.warn(`${what} mislukt, opnieuw`, error);
  return true;
}

async function loadWho() {
  const me = await withRetry(() => api("/api/v1/auth/me", { token: state.token }), "wie-ben-ik");
  $("#wall-title").textContent = me.name || "Videowall meldkamer";
  document.title = `${me.name || "Videowall"} – Meldkamer`;
}

async function loadMap() {
  const collection = await withRetry(() => api("/api/v1/map", { token: state.token }), "kaart");
  for (const feature of collection.features) {
    if (feature.properties.kind === "wijk") state.wijkNames.set(feature.properties.wijkcode, feature.properties.name);
  }
  state.mapGroups = regionGroups(collection);
  state.centres = wijkCentres(collection);
  render();
}

// ---- the event stream -----------------------------------------------------------------------------

/** Labels first (without them a card would show raw codes), then the snapshot and the live events. */
async function goLive() {
  state.vocabulary = await withRetry(() => loadVocabulary(state.token), "woordenlijst", showProblem);
  $("#cards-problem").hidden = true;
  state.feed = new LiveFeed({
    token: state.token,
    maxBackoffMs: 8000,
    onState: setConnection,
    onWelcome,
    holds: (event) => event.type.startsWith("incident."),
    loadSnapshot: () => api("/api/v1/wall/cards?limit=200", { token: state.token }),
    onSnapshot: showSnapshot,
    onSnapshotError: (error) => retryable(error, "wachtrij"),
    onEvent,
  }).start();
}

function showProblem(error) {
  const node = $("#cards-problem");
  node.textContent = `${error.message_nl} Opnieuw proberen…`;
  node.hidden = false;
}

function onWelcome(welcome, { resumed, reset }) {
  if (!resumed || reset) loadRecentBroadcasts(welcome.last_event_id);
  refreshStats();
  loadOperations();
}

/** The operations running in this region now; their opened/closed events keep the banner current after. */
async function loadOperations() {
  try {
    const running = await api("/api/v1/operations/running", { token: state.token });
    state.operations = new Map(running.map((o) => [o.operation_id, o]));
    renderBanner();
  } catch (error) {
    console.warn("acties laden mislukt", error);
  }
}

function renderBanner() {
  const node = $("#operation-banner");
  const running = [...state.operations.values()];
  const wasHidden = node.hidden;
  fill(node, running.map((o, index) => [index ? " · " : null, h("span", { class: "op", dataset: { operation: o.operation_id } },
    h("b", {}, `Actie: ${o.name}`), ` (${label("operation_kinds", o.kind).toLowerCase()}, tot ${fmtTime(o.ends_at)})`)]));
  node.hidden = running.length === 0;
  if (wasHidden !== node.hidden) render(); // the cards have less (or more) room
}

/** The open P1/P2 incidents as they are now (cards shaped like the events' data), with the events that
 *  arrived meanwhile on top, in order. */
function showSnapshot(page, held) {
  state.incidents.clear();
  for (const card of page.items) state.incidents.set(card.incident_id, card);
  for (const event of held) apply(event);
  $("#cards-loading").hidden = true;
  render();
}

/** Broadcasts are not listed for walls; the recent broadcast events rebuild the "alarmen" panel. */
async function loadRecentBroadcasts(newest) {
  try {
    const page = await api(`/api/v1/events?after=${Math.max(0, newest - 500)}&limit=500`, { token: state.token });
    for (const event of page.events) if (event.type.startsWith("broadcast.")) applyBroadcast(event);
    renderBroadcasts();
  } catch (error) {
    console.warn("alarmen laden mislukt", error);
  }
}

function onEvent(event) {
  if (apply(event)) render();
  if (event.type.startsWith("incident.") || event.type === "report.created") refreshStatsSoon();
}

/** Applies one event to the state; returns whether the cards or the map changed. */
function apply(event) {
  const data = event.data || {};
  switch (event.type) {
    case "incident.created":
    case "incident.updated": {
      const id = data.incident_id;
      const before = state.incidents.get(id);
      const visible = data.status === "open" && (data.urgency === "P1" || data.urgency === "P2");
      if (!visible) {
        state.newSince.delete(id);
        return state.incidents.delete(id);
      }
      if (data.urgency === "P1" && (!before || before.urgency !== "P1")) state.newSince.set(id, Date.now());
      state.incidents.set(id, data);
      return true;
    }
    case "incident.merged":
      state.newSince.delete(data.incident_id);
      return state.incidents.delete(data.incident_id);
    case "broadcast.created":
    case "broadcast.progress":
      applyBroadcast(event);
      renderBroadcasts();
      return false;
    case "operation.opened":
      state.operations.set(data.operation_id, data);
      renderBanner();
      return false;
    case "operation.closed":
      state.operations.delete(data.operation_id);
      renderBanner();
      return false;
    default:
      return false;
  }
}

function applyBroadcast(event) {
  const data = event.data || {};
  const at = Date.parse(event.at) || Date.now();
  const current = state.broadcasts.get(data.broadcast_id) || {
    id: data.broadcast_id, kind: data.kind, wijkcodes: [], recipients: 0, progress: null, createdAt: at,
  };
  if (event.type === "broadcast.created") {
    Object.assign(current, { kind: data.kind, wijkcodes: data.wijkcodes || [], recipients: data.recipients, createdAt: at });
  } else {
    current.progress = data;
    current.recipients = data.recipients ?? current.recipients;
  }
  current.updatedAt = at;
  state.broadcasts.set(current.id, current);
}

const refreshStatsSoon = throttle(refreshStats, 1500);

async function refreshStats() {
  if (!state.token) return;
  try {
    const stats = await api("/api/v1/stats/overview", { token: state.token });
    setCounter("#c-p1", stats.open_p1);
    setCounter("#c-p2", stats.open_p2);
    setCounter("#c-p3", stats.open_p3);
    setCounter("#c-today", stats.reports_today);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) setConnection("unauthorized");
  }
}

function setCounter(selector, value) {
  const node = $(selector);
  node.textContent = String(value);
  node.parentElement.classList.toggle("nonzero", value > 0);
}

// ---- rendering ------------------------------------------------------------------------------------

function render() {
  renderCards();
  renderMap();
}

/** Every open P1/P2 as a card, as roomy as the screen allows; what still does not fit is paged (P1s stay). */
function renderCards() {
  const container = $("#cards");
  state.order = wallOrder(state.incidents.values(), state.newSince);
  const seen = new Set();
  state.order.forEach((incident, index) => {
    const id = incident.incident_id;
    seen.add(id);
    let card = state.cards.get(id);
    if (!card) {
      card = h("article", { class: "card", dataset: { incidentId: id } });
      state.cards.set(id, card);
    }
    fillCard(card, incident, index + 1);
    if (container.children[index] !== card) container.insertBefore(card, container.children[index] || null);
  });
  for (const [id, card] of state.cards) {
    if (!seen.has(id)) {
      card.remove();
      state.cards.delete(id);
    }
  }
  $("#cards-empty").hidden = state.order.length > 0 || snapshotPending();
  fitCards(container);
}

function fillCard(card, incident, number) {
  const since = state.newSince.get(incident.incident_id);
  const now = Date.now();
  const flashing = since !== undefined && now - since < FLASH_MS;
  const isNew = since !== undefined && now - since < NEW_TAG_MS;
  card.className = `card u-${incident.urgency}${flashing ? " flash" : ""}`;
  card.dataset.urgency = incident.urgency;
  const what = incidentWhat(incident);
  const wijk = incident.wijkcode ? (state.wijkNames.get(incident.wijkcode) || incident.wijkcode) : "Wijk onbekend";
  card.setAttribute("aria-label", `Incident ${number}, ${incident.urgency}, ${what}, ${wijk}`);
  const lead = incident.lead_reason ? incident.lead_reason.text : null;
  fill(card,
    h("div", { class: "row1" },
      h("span", { class: "num", "aria-hidden": "true" }, String(number)),
      h("span", { class: `badge badge-${incident.urgency}` }, incident.urgency),
      isNew ? h("span", { class: "new-tag" }, "NIEUW") : null,
      h("span", { class: "what" }, what, lead ? h("span", { class: "r-lead" }, ` · ${lead}`) : null),
      ageNode(incident)),
    lead ? h("p", { class: "lead" }, warningIcon(), lead) : null,
    h("div", { class: "wijk" }, wijk, h("span", { class: "since" }, ` · eerste melding ${fmtTime(incident.first_report_at)}`)),
    h("p", { class: "text" }, incident.text || ""),
    h("div", { class: "bottom" },
      h("div", { class: "meta" },
        h("span", { class: "counts" }, reportCount(incident), h("span", { class: "groups" }, ` uit ${groupCount(incident)}`)),
        incident.photo ? h("span", { class: "photo" }, cameraIcon(), "foto beschikbaar") : null),
      h("div", { class: "status" },
        h("span", { class: `follow${incident.follow_up ? "" : " none"}` }, followText(incident)),
        incident.claimed_by ? h("span", { class: "claim" }, `In behandeling: ${incident.claimed_by}`) : null)),
    // the compact row's second line: the same facts, shorter
    h("div", { class: "row2" },
      h("span", { class: "r-where" }, wijk),
      h("span", { class: "r-count" }, reportCount(incident)),
      h("span", { class: `r-state${incident.follow_up || incident.claimed_by ? "" : " none"}` }, rowState(incident))),
  );
}

function ageNode(incident) {
  const stale = incident.urgency === "P1" && !incident.follow_up && ageSeconds(incident.first_report_at) > STALE_P1_S;
  return h("span", { class: `age${stale ? " stale" : ""}`, dataset: { since: incident.first_report_at },
    title: "Tijd sinds de eerste melding" }, fmtAge(incident.first_report_at));
}

const reportCount = (incident) => (incident.report_count === 1 ? "1 melding" : `${incident.report_count} meldingen`);
const groupCount = (incident) => (incident.group_count === 1 ? "1 groep" : `${incident.group_count} groepen`);

function followText(incident) {
  if (!incident.follow_up) return "Nog geen opvolging";
  return label("follow_ups", incident.follow_up) + (incident.result ? ` · ${label("results", incident.result)}` : "");
}

function rowState(incident) {
  if (incident.follow_up) return label("follow_ups", incident.follow_up);
  return incident.claimed_by ? "In behandeling" : "Geen opvolging";
}

function incidentWhat(incident) {
  return incident.offence ? label("offences", incident.offence) : label("categories", incident.category, "Incident");
}

function cameraIcon() {
  return svg("svg", { viewBox: "0 0 24 24", "aria-hidden": "true" },
    svg("path", { fill: "currentColor",
      d: "M9 3 7.2 5H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15 3H9zm3 5a5 5 0 1 1 0 10 5 5 0 0 1 0-10zm0 2a3 3 0 1 0 0 6 3 3 0 0 0 0-6z" }));
}

function warningIcon() {
  return svg("svg", { viewBox: "0 0 24 24", "aria-hidden": "true" },
    svg("path", { fill: "currentColor", d: "M12 2 1 21h22L12 2zm0 6 .9 7h-1.8L12 8zm-1 9h2v2h-2v-2z" }));
}

/** No scrolling: the roomiest density in which every card fits; when even compact rows do not, pages. */
function fitCards(container) {
  const pager = $("#cards-pager");
  const cards = [...container.children];
  cards.forEach((card) => card.classList.remove("cut"));
  pager.hidden = true;
  container.style.setProperty("--row-scale", "1");
  const fits = () => !cards.length || cards[cards.length - 1].getBoundingClientRect().bottom <=
    container.getBoundingClientRect().bottom + 1;
  for (const density of DENSITIES) {
    container.dataset.density = density;
    if (fits()) {
      if (density === "rows") growRows(container, cards, fits);
      showPage([state.order], 0);
      return;
    }
  }
  pager.hidden = false; // it takes room too: measure with it shown
  pager.textContent = "pagina 1/1";
  const pages = pagesOf(state.order, visibleCount(container));
  if (state.page >= pages.length) state.page = 0;
  showPage(pages, state.page);
}

/** Rows that fit with room to spare grow (in steps of 5%) until they would not. */
function growRows(container, cards, fits) {
  const box = container.getBoundingClientRect();
  const used = cards[cards.length - 1].getBoundingClientRect().bottom - box.top;
  for (let scale = Math.min(MAX_ROW_SCALE, Math.floor((20 * box.height) / used) / 20); scale > 1; scale -= 0.05) {
    container.style.setProperty("--row-scale", scale.toFixed(2));
    if (fits()) return;
  }
  container.style.setProperty("--row-scale", "1");
}

function showPage(pages, page) {
  if (state.pageCount !== pages.length || state.page !== page) state.pageShownAt = Date.now();
  state.pageCount = pages.length;
  state.page = page;
  state.shown = new Set(pages[page].map((incident) => incident.incident_id));
  for (const [id, card] of state.cards) card.classList.toggle("cut", !state.shown.has(id));
  const pinned = pages.length > 1 && pages.every((items) => items.some((incident) => incident.urgency === "P1"));
  $("#legend-off").hidden = pages.length < 2;
  $("#cards-pager").textContent = `pagina ${page + 1}/${pages.length}` +
    (pinned ? " · alle P1's staan op elke pagina" : "");
}

/** Pages on by itself while not everything fits. */
function turnPage(now) {
  if (state.pageCount < 2 || now - state.pageShownAt < PAGE_MS) return;
  state.page = (state.page + 1) % state.pageCount;
  state.pageShownAt = now;
  render();
}

function renderMap() {
  if (!state.mapGroups.length) return;
  const highlight = new Map();
  const markers = [];
  state.order.forEach((incident, index) => {
    if (incident.wijkcode && !highlight.has(incident.wijkcode)) highlight.set(incident.wijkcode, incident.urgency);
    let lon = incident.lon;
    let lat = incident.lat;
    let approx = false;
    if ((lon === null || lon === undefined) && state.centres.has(incident.wijkcode)) {
      [lon, lat] = state.centres.get(incident.wijkcode);
      approx = true;
    }
    const since = state.newSince.get(incident.incident_id);
    const offscreen = !state.shown.has(incident.incident_id);
    markers.push({
      id: incident.incident_id, label: index + 1, urgency: incident.urgency, lon, lat, approx, offscreen,
      pulse: since !== undefined && Date.now() - since < FLASH_MS,
      title: `${index + 1}: ${incident.urgency} ${incidentWhat(incident)}${offscreen ? " (niet op deze pagina)" : ""}`,
    });
  });
  drawMaps($("#maps"), state.mapGroups, { markers, highlight });
}

function renderBroadcasts() {
  const list = $("#broadcasts");
  const now = Date.now();
  const recent = [...state.broadcasts.values()]
    .filter((b) => now - b.updatedAt < BROADCAST_WINDOW_MS || (b.progress && !b.progress.done))
    .sort((a, b) => b.createdAt - a.createdAt);
  list.replaceChildren(...recent.slice(0, 4).map((b) => {
    const p = b.progress;
    const n = (p && p.recipients) || b.recipients || 0;
    const delivered = p ? p.delivered : 0;
    const forwarded = p ? p.forwarded : 0;
    const wijken = (b.wijkcodes || []).map((code) => state.wijkNames.get(code) || code).join(", ");
    const pct = (x) => (n ? `${Math.round((100 * x) / n)}%` : "0%");
    return h("li", { class: "bc", dataset: { broadcast: b.id } },
      h("div", { class: "bc-head" },
        h("span", {}, h("span", { class: "bc-kind" }, label("message_kinds", b.kind)), wijken ? ` · ${wijken}` : ""),
        h("span", {}, fmtTime(new Date(b.createdAt)))),
      h("div", { class: "bc-progress" }, `afgeleverd ${delivered} / doorgestuurd ${forwarded} van ${n}`),
      h("div", { class: "bar", role: "presentation" },
        h("span", { class: "delivered", style: `width:${pct(delivered)}` }),
        h("span", { class: "forwarded", style: `width:${pct(forwarded)}` })));
  }));
  $("#bc-empty").hidden = recent.length > 0;
  const active = recent.length;
  const counter = $("#c-bc");
  counter.textContent = String(active);
  counter.parentElement.classList.toggle("nonzero", active > 0);
}

// ---- every second: clock, timers, pages, end of flashing, a lost connection -----------------------

function tick() {
  const now = new Date();
  $("#clock").textContent = fmtClock(now);
  $("#date").textContent = fmtDay(now);
  const lost = watchConnection(now.getTime());
  if (!lost) {
    for (const node of document.querySelectorAll(".card .age[data-since]")) {
      node.textContent = fmtAge(node.dataset.since, now.getTime());
    }
  }
  let changed = false;
  for (const [id, since] of state.newSince) {
    const age = now.getTime() - since;
    if ((age >= FLASH_MS && age < FLASH_MS + 1000) || (age >= NEW_TAG_MS && age < NEW_TAG_MS + 1000)) changed = true;
    if (age > NEW_TAG_MS + 2000) state.newSince.delete(id);
  }
  if (changed) render();
  turnPage(now.getTime());
  if (state.feed && state.feed.stream.state === "reconnecting") setConnection("reconnecting", state.lastDetail);
  if (now.getSeconds() === 0) renderBroadcasts();
}

/** Whether the wall has been without the stream for a few seconds; if so it dims and says since when, and
 *  the timers stand still, so that a frozen wall never looks live. A stream that is open but silent for
 *  longer than its pings allow counts as lost since its last message. */
function watchConnection(now) {
  const stream = state.feed && state.feed.stream;
  if (stream && stream.state === "open") {
    const silentSince = stream.lastMessageAt;
    state.lostAt = now - silentSince > (stream.pingInterval + SILENCE_SLACK_S) * 1000 ? silentSince : null;
  }
  const lost = state.lostAt !== null && now - state.lostAt >= LOST_AFTER_MS && Boolean(state.token);
  document.body.classList.toggle("disconnected", lost);
  $("#lost").hidden = !lost;
  if (lost) $("#lost-since").textContent = `Geen verbinding sinds ${fmtClock(new Date(state.lostAt))}`;
  return lost;
}

function setConnection(connection, detail = {}) {
  state.lastDetail = detail;
  if (connection === "open") state.lostAt = null;
  else if (state.lostAt === null) state.lostAt = Date.now();
  const [text, kind] = connectionText(connection, detail);
  const node = $("#conn");
  node.className = `conn ${kind}`;
  node.dataset.state = connection;
  node.querySelector(".conn-text").textContent = text;
  if (connection === "unauthorized" && state.token) {
    showOverlay("Walltoken ongeldig", "De server weigert het token van deze videowall. Vraag de beheerder om een nieuw walltoken.");
  }
}

function showOverlay(title, text) {
  $("#overlay-title").textContent = title;
  $("#overlay-text").textContent = text;
  $("#overlay").hidden = false;
}

start();
