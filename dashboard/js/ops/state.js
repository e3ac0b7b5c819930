// The console's state, shared by its views: the session, the vocabulary, the queue, the detail and drafts.

import { h } from "../common.js";

export const TOKEN_KEY = "meldkamer.ops.token";
export const NAME_KEY = "meldkamer.ops.display_name"; // claims name the display name, /auth/me the username
const DRAFTS_KEY = "meldkamer.ops.drafts"; // typed text survives a reload of the tab, and an expired claim
export const ATTENTION_KEY = "meldkamer.ops.attention"; // the new P1s not opened yet

export const S = {
  token: null,
  me: null,
  vocabulary: null, // labels, option lists and permissions from GET /api/v1/meta
  feed: null, // the queue: a snapshot, then the live events (LiveFeed)
  rows: new Map(),
  listed: null, // {shown, total, capped}: how many incidents the snapshot brought of how many the server has
  visible: [],
  selected: null,
  detail: null,
  drafts: restoreDrafts(), // incident id -> {field: value} typed but not saved
  filters: { status: "open", urgency: "", wijk: "", operation: "", search: "" },
  search: null, // {query, hits: Map(id -> {incident, matches})}: the server's search over every report
  known: new Map(), // incident id -> urgency, of every incident this console has heard of (new P1 or raised?)
  attention: new Set(), // new unhandled P1s not opened yet: highlighted, counted in the tab's title
  claimDeadline: null, // {id, at}: when my claim on the selected incident ends, by this browser's clock
  expiredClaim: null, // the id of the selected incident whose claim of mine ran out
  timeline: null, // {id, entries} of the selected incident
  duplicates: null, // {id, items} of the selected incident: merge suggestions
  undo: null, // {target, until}: the merge that can still be undone
  composeDraft: null, // the alert being written, kept when the dialog is closed
  composeFor: null, // the incident id (or null) the alert dialog was opened for
  flags: [], // what the privacy check found in the alert's text while typing
  wijken: [],
  wijkNames: new Map(),
  broadcasts: new Map(),
  preview: null,
};

function restoreDrafts() {
  try {
    return new Map(JSON.parse(sessionStorage.getItem(DRAFTS_KEY) || "[]"));
  } catch {
    return new Map();
  }
}

/** Keeps the typed drafts in this tab's storage (a reload or a lost claim must not lose them). */
export function saveDrafts() {
  const kept = [...S.drafts].filter(([, d]) => Object.values(d).some((v) => v !== undefined && v !== ""));
  sessionStorage.setItem(DRAFTS_KEY, JSON.stringify(kept));
}

/** Signing out leaves nothing typed or pending for the next person at this screen. */
export function forgetWork() {
  S.drafts.clear();
  S.attention.clear();
  S.known.clear();
  S.composeDraft = null;
  S.search = null;
  sessionStorage.removeItem(DRAFTS_KEY);
  sessionStorage.removeItem(ATTENTION_KEY);
}

export const label = (list, code, empty) => S.vocabulary.label(list, code, empty);
export const options = (list) => S.vocabulary.options(list);
const may = (permission) => Boolean(S.me && S.vocabulary && S.vocabulary.allows(permission, S.me.role));
export const canReadQueue = () => may("read_queue");
export const canDecide = () => may("decide");
export const canSend = () => may("send_alerts");
export const canReadAgreement = () => may("read_agreement");
export const snapshotPending = () => !S.feed || S.feed.pending;
export const wijkName = (code) => (code ? S.wijkNames.get(code) || code : "wijk onbekend");

/** The wijken as options grouped per gemeente (a region has hundreds, the country thousands). */
export function wijkOptions() {
  const groups = new Map();
  for (const wijk of S.wijken) {
    if (!groups.has(wijk.gemeente)) groups.set(wijk.gemeente, []);
    groups.get(wijk.gemeente).push(h("option", { value: wijk.code }, `${wijk.name} (${wijk.gemeente})`));
  }
  return [...groups].map(([gemeente, options]) => h("optgroup", { label: gemeente }, options));
}

/** The offence, or else the category: "Woninginbraak", "Vermissing", "Incident". */
export function incidentWhat(incident) {
  return incident.offence ? label("offences", incident.offence) : label("categories", incident.category, "Incident");
}

/** The triage could not place the report's text ("niet herkend"): an operator should read it. */
export function isUnrecognised(report) {
  return (report.reasons || []).some((r) => r.code === "unrecognised");
}
