// Shared helpers for the wall, the console and the beheerders' portal: API calls that understand
// problem+json, the vocabulary (Dutch labels, permissions) from GET /api/v1/meta, the live event stream
// with reconnect and catch-up, snapshot-then-live state, and Amsterdam time.
// No framework, no build step: plain ES modules served from /static/js/.

export const TZ = "Europe/Amsterdam";

// ---- time, always in Europe/Amsterdam ------------------------------------------------------------

const timeFmt = new Intl.DateTimeFormat("nl-NL", { timeZone: TZ, hour: "2-digit", minute: "2-digit" });
const clockFmt = new Intl.DateTimeFormat("nl-NL", {
  timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const dateTimeFmt = new Intl.DateTimeFormat("nl-NL", {
  timeZone: TZ, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
});
const dayFmt = new Intl.DateTimeFormat("nl-NL", { timeZone: TZ, weekday: "long", day: "numeric", month: "long" });
const dayKeyFmt = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });

export function parseTime(value) {
  return value instanceof Date ? value : new Date(value);
}

/** "14:05" in Amsterdam. */
export function fmtTime(value) {
  return value ? timeFmt.format(parseTime(value)) : "–";
}

export function fmtClock(value = new Date()) {
  return clockFmt.format(value);
}

export function fmtDay(value = new Date()) {
  return dayFmt.format(value);
}

/** "14:05" for today, "3 dec. 14:05" otherwise (Amsterdam days). */
export function fmtDateTime(value) {
  if (!value) return "–";
  const date = parseTime(value);
  return dayKeyFmt.format(date) === dayKeyFmt.format(new Date()) ? timeFmt.format(date) : dateTimeFmt.format(date);
}

