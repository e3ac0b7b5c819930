// The evaluation page (/stats): the figures of GET /api/v1/stats for a period and an area, every chart with
// its table beside it, and the same figures to download as CSV or JSON. Charts by the vendored Chart.js
// (global `Chart`, dashboard/vendor/chartjs); the tables carry the exact values in data-value attributes.

import { $, api, ApiError, fill, h } from "./common.js";
import { renderWijkMap } from "./stats-map.js";

const READERS = ["analyst", "specialist", "admin", "wijkagent"];
const DEFAULT_DAYS = 60;
const PALETTE = ["#14407e", "#d7263d", "#e08a00", "#2a9d8f", "#7b4fb8", "#6b7380", "#3d7bd9", "#b5651d", "#2fb86b",
  "#c2185b", "#455a64", "#8d6e63"];
const NUMBER = new Intl.NumberFormat("nl-NL");
const DECIMAL = new Intl.NumberFormat("nl-NL", { maximumFractionDigits: 1 });
const PERCENT = new Intl.NumberFormat("nl-NL", { style: "percent", maximumFractionDigits: 1 });
const LONG_DATE = new Intl.DateTimeFormat("nl-NL", { day: "numeric", month: "long", year: "numeric" });
const charts = new Map();
let areas = null;
let data = null;
let wijkMap = null;  // GET /api/v1/stats/map for the area shown

// ---- formatting ------------------------------------------------------------------------------------------

const count = (value) => (value === null || value === undefined ? "–" : NUMBER.format(value));
const pct = (value) => (value === null || value === undefined ? "–" : PERCENT.format(value));
const minutes = (seconds) => (seconds === null || seconds === undefined ? "–" : `${DECIMAL.format(seconds / 60)} min`);
const dutchDate = (iso) => LONG_DATE.format(new Date(`${iso}T12:00:00`));

/** A table cell whose text is formatted for people and whose data-value is the number of the JSON. */
function cell(value, format = count) {
  return h("td", { "data-value": value === null || value === undefined ? "" : String(value) }, format(value));
}

