// The guest pane: one WebSocket speaking the public protocol (docs/protocol.md). It starts or resumes a
// session, shows the transcript with its statuses, and says what state the session and the connection
// are really in: an ended or read-only session, a stack that restarted, an error and the action it
// belongs to.

import { $, el, scrollToEnd, showError, utf8Bytes } from './dom.js';
import { entryNode } from './render.js';
import { safeLinkUrl } from './safe-url.js';
import { loadSession, saveSession, saveSettings, saveToken } from './settings.js';
import { uploadRefusalText } from './upload-refusal.js';

/** Reconnect backoff: full jitter up to min(cap, base·2^attempt); the count resets after MIN_UPTIME_MS. */
const BACKOFF = { baseMs: 500, capMs: 10_000 };
/** A socket must stay open this long before it counts as a recovery (no connect/drop loop at full speed). */
const MIN_UPTIME_MS = 5_000;
/** After this many failed opens in a row without a word from the stack, say what to check. */
const HINT_AFTER_FAILURES = 3;

/** Where an error of each action is shown; others go to the pane's general line. */
const ERROR_PLACES = {
  send: 'send-error',
  typing: 'send-error',
  context: 'context-error',
  upload: 'upload-error',
  connect: 'guest-error',
  end: 'guest-error',
};
const ERROR_IDS = ['guest-error', 'send-error', 'context-error', 'upload-error'];

/** Session states in which the guest can act. */
const LIVE = new Set(['starting', 'active']);

