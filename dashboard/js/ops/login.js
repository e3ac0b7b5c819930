// Signing in and out of the console (the user and the vocabulary), and back to the form when the session ends.

import { $, api, ApiError, loadVocabulary, toast, VocabularyError } from "../common.js";
import { updateTitle } from "./attention.js";
import { forgetWork, NAME_KEY, S, TOKEN_KEY } from "./state.js";

/** A session kept in this tab (after a reload) goes straight in; returns whether it did. */
export async function resumeSession() {
  S.token = sessionStorage.getItem(TOKEN_KEY);
  if (!S.token) {
    showLogin();
    return false;
  }
  try {
    await loadSession(sessionStorage.getItem(NAME_KEY));
    return true;
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (error instanceof VocabularyError) showLogin(error.message_nl);
    else if (error instanceof ApiError && error.status === 0) showLogin("Geen verbinding met de server. Probeer het zo opnieuw.");
    else showLogin();
    return false;
  }
}

/** Who is signed in, and the labels and permissions every view renders from. */
async function loadSession(displayName) {
  const [me, vocabulary] = await Promise.all([api("/api/v1/auth/me"), loadVocabulary()]);
  me.display = displayName || me.name;
  S.me = me;
  S.vocabulary = vocabulary;
}

export function showLogin(message = "") {
  if (S.feed) S.feed.stop();
  S.feed = null;
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  const error = $("#login-error");
  error.hidden = !message;
  error.textContent = message;
  $("#login-username").focus();
}

/** Wires the login form and the logout button; `enter` opens the console after a sign-in. */
export function listenForLogin(enter) {
  $("#login-form").addEventListener("submit", (event) => signIn(event, enter));
  $("#logout").addEventListener("click", signOut);
}

async function signIn(event, enter) {
  event.preventDefault();
  const username = $("#login-username").value.trim();
  const password = $("#login-password").value;
  const error = $("#login-error");
  if (!username || !password) {
    error.textContent = "Vul uw gebruikersnaam en wachtwoord in.";
    error.hidden = false;
    return;
  }
  const button = $("#login-submit");
  button.disabled = true;
  button.textContent = "Aanmelden…";
  try {
    const result = await api("/api/v1/auth/login", { method: "POST", json: { username, password } });
    S.token = result.access_token;
    sessionStorage.setItem(TOKEN_KEY, S.token);
    sessionStorage.setItem(NAME_KEY, result.display_name);
    await loadSession(result.display_name);
    $("#login-password").value = "";
    enter();
  } catch (problem) {
    error.textContent = problem instanceof ApiError ? problem.message_nl : "Aanmelden mislukt.";
    error.hidden = false;
  } finally {
    button.disabled = false;
    button.textContent = "Aanmelden";
  }
}

async function signOut() {
  try {
    await api("/api/v1/auth/logout", { method: "POST" });
  } catch {
    // the session may already be gone; we forget it anyway
  }
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(NAME_KEY);
  S.token = null;
  S.me = null;
  S.rows.clear();
  S.vocabulary = null;
  S.selected = null;
  S.detail = null;
  forgetWork();
  updateTitle();
  showLogin("U bent afgemeld.");
}

export function expireSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin("Uw sessie is verlopen. Meld u opnieuw aan.");
}

/** A 401 anywhere means the session is gone: back to the login form. */
export function handleError(error, what = "Actie") {
  if (error instanceof ApiError && error.status === 401) {
    expireSession();
    return;
  }
  const text = error instanceof ApiError ? error.message_nl : String(error);
  toast(`${what} mislukt: ${text}`, "error", 9000);
}