function table(node, headers, rows) {
  fill(node,
    h("thead", {}, h("tr", {}, ...headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, ...rows.map(([name, ...cells]) => h("tr", {}, h("th", { scope: "row" }, name), ...cells))));
  if (!rows.length) node.append(h("caption", { class: "muted" }, "Geen meldingen in deze periode en dit gebied."));
}

// ---- charts ----------------------------------------------------------------------------------------------

function chart(id, config) {
  charts.get(id)?.destroy();
  const canvas = document.getElementById(id);
  const options = {
    responsive: true, maintainAspectRatio: false, animation: false,
    plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
    ...config.options,
  };
  charts.set(id, new window.Chart(canvas, { ...config, options }));
}

const stackedBar = (labels, datasets, horizontal = false) => ({
  type: "bar",
  data: { labels, datasets: datasets.map((set, i) => ({ backgroundColor: PALETTE[i % PALETTE.length], ...set })) },
  options: {
    indexAxis: horizontal ? "y" : "x",
    scales: { x: { stacked: true, ticks: { precision: 0 } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
  },
});

const bars = (labels, datasets, yTitle) => ({
  type: "bar",
  data: { labels, datasets: datasets.map((set, i) => ({ backgroundColor: PALETTE[i % PALETTE.length], ...set })) },
  options: { scales: { y: { beginAtZero: true, title: { display: Boolean(yTitle), text: yTitle } } } },
});

const lines = (labels, datasets, yOptions = {}) => ({
  type: "line",
  data: {
    labels,
    datasets: datasets.map((set, i) => ({ borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length],
      tension: 0.2, ...set })),
  },
  options: { scales: { y: { beginAtZero: true, ...yOptions } } },
});

// ---- the sections -------------------------------------------------------------------------------------

function renderSummary() {
  const follow = data.follow_up;
  const items = [
    ["Meldingen", count(data.reports_by_category.total), "reports"],
    ["Doorgegeven aan de politie", count(follow.passed_to_police), "passed"],
    ["Zonder bekende opvolging", pct(follow.no_known_follow_up_share), "no-follow-up"],
    ["Mediaan tot eerste handeling", minutes(data.times.first_action.median_s), "first-action"],
    ["Alarmen", count(data.alerts.alerts), "alerts"],
    ["Alarmen afgeleverd", pct(data.alerts.delivered_share), "alerts-delivered"],
  ];
  fill($("#summary"), ...items.map(([term, value, key]) => h("div", { class: "kpi", "data-kpi": key },
    h("dt", {}, term), h("dd", {}, value))));
}

function renderCategories() {
  const cats = data.labels.categories;
  const months = data.reports_by_category.per_month;
  chart("chart-categories", stackedBar(months.map((m) => m.month),
    cats.map((c) => ({ label: c.label, data: months.map((m) => m.categories[c.code] || 0) }))));
  table($("#table-categories"), ["Maand", ...cats.map((c) => c.label), "Totaal"],
    months.map((m) => [m.month, ...cats.map((c) => cell(m.categories[c.code] || 0)), cell(m.total)]));
}

function renderGroups() {
  const cats = data.labels.categories;
  const groups = data.reports_by_category.per_group_total;
  chart("chart-groups", stackedBar(groups.map((g) => g.group),
    cats.map((c) => ({ label: c.label, data: groups.map((g) => g.categories[c.code] || 0) })), true));
  table($("#table-groups"), ["Groep", ...cats.map((c) => c.label), "Totaal"],
    groups.map((g) => [g.group, ...cats.map((c) => cell(g.categories[c.code] || 0)), cell(g.total)]));
  const offences = data.labels.offences.filter((o) => data.reports_by_category.offences[o.code]);
  table($("#table-offences"), ["Wijk", ...offences.map((o) => o.label), "Totaal"],
    data.reports_by_category.per_wijk.map((w) => [w.wijk, ...offences.map((o) => cell(w.offences[o.code] || 0)),
      cell(w.total)]));
}

function renderWeeks() {
  const weeks = data.per_week;
  chart("chart-weeks", lines(weeks.map((w) => w.week), [
    { label: "Meldingen", data: weeks.map((w) => w.reports) },
    { label: "Doorgegeven aan de politie", data: weeks.map((w) => w.passed) },
    { label: "Alleen uiterlijk", data: weeks.map((w) => w.appearance_only) },
  ], { ticks: { precision: 0 } }));
  table($("#table-weeks"), ["Week", "Meldingen", "Doorgegeven", "Alleen uiterlijk"],
    weeks.map((w) => [`${w.week} (${w.from.slice(5)} – ${w.to.slice(5)})`, cell(w.reports), cell(w.passed),
      cell(w.appearance_only)]));
}

function renderFollowUp() {
  const follow = data.follow_up;
  const kinds = data.labels.follow_ups;
  const results = data.labels.results.filter((r) => r.code !== "onbekend");
  chart("chart-follow-up", bars(
    [...kinds.map((k) => k.label), "Zonder bekende opvolging"],
    [{ label: "Meldingen", data: [...kinds.map((k) => follow.follow_ups[k.code] || 0), follow.no_known_follow_up] }]));
  const headers = ["Groep", "Meldingen", "Doorgegeven", "112 gebeld", "Door de meldkamer", "Met opvolging",
    ...kinds.map((k) => k.label), ...results.map((r) => r.label), "Zonder bekende opvolging", "Aandeel"];
  const row = (name, g) => [name, cell(g.reports), cell(g.passed_to_police), cell(g.called_112),
    cell(g.taken_on_by_meldkamer), cell(g.with_follow_up), ...kinds.map((k) => cell(g.follow_ups[k.code] || 0)),
    ...results.map((r) => cell(g.results[r.code] || 0)), cell(g.no_known_follow_up), cell(g.no_known_follow_up_share, pct)];
  table($("#table-follow-up"), headers, [...follow.per_group.map((g) => row(g.group, g)), row("Alle groepen", follow)]);
  $("#table-follow-up tbody tr:last-child").classList.add("total");
}

function renderPerMonth() {
  const months = data.per_month;
  chart("chart-per-month", bars(months.per_group.map((g) => g.group),
    [{ label: "Doorgegeven per maand (gemiddeld)", data: months.per_group.map((g) => g.passed_per_month) }]));
  const row = (name, g) => [name, ...months.months.map((m) => cell(g.reports[m])), cell(g.total), cell(g.passed_total),
    cell(g.passed_per_month, (v) => DECIMAL.format(v))];
  table($("#table-per-month"), ["Groep", ...months.months, "Totaal", "Doorgegeven", "Gemiddeld per maand"],
    [...months.per_group.map((g) => row(g.group, g)), row("Alle groepen", months)]);
  $("#table-per-month tbody tr:last-child").classList.add("total");
}

const MEASURES = [["first_action", "Eerste handeling centralist"], ["first_follow_up", "Eerste opvolging"],
  ["feedback_delivered", "Terugkoppeling afgeleverd"]];

function renderTimes() {
  const times = data.times;
  const baseline = times.baseline_s / 60;
  chart("chart-times", bars(MEASURES.map(([, name]) => name), [
    { label: "Mediaan (min)", data: MEASURES.map(([key]) => toMinutes(times[key].median_s)) },
    { label: "90e percentiel (min)", data: MEASURES.map(([key]) => toMinutes(times[key].p90_s)) },
    { label: "Menselijk doorgeven (par. 3.6)", data: MEASURES.map(() => baseline), type: "line", borderDash: [6, 4],
      pointRadius: 0, borderColor: "#16202e", backgroundColor: "#16202e" },
  ], "minuten"));
  table($("#table-times"), ["Van ontvangst tot", "Aantal", "Mediaan", "90e percentiel", "Binnen 10 minuten"],
    MEASURES.map(([key, name]) => [name, cell(times[key].n), cell(times[key].median_s, minutes),
      cell(times[key].p90_s, minutes), cell(times[key].within_baseline_share, pct)]));
}

const toMinutes = (seconds) => (seconds === null || seconds === undefined ? null : Math.round(seconds / 6) / 10);

function renderAlerts() {
  const alerts = data.alerts;
  const wijken = alerts.per_wijk;
  const measures = [["recipients", "Ontvangers"], ["delivered", "Afgeleverd"], ["read", "Gelezen"],
    ["forwarded", "Doorgestuurd"], ["failed", "Mislukt"]];
  chart("chart-alerts", bars(wijken.map((w) => w.wijk),
    measures.map(([key, name]) => ({ label: name, data: wijken.map((w) => w[key]) }))));
  const row = (name, w) => [name, cell(w.alerts), ...measures.map(([key]) => cell(w[key])),
    cell(w.coverage === undefined ? null : w.coverage, pct)];
  table($("#table-alerts"), ["Wijk", "Alarmen", ...measures.map(([, name]) => name), "Dekking groepen"],
    [...wijken.map((w) => row(w.wijk, w)), row("Alle wijken", alerts)]);
  $("#table-alerts tbody tr:last-child").classList.add("total");
  const ninety = alerts.time_to_90_delivered;
  $("#alerts-ninety").textContent = ninety.alerts_reached
    ? `Tijd tot 90% van de ontvangers het alarm had: mediaan ${minutes(ninety.median_s)}, 90e percentiel ` +
      `${minutes(ninety.p90_s)} (${count(ninety.alerts_reached)} van ${count(alerts.alerts)} alarmen bereikten 90%).`
    : "Geen alarm bereikte 90% van de ontvangers in deze periode.";
}

function renderAppearance() {
  const appearance = data.appearance_only;
  chart("chart-appearance", lines(appearance.per_month.map((m) => m.month),
    [{ label: "Aandeel alleen uiterlijk (%)", tension: 0,
      data: appearance.per_month.map((m) => (m.share === null ? null : Math.round(m.share * 1000) / 10)) }]));
  const row = (name, w) => [name, cell(w.reports), cell(w.flagged), cell(w.share, pct), cell(w.lifted), cell(w.lowered)];
  table($("#table-appearance"), ["Wijk", "Meldingen", "Alleen uiterlijk", "Aandeel", "Verhoogd", "Verlaagd"],
    [...appearance.per_wijk.map((w) => row(w.wijk, w)), row("Alle wijken", appearance)]);
  $("#table-appearance tbody tr:last-child").classList.add("total");
}

function renderDefinitions() {
  for (const node of document.querySelectorAll("[data-definition]")) {
    node.textContent = data.definitions[node.dataset.definition] || "";
  }
}

function renderScope() {
  const parts = [];
  const { filters } = data;
  if (filters.region) parts.push(`regio ${nameOf("regions", filters.region)}`);
  if (filters.gemeente) parts.push(`gemeente ${nameOf("gemeenten", filters.gemeente)}`);
  if (filters.wijk) parts.push(`wijk ${nameOf("wijken", filters.wijk)}`);
  if (filters.group) parts.push(`groep ${(areas.groups.find((g) => g.id === filters.group) || {}).name || filters.group}`);
  if (filters.operation) {
    parts.push(`actie ${(areas.operations.find((o) => o.id === filters.operation) || {}).name || filters.operation}`);
  }
  $("#report-title").textContent = `Evaluatie ${dutchDate(data.period.from)} – ${dutchDate(data.period.to)}`;
  $("#report-scope").textContent = `${parts.length ? parts.join(", ") : "alle gebieden"} · ${data.period.days} dagen` +
    " · tijden in Europe/Amsterdam";
  $("#printed-at").textContent = `Gemaakt op ${LONG_DATE.format(new Date())} uit de meldkamer relay.`;
}

const nameOf = (list, code) => (areas[list].find((item) => item.code === code) || {}).name || code;

function render() {
  renderScope();
  renderSummary();
  renderCategories();
  renderGroups();
  renderWeeks();
  renderFollowUp();
  renderPerMonth();
  renderTimes();
  renderAlerts();
  renderAppearance();
  renderWijkMap($("#wijkmap"), $("#table-wijkmap"), wijkMap, data.reports_by_category.per_wijk);
  renderDefinitions();
}

// ---- filters, loading, downloads -------------------------------------------------------------------------

function isoDay(date) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Amsterdam" }).format(date);
}

function currentParams() {
  const params = new URLSearchParams();
  for (const name of ["from", "to", "region", "gemeente", "wijk", "group", "operation"]) {
    const value = $(`#filters [name="${name}"]`).value;
    if (value) params.set(name, value);
  }
  return params;
}

function setDownloads(params) {
  const link = (extra) => `/api/v1/stats?${new URLSearchParams({ ...Object.fromEntries(params), ...extra })}`;
  $("#dl-csv-semicolon").href = link({ format: "csv", sep: "semicolon" });
  $("#dl-csv").href = link({ format: "csv" });
  $("#dl-json").href = link({});
}

function options(select, items, value, text) {
  const first = select.options[0];
  fill(select, first, ...items.map((item) => h("option", { value: value(item) }, text(item))));
}

async function loadAreas() {
  areas = await api("/api/v1/stats/areas");
  options($("#f-region"), areas.regions, (r) => r.code, (r) => r.name);
  options($("#f-gemeente"), areas.gemeenten, (g) => g.code, (g) => g.name);
  options($("#f-wijk"), areas.wijken, (w) => w.code, (w) => `${w.name} (${w.code})`);
  options($("#f-group"), areas.groups, (g) => String(g.id), (g) => g.name);
  options($("#f-operation"), areas.operations, (o) => String(o.id), (o) => `${o.name} (${o.starts.slice(0, 10)})`);
}

function applyUrl() {
  const params = new URLSearchParams(location.search);
  const today = new Date();
  $("#f-to").value = params.get("to") || isoDay(today);
  $("#f-from").value = params.get("from") || isoDay(new Date(today.getTime() - (DEFAULT_DAYS - 1) * 86400000));
  for (const name of ["region", "gemeente", "wijk", "group", "operation"]) $(`#f-${name}`).value = params.get(name) || "";
}

async function load() {
  const params = currentParams();
  setDownloads(params);
  history.replaceState(null, "", `/stats?${params}`);
  $("#status").textContent = "Laden…";
  $("#error").hidden = true;
  document.body.dataset.state = "loading";
  try {
    const area = new URLSearchParams([...params].filter(([name]) => !["from", "to"].includes(name)));
    [data, wijkMap] = await Promise.all([api(`/api/v1/stats?${params}`), api(`/api/v1/stats/map?${area}`)]);
    render();
    $("#status").textContent = `${count(data.reports_by_category.total)} meldingen in deze periode.`;
    document.body.dataset.state = "ready";
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showLogin("Uw sessie is verlopen. Meld u opnieuw aan.");
    $("#status").textContent = "";
    $("#error").textContent = error instanceof ApiError ? error.message_nl : String(error);
    $("#error").hidden = false;
    document.body.dataset.state = "error";
  }
}

// ---- session ----------------------------------------------------------------------------------------------

function showLogin(message = "") {
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  $("#login-error").textContent = message;
  $("#login-error").hidden = !message;
  $("#login-username").focus();
}

async function enter(me) {
  if (!READERS.includes(me.role)) {
    showLogin("Uw rol heeft geen toegang tot de evaluatie (alleen analist, operationeel specialist, wijkagent of beheer).");
    return;
  }
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  $("#who").textContent = me.name;
  await loadAreas();
  applyUrl();
  await load();
}

async function signIn(event) {
  event.preventDefault();
  const username = $("#login-username").value.trim();
  const password = $("#login-password").value;
  if (!username || !password) return showLogin("Vul uw gebruikersnaam en wachtwoord in.");
  try {
    await api("/api/v1/auth/login", { method: "POST", json: { username, password } });  // sets the session cookie
    $("#login-password").value = "";
    await enter(await api("/api/v1/auth/me"));
  } catch (error) {
    showLogin(error instanceof ApiError ? error.message_nl : "Aanmelden mislukt.");
  }
}

async function signOut() {
  try {
    await api("/api/v1/auth/logout", { method: "POST" });
  } catch {
    // the session may already be gone
  }
  showLogin("U bent afgemeld.");
}

async function boot() {
  $("#login-form").addEventListener("submit", signIn);
  $("#logout").addEventListener("click", signOut);
  $("#print").addEventListener("click", () => window.print());
  $("#filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  try {
    await enter(await api("/api/v1/auth/me"));
  } catch (error) {
    showLogin(error instanceof ApiError && error.status !== 401 ? error.message_nl : "");
  }
}

boot();
