// The console's state, shared by its views: the session, the vocabulary, the queue, the detail and drafts.

export const TOKEN_KEY = "meldkamer.ops.token";
export const NAME_KEY = "meldkamer.ops.display_name"; // claims name the display name, /auth/me the username

export const S = {
  token: null,
  me: null,
  vocabulary: null, // labels, option lists and permissions from GET /api/v1/meta
  feed: null, // the queue: a snapshot, then the live events (LiveFeed)
  rows: new Map(),
  visible: [],
  selected: null,
  detail: null,
  drafts: new Map(), // incident id -> {field: value} typed but not saved
  filters: { status: "open", urgency: "", wijk: "", search: "" },
  wijken: [],
  wijkNames: new Map(),
  broadcasts: new Map(),
  preview: null,
};

export const label = (list, code, empty) => S.vocabulary.label(list, code, empty);
export const options = (list) => S.vocabulary.options(list);
const may = (permission) => Boolean(S.me && S.vocabulary && S.vocabulary.allows(permission, S.me.role));
export const canReadQueue = () => may("read_queue");
export const canDecide = () => may("decide");
export const canSend = () => may("send_alerts");
export const canReadAgreement = () => may("read_agreement");
export const snapshotPending = () => !S.feed || S.feed.pending;
export const wijkName = (code) => (code ? S.wijkNames.get(code) || code : "wijk onbekend");

/** The offence, or else the category: "Woninginbraak", "Vermissing", "Incident". */
export function incidentWhat(incident) {
  return incident.offence ? label("offences", incident.offence) : label("categories", incident.category, "Incident");
}

/** The triage could not place the report's text ("niet herkend"): an operator should read it. */
export function isUnrecognised(report) {
  return (report.reasons || []).some((r) => r.code === "unrecognised");
}