export function startGuestPane(page) {
  const guest = {
    ws: undefined,
    /** The user wants a connection: a close is followed by a reconnect. */
    wanted: false,
    sessionId: undefined,
    lastSeq: 0,
    entries: new Map(),
    /** none | starting | active | readOnly | ended | gone */
    state: 'none',
    attempt: 0,
    failures: 0,
    stableTimer: undefined,
    reconnectTimer: undefined,
    countdownTimer: undefined,
    typingTimer: undefined,
    lastTypingSent: 0,
    maxContextBytes: 2048,
    /** uploadId → {file, settled}: `settled` once Genesys said `uploaded` or `uploadFailed`. */
    uploads: new Map(),
    /** Every session this tab has had, newest last (the agent pane lists them by name). */
    known: [],
    listeners: new Set(),
  };

  // ---------------------------------------------------------------- state on screen

  function setConnState(text) {
    $('conn-state').textContent = text;
  }

  /** An action's error, in the place that action's controls are. */
  function actionError(action, message) {
    showError(ERROR_PLACES[action] ?? 'guest-error', message);
    if (action === 'upload') {
      $('upload-progress').hidden = true;
      $('upload-state').textContent = '';
    }
  }

  /** Something the user did succeeded: earlier errors of their actions are no longer true. */
  function actionSucceeded() {
    for (const id of ERROR_IDS) showError(id, '');
  }

  /**
   * The session's state decides what can be done: a live session has its composer; an ended, read-only
   * or vanished one says why and offers a new session instead.
   */
  function setSessionState(state, why) {
    guest.state = state;
    const live = LIVE.has(state);
    for (const id of ['message', 'send', 'file', 'context-apply', 'end-session']) $(id).disabled = !live;
    $('attach-label').classList.toggle('disabled', !live);
    $('message').placeholder = live
      ? 'Type a message (Shift+Enter for a new line)'
      : state === 'none'
        ? 'Start a session to write'
        : 'This session is over: start a new one';
    const banner = $('session-banner');
    banner.hidden = live || state === 'none';
    $('session-banner-text').textContent = why ?? '';
    $('resume-session').disabled = loadSession() === null;
  }

  function setSessionId(sessionId) {
    guest.sessionId = sessionId;
    $('session-id').textContent = sessionId ?? 'none';
    if (sessionId !== undefined && !guest.known.includes(sessionId)) guest.known.push(sessionId);
    for (const listener of guest.listeners) listener(sessionId);
  }

  // ---------------------------------------------------------------- connection

  function socketUrl() {
    const url = new URL($('ws-url').value);
    url.searchParams.set('token', $('access-token').value);
    return url.toString();
  }

  /** Opens the socket; `mode` is 'new' (start a session) or 'resume'. */
  function open(mode) {
    clearTimeout(guest.reconnectTimer);
    clearInterval(guest.countdownTimer);
    if (mode === 'resume' && guest.sessionId === undefined) {
      showError('guest-error', 'Nothing to resume: this browser has no session stored. Start a new session.');
      return;
    }
    if (guest.ws) {
      guest.ws.onclose = null;
      guest.ws.close();
      guest.ws = undefined;
    }
    guest.wanted = true;
    setConnState('connecting…');
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (error) {
      guest.wanted = false;
      setConnState('not connected');
      showError(
        'guest-error',
        `Cannot connect: ${error.message}. Check the WebSocket URL under "Stack and guest".`,
      );
      return;
    }
    guest.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      guest.failures = 0;
      setConnState('connected');
      // The backoff starts over only once the socket has stayed up (not on every open).
      guest.stableTimer = setTimeout(() => {
        guest.attempt = 0;
      }, MIN_UPTIME_MS);
      if (mode === 'new') {
        const guestInfo = {};
        if ($('guest-first-name').value) guestInfo.firstName = $('guest-first-name').value;
        if ($('guest-email').value) guestInfo.email = $('guest-email').value;
        const frame = { action: 'connect', clientMessageId: crypto.randomUUID() };
        if (Object.keys(guestInfo).length > 0) frame.guestInfo = guestInfo;
        send(frame);
      } else {
        send({ action: 'connect', sessionId: guest.sessionId, afterSequenceId: guest.lastSeq });
      }
      // A later reconnect resumes whatever this one started.
      mode = 'resume';
    };
    ws.onmessage = (message) => {
      page.frame('in', message.data);
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      handle(event);
    };
    ws.onclose = (close) => {
      clearTimeout(guest.stableTimer);
      guest.ws = undefined;
      if (!guest.wanted) {
        setConnState('not connected');
        return;
      }
      if (!opened) guest.failures += 1;
      void afterDrop(close.code, opened);
    };
  }

  /**
   * The socket closed without being asked to. Before retrying, ask the page's own server what happened:
   * a stack that does not answer is down; one that answers with another token has restarted, and the
   * sessions it held in memory are gone.
   */
  async function afterDrop(code, opened) {
    const stack = await page.checkStack();
    // Meanwhile the user may have started or resumed a session (a new socket), or left: nothing to do.
    if (!guest.wanted || guest.ws !== undefined) return;
    if (stack === 'restarted') {
      guest.wanted = false;
      setConnState('not connected');
      forgetSession();
      setSessionState(
        'gone',
        'The stack restarted: the sessions it held are gone (local mode keeps them in memory). Start a new session; the page has the new access token.',
      );
      return;
    }
    let hint = '';
    if (stack === 'down') hint = ' The stack does not answer: is `npm start` still running?';
    else if (!opened && guest.failures >= HINT_AFTER_FAILURES)
      hint =
        ' The socket is refused before it opens: check the WebSocket URL, and that the access token is valid and not expired.';
    scheduleReconnect(code, hint);
  }

  function scheduleReconnect(code, hint) {
    const cap = Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** guest.attempt);
    const delay = Math.round(Math.random() * cap);
    guest.attempt += 1;
    const due = Date.now() + delay;
    const tick = () => {
      const left = Math.max(0, due - Date.now());
      setConnState(`disconnected (${code}); reconnecting in ${(left / 1000).toFixed(1)} s`);
    };
    tick();
    showError('guest-error', hint.trim());
    guest.countdownTimer = setInterval(tick, 100);
    guest.reconnectTimer = setTimeout(() => {
      clearInterval(guest.countdownTimer);
      open(guest.sessionId === undefined ? 'new' : 'resume');
    }, delay);
  }

  function send(frame) {
    const text = JSON.stringify(frame);
    if (!guest.ws || guest.ws.readyState !== WebSocket.OPEN) {
      actionError(frame.action, 'Not connected: wait for the reconnect, or start a session.');
      return false;
    }
    guest.ws.send(text);
    page.frame('out', text);
    return true;
  }

  /** The raw console's way out: the text as typed, valid JSON or not. */
  function sendRaw(text) {
    if (!guest.ws || guest.ws.readyState !== WebSocket.OPEN) return false;
    guest.ws.send(text);
    page.frame('out', text);
    return true;
  }

  function forgetSession() {
    setSessionId(undefined);
    guest.lastSeq = 0;
    saveSession(undefined);
  }

  // ---------------------------------------------------------------- events

  function handle(event) {
    switch (event.type) {
      case 'connect':
        if (guest.sessionId !== event.sessionId) {
          guest.entries.clear();
          guest.lastSeq = 0;
          $('transcript').replaceChildren();
        }
        setSessionId(event.sessionId);
        guest.maxContextBytes = event.constraints.maxCustomDataBytes;
        $('settings').open = false;
        setConnState(`connected (${event.status}${event.queued ? ', queued: no worker yet' : ''})`);
        saveSession(guest.sessionId, guest.lastSeq);
        if (event.status === 'readOnly') {
          setSessionState(
            'readOnly',
            'The agent ended this conversation and the deployment keeps it read-only.',
          );
        } else {
          setSessionState(event.status === 'active' ? 'active' : 'starting');
          actionSucceeded();
        }
        updateBudget();
        return;
      case 'message':
        upsert(event);
        if (event.direction === 'guest' && !event.replay) actionSucceeded();
        return;
      case 'status':
      case 'readReceipt': {
        const entry = guest.entries.get(event.sequenceId);
        if (entry) {
          entry.status = event.status;
          if (event.failure) entry.failure = event.failure;
          render(entry);
        }
        return;
      }
      case 'typing':
        showTyping(event);
        return;
      case 'presence':
        onPresence(event);
        return;
      case 'ack':
        if (event.action === 'end' || event.action === 'upload') actionSucceeded();
        return;
      case 'upload':
        actionSucceeded();
        putFile(event);
        return;
      case 'uploaded': {
        const upload = guest.uploads.get(event.uploadId);
        if (upload) upload.settled = true;
        $('upload-state').textContent = `Uploaded ${upload?.file.name ?? ''}`;
        $('upload-progress').value = 100;
        return;
      }
      case 'uploadFailed': {
        const upload = guest.uploads.get(event.uploadId);
        if (upload) upload.settled = true;
        actionError('upload', `Upload failed: ${event.code}${event.message ? `: ${event.message}` : ''}`);
        return;
      }
      case 'context':
        actionSucceeded();
        $('context-budget').textContent = `${event.bytes} of ${event.maxBytes} bytes`;
        $('context-state').textContent =
          event.state === 'applied' ? '(sent to Genesys)' : '(stored; goes with the next message)';
        return;
      case 'upstream':
        onUpstream(event);
        return;
      case 'sessionEnded':
        onSessionEnded(event);
        return;
      case 'error':
        onError(event);
        return;
      default:
        return;
    }
  }

  function onPresence(event) {
    if (event.presence !== 'disconnect' || event.from === 'guest') {
      note(`${event.from} ${event.presence}`);
      return;
    }
    if (event.readOnly) {
      note(`The ${event.from} ended the conversation (read-only now).`);
      setConnState('connected (read-only)');
      setSessionState('readOnly', 'The agent ended this conversation and the deployment keeps it read-only.');
    } else {
      note(`The ${event.from} left the conversation; a new message starts a new one.`);
      setConnState('connected (the conversation was closed)');
    }
  }

  function onUpstream(event) {
    // The Genesys side of the session: failing (why, next attempt), given up on, or back.
    if (event.state === 'connected') {
      setConnState('connected (Genesys is back)');
      showError('guest-error', '');
      note(event.message);
      return;
    }
    setConnState(
      `connected; Genesys ${event.state === 'retrying' ? 'unreachable, retrying' : 'unavailable'}`,
    );
    showError('guest-error', `Genesys ${event.reason ?? ''} (${event.detail ?? ''}): ${event.message}`);
  }

  function onSessionEnded(event) {
    const why =
      event.message ??
      {
        guest: 'You ended the session.',
        agent: 'The agent closed the conversation.',
        expired: "The session's time ran out at Genesys.",
        cleared: 'The conversation was cleared.',
        error: 'The session ended with an error.',
      }[event.reason];
    note(`Session ended (${event.reason}${event.code ? `: ${event.code}` : ''}).`);
    setConnState(guest.ws ? 'connected (no session: it ended)' : 'not connected');
    forgetSession();
    setSessionState('ended', why ?? `The session ended (${event.reason}).`);
  }

  function onError(event) {
    if (event.code === 'session_not_found' && event.action === 'connect') {
      guest.wanted = false;
      guest.ws?.close();
      forgetSession();
      setSessionState(
        'gone',
        'This session no longer exists here (the stack restarted, or it belongs to another team). Start a new session.',
      );
      return;
    }
    if (
      (event.code === 'session_ended' || event.code === 'session_read_only') &&
      guest.state !== 'readOnly'
    ) {
      setConnState('connected (no session: it ended)');
      forgetSession();
      setSessionState('ended', event.message);
      return;
    }
    if (event.code === 'token_expired') {
      guest.wanted = false;
      setSessionState(
        'gone',
        `${event.message} Reload the page for a fresh one (local mode), or paste a new token.`,
      );
      return;
    }
    if (event.code === 'context_too_large' && event.details) {
      const { bytes, maxBytes, overflow } = event.details;
      $('context-state').textContent = '';
      $('context-budget').textContent = `needs ${bytes} of ${maxBytes} bytes`;
      actionError(
        'context',
        `Refused: this UI state needs ${bytes} bytes, ${overflow} more than the ${maxBytes} the deployment allows. Nothing was sent.`,
      );
      return;
    }
    actionError(event.action, `${event.code}: ${event.message}`);
  }

  function upsert(event) {
    const known = guest.entries.get(event.sequenceId);
    const entry = known ? Object.assign(known, event) : { ...event };
    guest.entries.set(event.sequenceId, entry);
    if (event.sequenceId > guest.lastSeq) {
      guest.lastSeq = event.sequenceId;
      saveSession(guest.sessionId, guest.lastSeq);
    }
    if (event.direction !== 'guest') hideTyping();
    render(entry);
  }

  function render(entry) {
    const item = entryNode(entry, { interactive: true, onReply: reply });
    item.id = `entry-${entry.sequenceId}`;
    const existing = document.getElementById(item.id);
    if (existing) {
      existing.replaceWith(item);
      return;
    }
    // Keep sequenceId order even when a replayed entry arrives after a live one.
    const list = $('transcript');
    const after = [...list.children].find((child) => Number(child.dataset.seq) > entry.sequenceId);
    if (after) list.insertBefore(item, after);
    else list.append(item);
    scrollToEnd(list);
  }

  function reply(type, text, payload) {
    if (!LIVE.has(guest.state)) return;
    send({ action: 'send', reply: { type, text, payload }, clientMessageId: crypto.randomUUID() });
  }

  function note(text) {
    const list = $('transcript');
    list.append(el('li', { class: 'note' }, text));
    scrollToEnd(list);
  }

  function showTyping(event) {
    clearTimeout(guest.typingTimer);
    if (event.state === 'off') {
      hideTyping();
      return;
    }
    $('typing').textContent = `${event.from === 'bot' ? 'The bot' : 'The agent'} is typing…`;
    $('typing').hidden = false;
    guest.typingTimer = setTimeout(hideTyping, event.durationMs || 5000);
  }

  function hideTyping() {
    clearTimeout(guest.typingTimer);
    $('typing').hidden = true;
  }

  // ---------------------------------------------------------------- actions

  function sendMessage(submit) {
    submit.preventDefault();
    // Line breaks are kept; only the ends are trimmed.
    const text = $('message').value.trim();
    if (text.length === 0 || !LIVE.has(guest.state)) return;
    showError('send-error', '');
    if (send({ action: 'send', text, clientMessageId: crypto.randomUUID() })) $('message').value = '';
  }

  function typing() {
    // The worker sends at most one typing notice per 5 s upstream; no need to send more.
    if (Date.now() - guest.lastTypingSent < 5000 || !LIVE.has(guest.state)) return;
    guest.lastTypingSent = Date.now();
    send({ action: 'typing' });
  }

  function attach() {
    const file = $('file').files?.[0];
    if (!file) return;
    const uploadId = crypto.randomUUID();
    guest.uploads.set(uploadId, { file, settled: false });
    showError('upload-error', '');
    $('upload-progress').value = 0;
    $('upload-progress').hidden = false;
    $('upload-state').textContent = `Asking for an upload slot for ${file.name}…`;
    send({
      action: 'upload',
      uploadId,
      filename: file.name,
      contentType: file.type || 'application/octet-stream',
      size: file.size,
      send: true,
    });
    $('file').value = '';
  }

  function putFile(slot) {
    const upload = guest.uploads.get(slot.uploadId);
    if (!upload) return;
    const { file } = upload;
    const url = safeLinkUrl(slot.url);
    if (url === undefined) {
      actionError('upload', 'Upload refused: the upload URL is not an http(s) URL.');
      return;
    }
    const request = new XMLHttpRequest();
    request.open('PUT', url);
    for (const [name, value] of Object.entries(slot.headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (progress) => {
      if (progress.lengthComputable)
        $('upload-progress').value = Math.round((progress.loaded / progress.total) * 100);
    };
    request.onload = () => {
      if (request.status >= 300)
        actionError('upload', uploadRefusalText(request.status, request.responseText));
      // Genesys may have answered before the browser reports the PUT done: its answer stays.
      else if (!upload.settled) $('upload-state').textContent = `Sent ${file.name}; waiting for Genesys…`;
    };
    request.onerror = () => actionError('upload', 'Upload failed: network error. Try the file again.');
    $('upload-state').textContent = `Uploading ${file.name}…`;
    request.send(file);
  }

  function contextValue() {
    const value = JSON.parse($('context-data').value);
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error('UI state must be a JSON object');
    return value;
  }

  /** A local estimate (keys and values flattened with dots, as the service does) until the service answers. */
  function estimateBytes(value, prefix = '') {
    let total = 0;
    for (const [key, inner] of Object.entries(value)) {
      const name = prefix ? `${prefix}.${key}` : key;
      if (inner !== null && typeof inner === 'object' && !Array.isArray(inner))
        total += estimateBytes(inner, name);
      else total += utf8Bytes(name) + utf8Bytes(typeof inner === 'string' ? inner : JSON.stringify(inner));
    }
    return total;
  }

  function updateBudget() {
    $('context-state').textContent = '';
    try {
      const bytes = estimateBytes(contextValue());
      $('context-budget').textContent = `about ${bytes} of ${guest.maxContextBytes} bytes`;
    } catch (error) {
      $('context-budget').textContent = error.message;
    }
  }

  function applyContext() {
    let data;
    try {
      data = contextValue();
    } catch (error) {
      actionError('context', `UI state: ${error.message}`);
      return;
    }
    showError('context-error', '');
    saveSettings({ contextData: $('context-data').value });
    send({
      action: 'context',
      data,
      flush: $('context-flush').checked,
      clientMessageId: crypto.randomUUID(),
    });
  }

  function startNew() {
    forgetSession();
    $('transcript').replaceChildren();
    guest.entries.clear();
    saveSettings({
      wsUrl: $('ws-url').value,
      firstName: $('guest-first-name').value,
      email: $('guest-email').value,
    });
    saveToken($('access-token').value);
    setSessionState('none');
    open('new');
  }

  // ---------------------------------------------------------------- wiring

  $('connect-form').addEventListener('submit', (submit) => {
    submit.preventDefault();
    startNew();
  });
  $('session-banner-new').addEventListener('click', startNew);
  $('resume-session').addEventListener('click', () => {
    const stored = loadSession();
    if (stored !== null) {
      setSessionId(stored.sessionId);
      guest.lastSeq = 0;
    }
    open('resume');
  });
  $('end-session').addEventListener('click', () => send({ action: 'end' }));
  $('composer').addEventListener('submit', sendMessage);
  $('message').addEventListener('input', typing);
  $('message').addEventListener('keydown', (key) => {
    if (key.key === 'Enter' && !key.shiftKey) sendMessage(key);
  });
  $('file').addEventListener('change', attach);
  $('context-data').addEventListener('input', updateBudget);
  $('context-apply').addEventListener('click', applyContext);

  setSessionState('none');
  updateBudget();

  return {
    get sessionId() {
      return guest.sessionId;
    },
    get knownSessions() {
      return [...guest.known];
    },
    onSession(listener) {
      guest.listeners.add(listener);
    },
    sendRaw,
    /** After a reload: resume the stored session, replaying its whole transcript. */
    resumeStored() {
      const stored = loadSession();
      if (stored === null) return false;
      setSessionId(stored.sessionId);
      guest.lastSeq = 0;
      open('resume');
      return true;
    },
  };
}
