// The console's entry module: sign in, then the queue as a snapshot plus live events, the counters, the connection.

import { $, api, ApiError, connectionText, LiveFeed, throttle } from "../common.js";
import { initAgreement } from "./agreement.js";
import { applyBroadcastEvent, loadBroadcasts, renderBroadcasts } from "./compose.js";
import { reloadDetailSoon } from "./detail.js";
import "./keys.js";
import "./quickop.js";
import { expireSession, handleError, listenForLogin, resumeSession } from "./login.js";
import { initAttention } from "./attention.js";
import { applyOperationEvent, initOperations } from "./operations.js";
import { initRegistry } from "./registry.js";
import {
  applyIncidentEvent, fetchQueue, loadOperationFilter, loadWijken, queueProblem, refreshSearch, renderFilters, renderQueue, showQueue,
  showQueueError,
} from "./queue.js";
import { canReadQueue, label, S } from "./state.js";

async function boot() {
  listenForLogin(enter);
  if (await resumeSession()) enter();
}

function enter() {
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  $("#who").textContent = `${S.me.display} (${label("roles", S.me.role)})`;
  initAgreement();
  initAttention();
  initOperations();
  initRegistry();
  if (!canReadQueue()) {
    $("#queue-loading").hidden = true;
    showQueueError("Uw rol heeft geen toegang tot de wachtrij.");
    return;
  }
  renderFilters();
  loadWijken();
  loadOperationFilter();
  loadBroadcasts();
  S.feed = new LiveFeed({
    token: S.token,
    reloadOnResume: true,
    onState: setConnection,
    onWelcome: () => refreshStats(),
    holds: (event) => event.type.startsWith("incident."),
    loadSnapshot: fetchQueue,
    onSnapshot: showQueue,
    onSnapshotError: queueProblem,
    onEvent,
  }).start();
  $("#queue").focus();
}

function onEvent(event) {
  if (event.type.startsWith("incident.")) {
    applyIncidentEvent(event);
    renderQueue();
    refreshStatsSoon();
    refreshSearch();
  } else if (event.type.startsWith("broadcast.")) {
    applyBroadcastEvent(event);
    renderBroadcasts();
  } else if (event.type.startsWith("operation.")) {
    applyOperationEvent(event);
    if (!event.type.startsWith("operation.participant_")) loadOperationFilterSoon();
  } else if (event.type.startsWith("report.")) {
    refreshStatsSoon();
    if (event.type === "report.photo_added" && S.detail &&
      S.detail.reports.some((r) => r.id === event.data.report_id)) reloadDetailSoon();
  }
}

const refreshStatsSoon = throttle(refreshStats, 1500);
const loadOperationFilterSoon = throttle(loadOperationFilter, 2000);

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
  if (state === "unauthorized") expireSession();
}

boot();
