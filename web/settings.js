// What the page remembers across reloads: the form's fields and choices in localStorage, the access
// token only in sessionStorage (this tab), and the guest's session so that it can be resumed.

const SETTINGS_KEY = 'guest-relay.settings';
const TOKEN_KEY = 'guest-relay.token';
const SESSION_KEY = 'guest-relay.session';

function read(storage, key) {
  try {
    return JSON.parse(storage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

/** `{wsUrl, firstName, email, showSeq, follow, contextData}`, each possibly absent. */
export function loadSettings() {
  const settings = read(localStorage, SETTINGS_KEY);
  return settings !== null && typeof settings === 'object' ? settings : {};
}

export function saveSettings(patch) {
  localStorage.setItem(SETTINGS_KEY, JSON.stringify({ ...loadSettings(), ...patch }));
}

export function loadToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function saveToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** `{sessionId, lastSeq}` of the session to resume, or null. */
export function loadSession() {
  const session = read(localStorage, SESSION_KEY);
  return typeof session?.sessionId === 'string' ? session : null;
}

export function saveSession(sessionId, lastSeq) {
  if (sessionId === undefined) localStorage.removeItem(SESSION_KEY);
  else localStorage.setItem(SESSION_KEY, JSON.stringify({ sessionId, lastSeq }));
}