/** Elapsed time since `value`: "0:42", "12:05" (minutes:seconds) up to an hour, then "1 u 12 m". */
export function fmtAge(value, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - parseTime(value).getTime()) / 1000));
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} u ${String(minutes % 60).padStart(2, "0")} m`;
  return `${Math.floor(minutes / 1440)} dagen`;
}

/** A list's size in Dutch: "1.234", or "10.000+" when the server stopped counting (`total_capped`). */
export function fmtTotal(total, capped = false) {
  return `${Number(total).toLocaleString("nl-NL")}${capped ? "+" : ""}`;
}

export function ageSeconds(value, now = Date.now()) {
  return Math.max(0, Math.floor((now - parseTime(value).getTime()) / 1000));
}

// ---- DOM ----------------------------------------------------------------------------------------

/** Builds an element; text children become text nodes (never HTML), so report texts cannot inject markup. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    // Through the CSSOM: the Content-Security-Policy (style-src 'self') refuses style attributes.
    else if (key === "style") node.style.cssText = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  appendChildren(node, children);
  return node;
}

function appendChildren(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendChildren(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, String(value));
  }
  appendChildren(node, children);
  return node;
}

/** Replaces a node's children, skipping null/false (replaceChildren would print them as text). */
export function fill(node, ...children) {
  node.replaceChildren();
  appendChildren(node, children);
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

// ---- API ----------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, title, detail, body) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.body = body || {};
  }

  /** A sentence for the user, in Dutch. */
  get message_nl() {
    if (this.status === 0) return "Geen verbinding met de server. Controleer de verbinding en probeer het opnieuw.";
    const parts = [this.title, this.detail].filter(Boolean);
    const errors = Array.isArray(this.body.errors)
      ? this.body.errors.slice(1).map((e) => `veld '${e.field}' ${e.message}`)
      : [];
    return [...parts, ...errors].join(" – ") || `Fout ${this.status}`;
  }
}

/**
 * Calls the API. `token` adds a bearer header (beheerder, wall); without it the session cookie (staff)
 * authenticates. `json` sends JSON, `form` sends FormData. Problems (RFC 9457) become ApiError. `counted`: the
 * answer is a plain list whose number is in the X-Total-Count header; gives {items, total}.
 */
export async function api(path, { method = "GET", token = null, json, form, headers = {}, signal, counted = false } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin", signal };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError(0, "Geen verbinding", null, {});
  }
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json().catch(() => ({})) : await response.text();
  if (!response.ok) {
    const problem = typeof body === "object" && body ? body : {};
    throw new ApiError(response.status, problem.title || `Fout ${response.status}`, problem.detail, problem);
  }
  if (counted) return { items: body, total: Number(response.headers.get("X-Total-Count") ?? body.length) };
  return body;
}

// ---- the vocabulary: codes, Dutch labels and permissions from GET /api/v1/meta -------------------

const VOCABULARY_LISTS = ["urgencies", "categories", "offences", "follow_ups", "results", "report_statuses",
  "incident_statuses", "broadcast_kinds", "message_kinds", "channels", "roles", "operation_kinds", "operation_statuses",
  "participant_statuses"];

/** The meta endpoint could not be read, so labels, option lists and permissions are unknown. */
export class VocabularyError extends ApiError {
  constructor(cause) {
    super(cause.status ?? 0, cause.title, cause.detail, cause.body);
    this.cause = cause;
  }

  get message_nl() {
    const why = this.cause instanceof ApiError ? this.cause.message_nl : String(this.cause.message || this.cause);
    return `De woordenlijst van de server (urgenties, categorieën, delicten en rollen) kon niet worden geladen: ${why}`;
  }
}

/** The enumerations of GET /api/v1/meta, each list in the server's order (urgencies most urgent first). */
export class Vocabulary {
  constructor(meta) {
    const missing = VOCABULARY_LISTS.filter((name) => !Array.isArray(meta && meta[name]));
    if (!meta || typeof meta.permissions !== "object" || meta.permissions === null) missing.push("permissions");
    if (missing.length) throw new Error(`onvolledig antwoord, ${missing.join(", ")} ontbreekt`);
    this.lists = Object.fromEntries(VOCABULARY_LISTS.map((name) => [name, meta[name]]));
    this.labels = Object.fromEntries(VOCABULARY_LISTS.map((name) =>
      [name, new Map(meta[name].map((entry) => [entry.code, entry.label]))]));
    this.permissions = meta.permissions;
  }

  /** The Dutch label of `code` in `list` ("offences", "roles", ...); a code the server did not list shows as is. */
  label(list, code, empty = "–") {
    if (code === null || code === undefined || code === "") return empty;
    return this.labels[list].get(code) ?? String(code);
  }

  /** [{code, label}] in the server's order, for option lists and buttons. */
  options(list) {
    return this.lists[list];
  }

  /** 0 for the most urgent; an urgency the server did not list sorts last. */
  urgencyRank(code) {
    const index = this.lists.urgencies.findIndex((urgency) => urgency.code === code);
    return index < 0 ? this.lists.urgencies.length : index;
  }

  /** Whether `role` has `permission` ("decide", "send_alerts", "read_queue"). */
  allows(permission, role) {
    return (this.permissions[permission] || []).includes(role);
  }
}

/** Fetches the vocabulary, once per sign-in; any failure becomes a VocabularyError that says so in Dutch. */
export async function loadVocabulary(token = null) {
  try {
    return new Vocabulary(await api("/api/v1/meta", { token }));
  } catch (error) {
    throw new VocabularyError(error);
  }
}

// ---- the live event stream ----------------------------------------------------------------------

/**
 * One connection to WS /ws/events that never gives up: a hello with the token and the last event id,
 * then every event in order. On a close or a silent connection it reconnects with exponential backoff
 * (plus jitter) and asks for the events after the last one it saw, so nothing is missed and nothing is
 * applied twice. Close code 4401 (bad token) stops it: retrying would not help.
 *
 * Callbacks: onWelcome(welcome, {resumed, reset}), onEvent(event), onState(state, detail), onResync().
 * States: "connecting", "open", "reconnecting", "unauthorized", "stopped".
 */
export class EventStream {
  constructor({ token, onEvent, onWelcome, onState, onResync, maxBackoffMs = 15000, lastEventId = null }) {
    this.token = token;
    this.onEvent = onEvent || (() => {});
    this.onWelcome = onWelcome || (() => {});
    this.onState = onState || (() => {});
    this.onResync = onResync || (() => {});
    this.maxBackoffMs = maxBackoffMs;
    this.lastEventId = lastEventId;
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.watchdog = null;
    this.stopped = false;
    this.pingInterval = 20;
    this.lastMessageAt = Date.now();
    this.state = "idle";
    this._online = () => this.reconnectNow();
    // The browser knows before TCP does: an "offline" socket is dead, so reconnect (with backoff) at once.
    this._offline = () => { if (this.socket) this.socket.close(4000, "offline"); };
    window.addEventListener("online", this._online);
    window.addEventListener("offline", this._offline);
  }

  start() {
    this.stopped = false;
    this._connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    window.removeEventListener("online", this._online);
    window.removeEventListener("offline", this._offline);
    if (this.socket) this.socket.close(1000, "klaar");
    this._setState("stopped");
  }

  /** Skips the backoff wait (the browser came back online, or the user asked). */
  reconnectNow() {
    if (this.stopped || this.state === "open" || this.state === "unauthorized") return;
    clearTimeout(this.timer);
    this._connect();
  }

  _setState(state, detail = {}) {
    this.state = state;
    this.onState(state, detail);
  }

  _connect() {
    clearTimeout(this.timer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close();
    }
    this._setState(this.attempt === 0 && this.lastEventId === null ? "connecting" : "reconnecting",
      { attempt: this.attempt });
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}/ws/events`);
    } catch {
      this._scheduleReconnect();
      return;
    }
    this.socket = socket;
    let welcomed = false;
    socket.onopen = () => {
      const hello = { type: "hello", token: this.token };
      if (this.lastEventId !== null) hello.last_event_id = this.lastEventId;
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = (message) => {
      this.lastMessageAt = Date.now();
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data.type === "welcome") {
        welcomed = true;
        this.attempt = 0;
        this.pingInterval = data.ping_interval || this.pingInterval;
        const resumed = this.lastEventId !== null;
        const reset = resumed && data.last_event_id < this.lastEventId;
        if (!resumed || reset) this.lastEventId = data.last_event_id;
        this._setState("open");
        this._startWatchdog();
        this.onWelcome(data, { resumed, reset });
      } else if (data.type === "ping") {
        // keep-alive; lastMessageAt is enough
      } else if (data.type === "resync") {
        // The server dropped our queue and now sends the events after its last delivered one itself.
        this.onResync(data);
      } else if (typeof data.id === "number") {
        if (this.lastEventId !== null && data.id <= this.lastEventId) return;
        this.lastEventId = data.id;
        this.onEvent(data);
      }
    };
    socket.onclose = (event) => {
      clearInterval(this.watchdog);
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (event.code === 4401) {
        this._setState("unauthorized", { reason: event.reason });
        return;
      }
      if (!welcomed) this.attempt += 1;
      else this.attempt = 1;
      this._scheduleReconnect();
    };
    socket.onerror = () => {};
  }

  _scheduleReconnect() {
    const base = Math.min(this.maxBackoffMs, 500 * 2 ** Math.max(0, this.attempt - 1));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this._setState("reconnecting", { attempt: this.attempt, delayMs: delay, retryAt: Date.now() + delay });
    this.timer = setTimeout(() => this._connect(), delay);
  }

  /** A connection that stays silent for more than two ping intervals is dead even if TCP says otherwise. */
  _startWatchdog() {
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastMessageAt > this.pingInterval * 2500 && this.socket) {
        const dead = this.socket;
        this.socket = null;
        dead.onclose = null;
        dead.close();
        clearInterval(this.watchdog);
        this.attempt = 1;
        this._scheduleReconnect();
      }
    }, 5000);
  }
}

