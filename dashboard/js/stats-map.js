// The evaluation's wijk map: every wijk in the area shaded by reports per 1,000 households in five classes,
// a wijk without a household figure hatched grey ("onbekend"), one small map per gemeente (they lie tens of
// kilometres apart), a legend, and the table beside it. Outlines from GET /api/v1/stats/map (SVG path data
// in RD metres, drawn as they come); figures from the evaluation's reports_by_category.per_wijk.

import { fill, h, svg } from "./common.js";

const CLASSES = 5;
// Light to dark blue, distinguishable in grey print as well.
const SHADES = ["#dbe7f5", "#a9c4e6", "#6f9bd1", "#3a6fb3", "#14407e"];
const UNKNOWN = "url(#hatch-onbekend)";
const NUMBER = new Intl.NumberFormat("nl-NL");
const RATE = new Intl.NumberFormat("nl-NL", { maximumFractionDigits: 2 });  // class bounds
const RATE_CELL = new Intl.NumberFormat("nl-NL", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** One row per wijk of the map: its figures from the evaluation (a wijk without reports has none). */
export function wijkRows(mapData, perWijk) {
  const figures = new Map(perWijk.map((row) => [row.wijkcode, row]));
  return mapData.gemeenten.flatMap((gemeente) => gemeente.wijken.map((wijk) => {
    const row = figures.get(wijk.wijkcode);
    const reports = row ? row.reports : 0;
    const rate = row ? row.reports_per_1000_households : (wijk.households ? 0 : null);
    return { ...wijk, gemeente: gemeente.gemeente, reports, rate };
  }));
}

/** Five equal steps from 0, each step rounded up to two significant digits, so that the legend reads
 * easily and the highest rate still falls in the darkest class. */
export function classBounds(rates) {
  const raw = Math.max(0, ...rates) / CLASSES || 1;
  const unit = 10 ** (Math.floor(Math.log10(raw)) - 1);
  const step = Math.ceil(raw / unit - 1e-9) * unit;
  return Array.from({ length: CLASSES }, (_, i) => [i * step, (i + 1) * step]);
}

/** The class (0-4) of a rate; the highest class includes its upper bound. */
function classOf(rate, bounds) {
  if (rate === null) return null;
  const index = bounds.findIndex(([, upper]) => rate < upper);
  return index === -1 ? CLASSES - 1 : index;
}

const rateText = (rate) => (rate === null ? "onbekend" : RATE_CELL.format(rate));
const bandText = ([lower, upper], last) => `${RATE.format(lower)} tot ${last ? "en met " : ""}${RATE.format(upper)}`;

/** The hatch for "onbekend", defined once for every map and legend swatch of the page. */
function hatchDefinition() {
  return svg("svg", { width: 0, height: 0, "aria-hidden": "true", class: "wijkmap-defs" }, svg("defs", {},
    svg("pattern", { id: "hatch-onbekend", width: 8, height: 8, patternUnits: "userSpaceOnUse",
      patternTransform: "rotate(45)" },
    svg("rect", { width: 8, height: 8, fill: "#eceff3" }),
    svg("line", { x1: 0, y1: 0, x2: 0, y2: 8, stroke: "#8a94a3", "stroke-width": 3 }))));
}

function gemeenteMap(gemeente, rows, bounds, index) {
  const titleId = `wijkmap-title-${index}`;
  const descId = `wijkmap-desc-${index}`;
  const [x, y, width, height] = gemeente.view_box;
  const stroke = Math.max(width, height) / 400;
  const shapes = rows.map((row) => {
    const shade = classOf(row.rate, bounds);
    const label = `${row.wijk}: ${NUMBER.format(row.reports)} meldingen, ${rateText(row.rate)} per 1.000 huishoudens`;
    return svg("path", { d: row.path, fill: shade === null ? UNKNOWN : SHADES[shade], stroke: "#16202e",
      "stroke-width": stroke, "data-wijkcode": row.wijkcode, "data-class": shade === null ? "onbekend" : shade + 1 },
    svg("title", { text: label }));
  });
  const known = rows.filter((row) => row.rate !== null).length;
  return h("figure", { class: "wijkmap-gemeente" },
    svg("svg", { viewBox: `${x} ${y} ${width} ${height}`, role: "img", "aria-labelledby": `${titleId} ${descId}`,
      preserveAspectRatio: "xMidYMid meet", class: "wijkmap-svg" },
    svg("title", { id: titleId, text: `Kaart ${gemeente.gemeente}` }),
    svg("desc", { id: descId, text: `${rows.length} wijken, ${known} met een aantal huishoudens; de getallen staan ` +
      "in de tabel naast de kaart." }),
    ...shapes),
    h("figcaption", {}, gemeente.gemeente));
}

function legend(bounds) {
  const item = (fillColour, text, key) => h("li", { "data-legend": key },
    svg("svg", { width: 18, height: 14, "aria-hidden": "true" },
      svg("rect", { width: 18, height: 14, fill: fillColour, stroke: "#16202e", "stroke-width": 1 })),
    h("span", {}, text));
  return h("div", { class: "wijkmap-legend" },
    h("p", { class: "wijkmap-legend-title" }, "Meldingen per 1.000 huishoudens"),
    h("ul", {}, ...bounds.map((band, i) => item(SHADES[i], bandText(band, i === CLASSES - 1), String(i + 1))),
      item(UNKNOWN, "onbekend (geen aantal huishoudens)", "onbekend")));
}

function cell(value, text) {
  return h("td", { "data-value": value === null || value === undefined ? "" : String(value) }, text);
}

function tableOf(node, rows) {
  fill(node,
    h("thead", {}, h("tr", {}, ...["Wijk", "Gemeente", "Meldingen", "Huishoudens", "Per 1.000 huishoudens"]
      .map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, ...rows.map((row) => h("tr", { "data-wijkcode": row.wijkcode },
      h("th", { scope: "row" }, row.wijk), h("td", { class: "text" }, row.gemeente),
      cell(row.reports, NUMBER.format(row.reports)),
      cell(row.households, row.households === null ? "onbekend" : NUMBER.format(row.households)),
      cell(row.rate, rateText(row.rate))))));
  if (!rows.length) node.append(h("caption", { class: "muted" }, "Geen wijken met een grens in dit gebied."));
}

/** Draws the maps into `container` and the table into `tableNode`. */
export function renderWijkMap(container, tableNode, mapData, perWijk) {
  const rows = wijkRows(mapData, perWijk);
  const bounds = classBounds(rows.filter((row) => row.rate !== null).map((row) => row.rate));
  const byCode = new Map(rows.map((row) => [row.wijkcode, row]));
  fill(container, hatchDefinition(),
    h("div", { class: "wijkmap-maps" }, ...mapData.gemeenten.map((gemeente, index) => gemeenteMap(
      gemeente, gemeente.wijken.map((wijk) => byCode.get(wijk.wijkcode)), bounds, index))),
    legend(bounds));
  tableOf(tableNode, rows);
}
