// Operations (DDO action days, heterdaad, vermissing, events, probleemaanpak) for specialists: the list (open,
// planned, closed), one operation with its participants (live from the event stream), invite, message and
// close, and the way to the form and the day report. The pages live under #acties in the address, so that
// the browser's back button and a reload work; the queue is #wachtrij (or no fragment).

import { $, api, ApiError, fill, fmtDateTime, h, throttle, toast } from "../common.js";
import { handleError } from "./login.js";
import { confirmedWarnings, showPrivacyWarnings } from "./privacy.js";
import { renderForm } from "./operation-form.js";
import { renderReport } from "./operation-report.js";
import { label, S, wijkName } from "./state.js";

const STATUS_ORDER = ["open", "gepland", "gesloten"];
const SECTION_TITLES = { open: "Open", gepland: "Gepland", gesloten: "Gesloten" };
const PARTICIPANT_ORDER = ["joined", "no_answer", "declined", "left"];

const O = { route: null, detail: null, listening: false };

export const canRunOperations = () => Boolean(S.me && S.vocabulary && S.vocabulary.allows("run_operations", S.me.role));
const canReadOperations = () => Boolean(S.me && S.vocabulary && S.vocabulary.allows("read_operations", S.me.role));

/** "#acties/12/rapport" -> {page: "report", id: 12}; null for the queue. */
function parseRoute(hash) {
  const parts = hash.replace(/^#/, "").split("/");
  if (parts[0] !== "acties") return null;
  if (parts[1] === "nieuw") return { page: "form", id: null };
  const id = Number(parts[1]);
  if (!parts[1] || !Number.isInteger(id) || id <= 0) return { page: "list" };
  if (parts[2] === "bewerken") return { page: "form", id };
  if (parts[2] === "rapport") return { page: "report", id };
  return { page: "detail", id };
}

/** Shows the queue or an operations page for the address; other fragments (#detail, the skip link) change nothing. */
export function route() {
  if (!S.me) return;
  const hash = location.hash;
  const next = parseRoute(hash);
  if (!next && hash && hash !== "#wachtrij") return;
  const operations = Boolean(next) && canReadOperations();
  $("#main").hidden = operations;
  $("#operations-view").hidden = !operations;
  markCurrent($("#nav-queue"), !operations);
  markCurrent($("#nav-operations"), operations);
  O.route = operations ? next : null;
  if (!operations) return;
  O.detail = null;
  const page = $("#op-page");
  page.replaceChildren(h("p", { class: "empty" }, "Laden…"));
  if (next.page === "list") loadList();
  else if (next.page === "detail") loadDetail(next.id);
  else if (next.page === "form") renderForm(page, next.id);
  else renderReport(page, next.id);
  $("#operations-view").focus();
}

function markCurrent(link, current) {
  if (current) link.setAttribute("aria-current", "page");
  else link.removeAttribute("aria-current");
}

export function initOperations() {
  $("#nav-operations").hidden = !canReadOperations();
  if (!O.listening) window.addEventListener("hashchange", route);
  O.listening = true;
  route();
}

// ---- the list ---------------------------------------------------------------------------------------

async function loadList() {
  try {
    const page = await api("/api/v1/operations?limit=200");
    if (!O.route || O.route.page !== "list") return;
    renderList(page.items);
  } catch (error) {
    handleError(error, "Acties laden");
  }
}

function areaText(operation) {
  return operation.wijkcodes.map(wijkName).join(", ") || "–";
}

function renderList(items) {
  fill($("#op-page"),
    h("div", { class: "op-head" },
      h("h2", { id: "op-view-title" }, "Acties"),
      canRunOperations() ? h("a", { class: "button primary", href: "#acties/nieuw" }, "Nieuwe actie") : null),
    STATUS_ORDER.map((status) => {
      const rows = items.filter((o) => o.status === status);
      return h("section", { class: "op-section", "aria-labelledby": `op-section-${status}` },
        h("h3", { id: `op-section-${status}` }, `${SECTION_TITLES[status]} (${rows.length})`),
        rows.length ? h("table", { class: "op-table", dataset: { status } },
          h("thead", {}, h("tr", {}, ["Naam", "Soort", "Gebied", "Begin", "Einde", "Doen mee"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, rows.map((o) => h("tr", { dataset: { operation: o.id } },
            h("td", {}, h("a", { href: `#acties/${o.id}` }, o.name)),
            h("td", {}, label("operation_kinds", o.kind)),
            h("td", {}, areaText(o)),
            h("td", {}, fmtDateTime(o.starts_at)),
            h("td", {}, fmtDateTime(o.ends_at)),
            h("td", {}, `${o.participants.joined} van ${o.participants.invited}`)))))
          : h("p", { class: "muted" }, `Geen ${SECTION_TITLES[status].toLowerCase()} acties.`));
    }));
}

// ---- one operation ----------------------------------------------------------------------------------

async function loadDetail(id) {
  try {
    const operation = await api(`/api/v1/operations/${id}`);
    if (!O.route || O.route.page !== "detail" || O.route.id !== id) return;
    O.detail = operation;
    renderDetail(operation);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      fill($("#op-page"), h("p", { class: "empty" }, `Actie #${id} bestaat niet.`));
      return;
    }
    handleError(error, "Actie laden");
  }
}

function renderDetail(o) {
  const running = o.status !== "gesloten";
  const may = canRunOperations();
  fill($("#op-page"),
    h("p", {}, h("a", { href: "#acties" }, "← Alle acties")),
    h("div", { class: "op-head" },
      h("h2", { id: "op-view-title" }, o.name),
      h("span", { class: "tag" }, label("operation_kinds", o.kind)),
      h("span", { class: `tag op-status op-${o.status}`, id: "op-status" }, label("operation_statuses", o.status))),
    h("p", { class: "op-sub" }, `${fmtDateTime(o.starts_at)} tot ${fmtDateTime(o.ends_at)} · ${areaText(o)} · aangemaakt door ${o.created_by}`,
      o.closed_at ? ` · gesloten ${fmtDateTime(o.closed_at)} door ${o.closed_by}` : ""),
    h("div", { class: "op-actions" },
      may && running ? h("button", { type: "button", class: "primary", id: "op-invite", onclick: () => invite(o) }, "Beheerders uitnodigen") : null,
      may && running ? h("button", { type: "button", id: "op-message", onclick: () => openMessage(o) }, "Bericht aan deelnemers") : null,
      may && o.status === "gepland" ? h("a", { class: "button", href: `#acties/${o.id}/bewerken` }, "Wijzigen") : null,
      h("a", { class: "button", href: `#acties/${o.id}/rapport` }, "Dagrapport"),
      may && running ? h("button", { type: "button", class: "danger", id: "op-close", onclick: () => openClose(o) }, "Actie sluiten") : null),
    h("section", { class: "panel op-briefing", "aria-labelledby": "op-briefing-title" },
      h("h3", { id: "op-briefing-title" }, "Briefing voor de deelnemers"),
      h("p", { class: "op-text" }, o.briefing)),
    participantsView(o));
}

function participantsView(o) {
  const counts = o.participants;
  const rows = [...o.participant_list].sort((a, b) =>
    PARTICIPANT_ORDER.indexOf(a.status) - PARTICIPANT_ORDER.indexOf(b.status) || a.name.localeCompare(b.name));
  return h("section", { class: "panel", id: "op-participants", "aria-labelledby": "op-participants-title" },
    h("h3", { id: "op-participants-title" }, "Deelnemers"),
    h("ul", { class: "op-counts", id: "op-counts", "aria-live": "polite" },
      h("li", {}, "uitgenodigd ", h("b", { dataset: { count: "invited" } }, String(counts.invited))),
      h("li", {}, "doen mee ", h("b", { dataset: { count: "joined" } }, String(counts.joined))),
      h("li", {}, "afgeslagen ", h("b", { dataset: { count: "declined" } }, String(counts.declined))),
      h("li", {}, "afgemeld ", h("b", { dataset: { count: "left" } }, String(counts.left))),
      h("li", {}, "geen antwoord ", h("b", { dataset: { count: "no_answer" } }, String(counts.no_answer)))),
    rows.length ? h("table", { class: "op-table", id: "op-participant-table" },
      h("thead", {}, h("tr", {}, ["Beheerder", "Wijken", "Status", "Uitgenodigd", "Antwoord"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map((p) => h("tr", { dataset: { beheerder: p.beheerder_id, status: p.status } },
        h("td", {}, p.name),
        h("td", {}, p.wijkcodes.map(wijkName).join(", ")),
        h("td", {}, h("span", { class: `tag p-${p.status}` }, label("participant_statuses", p.status))),
        h("td", {}, p.invited_at ? fmtDateTime(p.invited_at) : "niet uitgenodigd"),
        h("td", {}, p.answered_at ? `${fmtDateTime(p.answered_at)}${p.answered_via === "whatsapp" ? " (WhatsApp)" : " (portaal)"}` : "–")))))
      : h("p", { class: "muted" }, "Nog niemand uitgenodigd."));
}

async function invite(o) {
  const button = $("#op-invite");
  button.disabled = true;
  try {
    const result = await api(`/api/v1/operations/${o.id}/invite`, { method: "POST" });
    toast(result.invited ? `${result.invited} beheerders uitgenodigd.` :
      `Iedereen in het gebied is al uitgenodigd (${result.already_invited}).`, "ok");
    loadDetail(o.id);
  } catch (error) {
    handleError(error, "Uitnodigen");
  } finally {
    button.disabled = false;
  }
}

// ---- message and close (dialogs in ops.html) --------------------------------------------------------

function openMessage(o) {
  $("#op-message-text").value = "";
  $("#op-message-error").hidden = true;
  $("#op-message-confirm").replaceChildren();
  $("#op-message-dialog").dataset.operation = o.id;
  $("#op-message-dialog").showModal();
  $("#op-message-text").focus();
}

function openClose(o) {
  $("#op-close-text").value = "";
  $("#op-close-error").hidden = true;
  $("#op-close-confirm").replaceChildren();
  $("#op-close-name").textContent = o.name;
  $("#op-close-dialog").dataset.operation = o.id;
  $("#op-close-dialog").showModal();
}

async function submitDialog(event, { dialog, path, body, error, confirm, done }) {
  event.preventDefault();
  const id = Number($(dialog).dataset.operation);
  const node = $(error);
  node.hidden = true;
  try {
    const result = await api(`/api/v1/operations/${id}/${path}`, { method: "POST",
      json: { ...body(), confirm_warnings: confirmedWarnings($(confirm)) } });
    $(dialog).close();
    toast(done(result), "ok");
    if (O.route && O.route.id === id) loadDetail(id);
  } catch (problem) {
    if (problem instanceof ApiError && problem.status === 401) return handleError(problem);
    showPrivacyWarnings($(confirm), problem);
    node.textContent = problem instanceof ApiError ? problem.message_nl : String(problem);
    node.hidden = false;
  }
}

$("#op-message-form").addEventListener("submit", (event) => submitDialog(event, {
  dialog: "#op-message-dialog", path: "messages", error: "#op-message-error", confirm: "#op-message-confirm",
  body: () => ({ text: $("#op-message-text").value.trim() }),
  done: (sent) => `Bericht verstuurd naar ${sent.recipients} deelnemers.`,
}));
$("#op-close-form").addEventListener("submit", (event) => submitDialog(event, {
  dialog: "#op-close-dialog", path: "close", error: "#op-close-error", confirm: "#op-close-confirm",
  body: () => ({ text: $("#op-close-text").value.trim() || null }),
  done: () => "De actie is gesloten; de deelnemers krijgen het slotbericht.",
}));
for (const id of ["#op-message-cancel", "#op-close-cancel"]) {
  $(id).addEventListener("click", (event) => event.target.closest("dialog").close());
}

// ---- live -------------------------------------------------------------------------------------------

const reloadListSoon = throttle(loadList, 1000);
const reloadDetailSoon = throttle(() => { if (O.route && O.route.page === "detail") loadDetail(O.route.id); }, 300);

/** An operation.* event: the page that shows that operation (or the list) loads it again. */
export function applyOperationEvent(event) {
  if (!O.route) return;
  const id = event.data && event.data.operation_id;
  if (O.route.page === "list") reloadListSoon();
  else if (O.route.page === "detail" && O.route.id === id) reloadDetailSoon();
}