// ---- snapshot, then live ------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A screen's live state: a snapshot over REST, then the stream's events on top of it. Events that belong
 * to the snapshot (`holds(event)`) and arrive while one loads are held back and handed over with it, in
 * order; other events pass straight through. A welcome on a fresh (or reset) connection and a resync load
 * a new snapshot; `reloadOnResume` also does so after a resumed connection. A newer load supersedes one
 * still running (a resync, a filter change); a failed load is tried again with backoff for as long as
 * `onSnapshotError(error)` returns true.
 *
 * Callbacks: loadSnapshot() -> snapshot, onSnapshot(snapshot, heldEvents), onEvent(event),
 * onSnapshotError(error) -> retry?, onWelcome(welcome, {resumed, reset}), onState(state, detail).
 */
export class LiveFeed {
  constructor({ token, maxBackoffMs, reloadOnResume = false, holds, loadSnapshot, onSnapshot, onEvent,
    onSnapshotError = () => true, onWelcome = () => {}, onState }) {
    Object.assign(this, { holds, loadSnapshot, onSnapshot, onEvent, onSnapshotError });
    this.pending = true;
    this.held = [];
    this.generation = 0;
    this.stream = new EventStream({
      token, maxBackoffMs, onState,
      onWelcome: (welcome, connection) => {
        if (reloadOnResume || !connection.resumed || connection.reset) this.reload();
        onWelcome(welcome, connection);
      },
      onResync: () => this.reload(),
      onEvent: (event) => this._receive(event),
    });
  }

