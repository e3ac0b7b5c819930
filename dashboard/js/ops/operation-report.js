// An operation's day report: the figures (participants, reports, response time), tables per category,
// urgency, follow-up, result and message, and links to the CSV and JSON. Printable (the console's bars hide).

import { api, ApiError, fill, fmtDateTime, h } from "../common.js";
import { handleError } from "./login.js";
import { label } from "./state.js";

const PURPOSES = { invitation: "Uitnodigingen", message: "Berichten", closing: "Slotbericht", answer: "Antwoorden" };
const MESSAGE_COLUMNS = [["messages", "Berichten"], ["recipients", "Ontvangers"], ["sent", "Verzonden"],
  ["delivered", "Afgeleverd"], ["forwarded", "Doorgestuurd"], ["failed", "Mislukt"]];

export async function renderReport(page, id) {
  try {
    const report = await api(`/api/v1/operations/${id}/report`);
    fill(page, reportView(report));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      fill(page, h("p", { class: "empty" }, `Actie #${id} bestaat niet.`));
      return;
    }
    handleError(error, "Dagrapport laden");
  }
}

/** "4 min 10 s", "1 u 05 min"; a dash when no report had an action. */
function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} u ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

function figure(name, value, text) {
  return h("div", { class: "op-figure", dataset: { figure: name } }, h("b", {}, String(value)), h("span", {}, text));
}

function countTable(title, list, counts) {
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return h("section", { class: "op-report-part" },
    h("h3", {}, title),
    rows.length ? h("table", { class: "op-table", dataset: { part: list } },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Soort"), h("th", { scope: "col" }, "Aantal"))),
      h("tbody", {}, rows.map(([code, count]) => h("tr", {}, h("td", {}, code === "onbekend" ? "Onbekend" : label(list, code)),
        h("td", { class: "num" }, String(count))))))
      : h("p", { class: "muted" }, "Geen."));
}

function messagesTable(messages) {
  const purposes = Object.keys(PURPOSES).filter((p) => messages[p]);
  return h("section", { class: "op-report-part op-report-wide" },
    h("h3", {}, "Berichten"),
    purposes.length ? h("table", { class: "op-table", dataset: { part: "messages" } },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Soort"), MESSAGE_COLUMNS.map(([, t]) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, purposes.map((purpose) => h("tr", { dataset: { purpose } }, h("td", {}, PURPOSES[purpose]),
        MESSAGE_COLUMNS.map(([key]) => h("td", { class: "num" }, String(messages[purpose][key])))))))
      : h("p", { class: "muted" }, "Nog geen berichten verstuurd."));
}

function reportView(r) {
  const base = `/api/v1/operations/${r.operation_id}/report`;
  const p = r.participants;
  return [
    h("p", { class: "no-print" }, h("a", { href: `#acties/${r.operation_id}` }, "← Terug naar de actie")),
    h("div", { class: "op-head" },
      h("h2", { id: "op-view-title" }, `Dagrapport: ${r.name}`),
      h("span", { class: "tag" }, label("operation_kinds", r.kind)),
      h("span", { class: `tag op-status op-${r.status}` }, label("operation_statuses", r.status))),
    h("p", { class: "op-sub" }, `${fmtDateTime(r.starts_at)} tot ${fmtDateTime(r.ends_at)}`),
    h("div", { class: "op-actions no-print" },
      h("a", { class: "button", href: `${base}?format=csv`, download: `actie-${r.operation_id}-dagrapport.csv` }, "CSV downloaden"),
      h("a", { class: "button", href: base, target: "_blank", rel: "noopener" }, "JSON bekijken"),
      h("button", { type: "button", id: "op-print", onclick: () => window.print() }, "Afdrukken")),
    h("div", { class: "op-figures", id: "op-figures" },
      figure("invited", p.invited, "uitgenodigd"), figure("joined", p.joined, "doen mee"),
      figure("declined", p.declined, "afgeslagen"), figure("no_answer", p.no_answer, "geen antwoord"),
      figure("reports", r.reports, r.reports === 1 ? "melding" : "meldingen"),
      figure("acted", r.reports_with_action, "met actie"),
      figure("median", duration(r.median_seconds_to_action), "mediaan tot actie")),
    h("div", { class: "op-report-grid" },
      countTable("Meldingen per categorie", "categories", r.reports_by_category),
      countTable("Meldingen per urgentie", "urgencies", r.reports_by_urgency),
      countTable("Opvolging", "follow_ups", r.follow_ups),
      countTable("Resultaten", "results", r.results),
      messagesTable(r.messages)),
  ];
}
