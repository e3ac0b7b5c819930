// The queue: filters and search, rows from the snapshot and from live events, selection (j/k), wijk names.
// New unhandled P1s stay on top, newest first, until opened; the rest is most urgent, then oldest, first.

import { $, $$, api, ApiError, fmtAge, fmtDateTime, fmtTotal, h, throttle, toast } from "../common.js";
import { noticeEvent, rememberAll, settle } from "./attention.js";
import { loadDetail, reloadDetailSoon, renderDetail, showIncident } from "./detail.js";
import { handleError } from "./login.js";
import { incidentWhat, isUnrecognised, label, options, S, snapshotPending, wijkName, wijkOptions } from "./state.js";

const SEARCH_AFTER_MS = 250; // typing pauses this long before the server is asked
const MATCH_LABELS = { melding: "melding", zaaknummer: "zaaknummer", terugkoppeling: "terugkoppeling bij",
  reden: "reden van de urgentie" };

/** The filters in the server's words: the statuses offered (in ops.html) get their labels, the urgencies are listed. */
export function renderFilters() {
  for (const option of $("#f-status").options) {
    if (option.value) option.textContent = label("incident_statuses", option.value);
  }
  $("#f-urgency").replaceChildren(h("option", { value: "" }, "Alle"),
    ...options("urgencies").map((urgency) => h("option", { value: urgency.code }, urgency.label)));
  $("#f-urgency").value = S.filters.urgency;
}

export async function loadWijken() {
  try {
    // Names only: the outlines of every wijk are the map's business, not the pickers'.
    const wijken = await api("/api/v1/map/wijken");
    S.wijken = wijken.map((w) => ({ code: w.wijkcode, name: w.name, gemeente: w.gemeente }));
    for (const wijk of S.wijken) S.wijkNames.set(wijk.code, wijk.name);
    const select = $("#f-wijk");
    select.replaceChildren(h("option", { value: "" }, "Alle wijken"), ...wijkOptions());
    select.value = S.filters.wijk;
    renderQueue();
    renderDetail();
  } catch (error) {
    handleError(error, "Wijken laden");
  }
}

/** The queue for the current filters: the live feed's snapshot. */
export function fetchQueue() {
  const params = new URLSearchParams({ status: S.filters.status, limit: "200" });
  if (S.filters.urgency) params.set("urgency", S.filters.urgency);
  if (S.filters.wijk) params.set("wijk", S.filters.wijk);
  if (S.filters.operation) params.set("operation", S.filters.operation);
  return api(`/api/v1/queue?${params}`);
}

/** The snapshot has arrived (with the events held back while it loaded): show it and its selection. */
export function showQueue(page, held) {
  S.rows.clear();
  for (const item of page.items) S.rows.set(item.id, rowFromItem(item));
  S.listed = { shown: page.items.length, total: page.total, capped: Boolean(page.total_capped) };
  rememberAll(S.rows.values());
  $("#queue-error").hidden = true;
  $("#queue-loading").hidden = true;
  for (const event of held) applyIncidentEvent(event);
  renderQueue();
  if (S.selected === null) {
    if (S.visible.length) select(S.visible[0]);
  } else {
    loadDetail(S.selected);
  }
}

/** Says why the queue did not load; returns whether the feed should try again (not after a 401). */
export function queueProblem(error) {
  $("#queue-loading").hidden = true;
  if (error instanceof ApiError && error.status === 401) {
    handleError(error);
    return false;
  }
  showQueueError(error instanceof ApiError ? error.message_nl : "De wachtrij kon niet worden geladen.");
  return true;
}

export function showQueueError(message) {
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
    unrecognised: item.reports.some(isUnrecognised),
    has_photo: item.reports.some((r) => r.photo_ids.length > 0),
    case_numbers: item.reports.map((r) => r.case_number),
  };
}

/** A search result's incident (no reports: the case numbers are those already known). */
function rowFromBrief(brief, before) {
  return { ...brief, case_numbers: before ? before.case_numbers : [] };
}

function rowFromEvent(data, before) {
  return {
    id: data.incident_id, status: data.status, urgency: data.urgency, category: data.category, offence: data.offence,
    wijkcode: data.wijkcode, lat: data.lat, lon: data.lon, first_report_at: data.first_report_at,
    last_report_at: data.last_report_at, report_count: data.report_count, group_count: data.group_count,
    text: data.text, claimed_by: data.claimed_by, follow_up: data.follow_up, result: data.result,
    appearance_only: data.appearance_only, has_photo: Boolean(data.photo),
    unrecognised: data.unrecognised ?? (before ? before.unrecognised : false),
    case_numbers: before ? before.case_numbers : [],
  };
}

function matchesFilters(row) {
  const f = S.filters;
  return (!f.status || row.status === f.status) && (!f.urgency || row.urgency === f.urgency) &&
    (!f.wijk || row.wijkcode === f.wijk) && (!f.operation || S.rows.has(row.id));
}

