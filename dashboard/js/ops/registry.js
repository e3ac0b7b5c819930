// The register for admins: the beheerders and the wijken of a registry of thousands, one page at a time from
// the server, with a search box the server answers (`q`); nothing here loads a whole list. The pages live
// under #register/beheerders and #register/wijken in the address; the queue and #acties hide them.

import { $, api, fmtTotal, h } from "../common.js";
import { handleError } from "./login.js";
import { S } from "./state.js";

const PAGE = 50;
const SEARCH_AFTER_MS = 300; // typing pauses this long before the server is asked

const LISTS = {
  beheerders: {
    title: "Beheerders", noun: "beheerders", placeholder: "naam, telefoonnummer of e-mail",
    columns: ["Naam", "Telefoon", "Wijken", "Kanalen", "Actief"],
    load: async (params) => {
      const page = await api(`/api/v1/admin/beheerders?${params}`);
      return { items: page.items, total: page.total };
    },
    cells: (b) => [b.name, b.phone || "–", b.wijkcodes.join(", ") || "–", b.channels.join(", "), b.active ? "ja" : "nee"],
  },
  wijken: {
    title: "Wijken", noun: "wijken", placeholder: "naam, wijkcode of gemeente",
    columns: ["Wijkcode", "Naam", "Gemeente", "Groepen"],
    load: (params) => api(`/api/v1/admin/wijken?${params}`, { counted: true }),
    cells: (w) => [w.code, w.name, w.gemeente_name, String(w.group_count)],
  },
};

const R = { list: null, query: "", offset: 0, asked: 0, timer: null, listening: false };

const canReadRegistry = () => Boolean(S.me && S.me.role === "admin");

export function initRegistry() {
  $("#nav-registry").hidden = !canReadRegistry();
  if (!R.listening) window.addEventListener("hashchange", route);
  R.listening = true;
  route();
}

/** "#register/wijken" shows that list; the queue and #acties hide the register; other fragments change nothing. */
function route() {
  const [view, name] = location.hash.replace(/^#/, "").split("/");
  if (view !== "register") {
    if (!location.hash || view === "wachtrij" || view === "acties") hide();
    return;
  }
  if (!canReadRegistry()) return;
  $("#main").hidden = true;
  $("#operations-view").hidden = true;
  $("#registry-view").hidden = false;
  for (const link of ["#nav-queue", "#nav-operations"]) $(link).removeAttribute("aria-current");
  $("#nav-registry").setAttribute("aria-current", "page");
  const list = LISTS[name] ? name : "beheerders";
  if (list !== R.list) {
    R.list = list;
    R.query = "";
    R.offset = 0;
    renderFrame();
  }
  load();
  $("#registry-view").focus();
}

function hide() {
  $("#registry-view").hidden = true;
  $("#nav-registry").removeAttribute("aria-current");
}

function renderFrame() {
  const spec = LISTS[R.list];
  const search = h("input", { id: "reg-search", type: "search", placeholder: spec.placeholder, autocomplete: "off",
    "aria-describedby": "reg-count" });
  search.addEventListener("input", () => {
    clearTimeout(R.timer);
    R.timer = setTimeout(() => {
      R.query = search.value.trim();
      R.offset = 0;
      load();
    }, SEARCH_AFTER_MS);
  });
  const tabs = Object.entries(LISTS).map(([name, other]) => h("a", { href: `#register/${name}`,
    ...(name === R.list ? { "aria-current": "page" } : {}) }, other.title));
  $("#registry-page").replaceChildren(
    h("div", { class: "op-head" }, h("h2", {}, `Register: ${spec.title.toLowerCase()}`),
      h("nav", { class: "reg-tabs", "aria-label": "Lijsten" }, tabs)),
    h("p", {}, h("label", { for: "reg-search" }, `Zoek in ${spec.noun} `), search),
    h("p", { id: "reg-count", class: "op-sub", "aria-live": "polite" }, "Laden…"),
    h("table", { class: "op-table", id: "reg-table" },
      h("thead", {}, h("tr", {}, spec.columns.map((column) => h("th", { scope: "col" }, column)))),
      h("tbody", {})),
    h("p", { class: "op-actions" },
      h("button", { type: "button", id: "reg-previous", onclick: () => turn(-PAGE) }, "Vorige"),
      h("button", { type: "button", id: "reg-next", onclick: () => turn(PAGE) }, "Volgende")));
}

function turn(step) {
  R.offset = Math.max(0, R.offset + step);
  load();
}

async function load() {
  const spec = LISTS[R.list];
  const asked = ++R.asked; // an answer to an older question (typing on) is dropped
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(R.offset) });
  if (R.query) params.set("q", R.query);
  try {
    const page = await spec.load(params);
    if (asked !== R.asked || R.list === null) return;
    render(spec, page);
  } catch (error) {
    if (asked === R.asked) handleError(error, `${spec.title} laden`);
  }
}

function render(spec, page) {
  $("#reg-table tbody").replaceChildren(...page.items.map((item) =>
    h("tr", {}, spec.cells(item).map((cell) => h("td", {}, cell)))));
  const first = page.items.length ? R.offset + 1 : 0;
  const last = R.offset + page.items.length;
  $("#reg-count").textContent = page.items.length
    ? `${fmtTotal(first)}–${fmtTotal(last)} van ${fmtTotal(page.total)} ${spec.noun}${R.query ? ` voor "${R.query}"` : ""}`
    : `Geen ${spec.noun} gevonden${R.query ? ` voor "${R.query}"` : ""}.`;
  $("#reg-previous").disabled = R.offset === 0;
  $("#reg-next").disabled = last >= page.total;
}
