// A new P1, or an incident raised to P1, asks for attention until an operator opens it: a tone (which can be
// turned off), the tab's title "(2) P1 - Console", a highlight at the top of the queue, and a browser
// notification while the tab is in the background (when the operator allowed them).

import { $ } from "../common.js";
import { select } from "./queue.js";
import { ATTENTION_KEY, incidentWhat, S, wijkName } from "./state.js";

const BASE_TITLE = document.title;
const SOUND_KEY = "meldkamer.ops.sound";
let audio = null;

const soundOn = () => localStorage.getItem(SOUND_KEY) !== "off";

/** Open, P1, and nobody is on it yet (no claim, no follow-up). */
export function isUnhandledP1(row) {
  return row.status === "open" && row.urgency === "P1" && !row.claimed_by && !row.follow_up;
}

export function initAttention() {
  try {
    S.attention = new Set(JSON.parse(sessionStorage.getItem(ATTENTION_KEY) || "[]"));
  } catch {
    S.attention = new Set();
  }
  renderControls();
  updateTitle();
}

/** What the console knew of every incident in a snapshot: those are not new. */
export function rememberAll(rows) {
  for (const row of rows) S.known.set(row.id, row.urgency);
}

/**
 * An incident event arrived: a new P1, or one raised to P1 from another urgency, asks for attention. An update
 * of an incident this console never heard of (a filter kept it out of the snapshot) is not taken as new.
 */
export function noticeEvent(type, row) {
  const before = S.known.get(row.id);
  S.known.set(row.id, row.urgency);
  const arrived = type === "incident.created" || (before !== undefined && before !== "P1");
  if (arrived && isUnhandledP1(row) && row.id !== S.selected) announce(row);
  else if (S.attention.has(row.id) && !isUnhandledP1(row)) settle(row.id);
}

/** The operator opened it (or someone took it on): it no longer asks for attention. */
export function settle(id) {
  if (!S.attention.delete(id)) return;
  persist();
  updateTitle();
}

function announce(row) {
  S.attention.add(row.id);
  persist();
  updateTitle();
  playTone();
  notify(row);
}

function persist() {
  sessionStorage.setItem(ATTENTION_KEY, JSON.stringify([...S.attention]));
}

/** "(2) P1 - Console" while two new P1s wait to be opened; the page's own title otherwise. */
export function updateTitle() {
  const count = S.attention.size;
  document.title = count ? `(${count}) P1 - Console` : BASE_TITLE;
}

// ---- the tone, made with the Web Audio API (no sound file) --------------------------------------

/** Browsers start audio only after a user gesture: the first click or key prepares it. */
function unlockAudio() {
  if (!soundOn() || audio) return;
  try {
    audio = new AudioContext();
  } catch {
    audio = null;
  }
}

function playTone() {
  if (!soundOn()) return;
  unlockAudio();
  if (!audio) return;
  if (audio.state === "suspended") audio.resume().catch(() => {});
  const start = audio.currentTime + 0.02;
  [880, 660, 880].forEach((frequency, index) => {
    const at = start + index * 0.22;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(at);
    oscillator.stop(at + 0.21);
  });
}

// ---- the browser notification, only while the tab is in the background -------------------------

function notify(row) {
  if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
  const notification = new Notification(`Nieuwe P1: ${incidentWhat(row)} · ${wijkName(row.wijkcode)}`, {
    body: row.text || "", tag: `incident-${row.id}`, requireInteraction: true,
  });
  notification.onclick = () => {
    window.focus();
    select(row.id, { focus: true });
    notification.close();
  };
}

// ---- the controls in the top bar -----------------------------------------------------------------

function renderControls() {
  const sound = $("#sound-toggle");
  sound.setAttribute("aria-pressed", String(soundOn()));
  sound.textContent = soundOn() ? "Geluid aan" : "Geluid uit";
  const allow = $("#notify-button");
  allow.hidden = !("Notification" in window) || Notification.permission !== "default";
}

$("#sound-toggle").addEventListener("click", () => {
  localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
  renderControls();
  unlockAudio();
});
$("#notify-button").addEventListener("click", async () => {
  if ("Notification" in window) await Notification.requestPermission();
  renderControls();
});
document.addEventListener("pointerdown", unlockAudio, { once: true });
document.addEventListener("keydown", unlockAudio, { once: true });