/** An incident event cannot tell whether a report in it belongs to an operation: with the "Actie" filter on,
 *  an incident not shown yet makes the server say which incidents belong (a new snapshot). */
const reloadForOperation = throttle(() => { if (S.feed) S.feed.reload(); }, 1000);

function matchesSearch(row) {
  const query = S.filters.search.trim().toLowerCase();
  if (!query) return true;
  const haystack = [row.text, wijkName(row.wijkcode), row.wijkcode, label("offences", row.offence, ""),
    label("categories", row.category, ""), `#${row.id}`, ...(row.case_numbers || []), row.claimed_by || ""]
    .join(" ").toLowerCase();
  return query.split(/\s+/).every((word) => haystack.includes(word));
}

export function applyIncidentEvent(event) {
  const data = event.data || {};
  const id = data.incident_id;
  if (event.type === "incident.merged") {
    S.rows.delete(id);
    S.known.delete(id);
    settle(id);
    if (S.selected === id) {
      toast(`Incident #${id} is samengevoegd met #${data.into}.`, "info");
      select(data.into);
    }
    return;
  }
  const row = rowFromEvent(data, S.rows.get(id));
  noticeEvent(event.type, row);
  if (S.filters.operation && !S.rows.has(id)) {
    reloadForOperation();
    return;
  }
  if (matchesFilters(row)) S.rows.set(id, row);
  else S.rows.delete(id);
  if (S.selected === id) reloadDetailSoon();
}

/** The rows the search shows: those matching here (labels, wijk names) and those the server found. */
function searchedRows() {
  const hits = S.search && S.search.query === S.filters.search.trim() ? S.search.hits : new Map();
  const rows = [...S.rows.values()].filter((row) => hits.has(row.id) || matchesSearch(row));
  for (const [id, hit] of hits) {
    if (!S.rows.has(id) && !S.filters.operation) rows.push(rowFromBrief(hit.incident)); // search knows no operations
  }
  return rows;
}

function sortedRows() {
  const rank = (urgency) => S.vocabulary.urgencyRank(urgency);
  const newFirst = (row) => (S.attention.has(row.id) ? 0 : 1);
  return searchedRows().sort((a, b) => (newFirst(a) - newFirst(b)) ||
    (newFirst(a) === 0 ? Date.parse(b.first_report_at) - Date.parse(a.first_report_at) : 0) ||
    (rank(a.urgency) - rank(b.urgency)) ||
    (Date.parse(a.first_report_at) - Date.parse(b.first_report_at)) || (a.id - b.id));
}

export function renderQueue() {
  const rows = sortedRows();
  S.visible = rows.map((r) => r.id);
  const list = $("#queue");
  list.replaceChildren(...rows.map(queueRow));
  const selectedVisible = S.visible.includes(S.selected);
  if (selectedVisible) list.setAttribute("aria-activedescendant", `inc-${S.selected}`);
  else list.removeAttribute("aria-activedescendant");
  $("#queue-empty").hidden = rows.length > 0 || snapshotPending();
  const hiddenBySearch = Math.max(0, [...S.rows.keys()].filter((id) => !S.visible.includes(id)).length);
  $("#queue-count").textContent = snapshotPending() ? "" :
    `${rows.length} ${rows.length === 1 ? "incident" : "incidenten"}` +
    (hiddenBySearch ? ` (${hiddenBySearch} verborgen door zoekterm)` : "") + moreOnServer();
}

/** The history holds more than one snapshot: say how much more ("de eerste 200 van 10.000+"). */
function moreOnServer() {
  const listed = S.listed;
  if (!listed || (listed.total <= listed.shown && !listed.capped)) return "";
  return ` · de eerste ${fmtTotal(listed.shown)} van ${fmtTotal(listed.total, listed.capped)}; zoek om er meer te vinden`;
}

function matchLines(id) {
  const hit = S.search && S.search.hits.get(id);
  if (!hit || !hit.matches.length) return null;
  return h("span", { class: "matches" }, hit.matches.slice(0, 2).map((match) => h("span", { class: "match",
    dataset: { report: match.report_id ?? "", source: match.source } },
  h("b", {}, `Gevonden in ${MATCH_LABELS[match.source] || match.source}${match.case_number ? ` ${match.case_number}` : ""}: `),
  match.snippet)));
}