  start() {
    this.stream.start();
    return this;
  }

  stop() {
    this.generation += 1;
    this.held = [];
    this.stream.stop();
  }

  /** Loads a new snapshot; the events for it are held until it has arrived. */
  async reload() {
    const generation = ++this.generation;
    this.pending = true;
    for (let attempt = 0; ; attempt += 1) {
      let snapshot;
      try {
        snapshot = await this.loadSnapshot();
      } catch (error) {
        if (generation !== this.generation || !this.onSnapshotError(error)) return;
        await sleep(Math.min(15000, 1000 * 2 ** attempt));
        if (generation !== this.generation) return;
        continue;
      }
      if (generation !== this.generation) return;
      this.pending = false;
      this.onSnapshot(snapshot, this.held.splice(0));
      return;
    }
  }

  _receive(event) {
    if (this.pending && this.holds(event)) this.held.push(event);
    else this.onEvent(event);
  }
}

/** Text and class for a connection indicator. */
export function connectionText(state, detail = {}) {
  switch (state) {
    case "open":
      return ["verbonden", "ok"];
    case "connecting":
      return ["verbinden…", "wait"];
    case "reconnecting": {
      const seconds = detail.retryAt ? Math.max(0, Math.round((detail.retryAt - Date.now()) / 1000)) : null;
      return [seconds ? `opnieuw verbinden… (${seconds} s)` : "opnieuw verbinden…", "bad"];
    }
    case "unauthorized":
      return ["toegang geweigerd", "bad"];
    default:
      return ["niet verbonden", "bad"];
  }
}

/** Calls `fn` at most once per `ms`, always with the latest arguments, and at the end of a burst. */
export function throttle(fn, ms) {
  let timer = null;
  let last = 0;
  return (...args) => {
    const wait = last + ms - Date.now();
    clearTimeout(timer);
    if (wait <= 0) {
      last = Date.now();
      fn(...args);
    } else {
      timer = setTimeout(() => {
        last = Date.now();
        fn(...args);
      }, wait);
    }
  };
}

/** Reads `#token=...` (and other key=value pairs) from the fragment, and removes the token from it. */
export function takeFragmentToken() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = params.get("token");
  if (token) {
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return token;
}

/** Shows a short message in an aria-live region. */
export function toast(message, kind = "info", ms = 6000) {
  let region = document.getElementById("toasts");
  if (!region) {
    region = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  const item = h("div", { class: `toast toast-${kind}`, title: "Klik om te sluiten", onclick: () => item.remove() }, message);
  region.append(item);
  setTimeout(() => item.remove(), ms);
  return item;
}