function queueRow(row) {
  const mine = row.claimed_by && S.me && row.claimed_by === S.me.display;
  const fresh = S.attention.has(row.id);
  return h("li", {
    id: `inc-${row.id}`, role: "option", class: `row u-${row.urgency}${fresh ? " attention" : ""}`,
    "aria-selected": String(row.id === S.selected),
    dataset: { incident: row.id, incidentId: row.id, urgency: row.urgency }, onclick: () => select(row.id),
  },
  h("span", { class: `badge badge-${row.urgency}` }, row.urgency === "none" ? "–" : label("urgencies", row.urgency),
    fresh ? h("span", { class: "new-tag" }, " nieuw") : null),
  h("span", { class: "what" }, `${incidentWhat(row)} · ${wijkName(row.wijkcode)}`),
  h("span", { class: "age", dataset: { since: row.first_report_at }, title: `Eerste melding ${fmtDateTime(row.first_report_at)}` },
    fmtAge(row.first_report_at)),
  h("span", { class: "line2" }, row.text || ""),
  matchLines(row.id),
  h("span", { class: "line3" },
    h("span", {}, `#${row.id}`),
    h("span", {}, `${row.report_count} ${row.report_count === 1 ? "melding" : "meldingen"} · ${row.group_count} ${row.group_count === 1 ? "groep" : "groepen"}`),
    row.status !== "open" ? h("span", { class: "tag closed" }, label("incident_statuses", row.status)) : null,
    row.has_photo ? h("span", { class: "tag photo" }, "foto") : null,
    row.appearance_only ? h("span", { class: "tag appearance" }, "alleen uiterlijk") : null,
    row.unrecognised ? h("span", { class: "tag unrecognised", title: "De triage herkende de tekst niet: beoordeel zelf" },
      "niet herkend") : null,
    row.follow_up ? h("span", { class: "tag" }, label("follow_ups", row.follow_up)) : null,
    row.claimed_by ? h("span", { class: `tag ${mine ? "mine" : "claimed"}`, dataset: { claim: row.claimed_by } },
      mine ? "door u geclaimd" : `geclaimd door ${row.claimed_by}`) : null));
}

export function select(id, { focus = false } = {}) {
  S.selected = id;
  if (S.attention.has(id)) {
    settle(id);
    renderQueue();
  }
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

export function move(step) {
  if (!S.visible.length) return;
  const index = S.visible.indexOf(S.selected);
  const next = index < 0 ? 0 : Math.max(0, Math.min(S.visible.length - 1, index + step));
  select(S.visible[next]);
}

/** Puts a changed incident (from an action's response) into the list and the detail. */
export function took(incident) {
  const row = rowFromItem(incident);
  S.known.set(row.id, row.urgency);
  if (matchesFilters(row)) S.rows.set(row.id, row);
  else S.rows.delete(row.id);
  renderQueue();
  if (S.selected === incident.id) showIncident(incident);
  else renderDetail();
}

/** The "Actie" filter: the operations not closed, and the ten closed most recently. */
export async function loadOperationFilter() {
  if (!S.vocabulary.allows("read_operations", S.me.role)) return;
  try {
    const page = await api("/api/v1/operations?limit=100");
    const running = page.items.filter((o) => o.status !== "gesloten");
    const closed = page.items.filter((o) => o.status === "gesloten").slice(0, 10);
    const option = (o) => h("option", { value: o.id },
      `${o.name} (${label("operation_statuses", o.status).toLowerCase()})`);
    $("#f-operation").replaceChildren(h("option", { value: "" }, "Alle meldingen"), ...running.map(option),
      ...closed.map(option));
    $("#f-operation").value = S.filters.operation;
    $("#f-operation-label").hidden = false;
  } catch (error) {
    handleError(error, "Acties laden");
  }
}

for (const [id, key] of [["#f-status", "status"], ["#f-urgency", "urgency"], ["#f-wijk", "wijk"],
  ["#f-operation", "operation"]]) {
  $(id).addEventListener("change", (event) => {
    S.filters[key] = event.target.value;
    if (S.feed) S.feed.reload();
    if (S.search) searchServer();
  });
}
/** Asks the server for the incidents whose reports, feedback or reasons contain every word. */
export async function searchServer() {
  const query = S.filters.search.trim();
  if (query.length < 2) {
    S.search = null;
    renderQueue();
    return;
  }
  const params = new URLSearchParams({ q: query, status: S.filters.status, limit: "100" });
  if (S.filters.urgency) params.set("urgency", S.filters.urgency);
  if (S.filters.wijk) params.set("wijk", S.filters.wijk);
  try {
    const page = await api(`/api/v1/incidents/search?${params}`);
    if (S.filters.search.trim() !== query) return; // typed on meanwhile
    S.search = { query, hits: new Map(page.items.map((hit) => [hit.incident.id, hit])) };
    renderQueue();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) handleError(error);
  }
}

const searchSoon = throttle(searchServer, SEARCH_AFTER_MS);
/** Live changes may change what matches: searched again, at most every few seconds. */
export const refreshSearch = throttle(() => { if (S.search) searchServer(); }, 3000);

$("#f-search").addEventListener("input", (event) => {
  S.filters.search = event.target.value;
  renderQueue();
  searchSoon();
});
