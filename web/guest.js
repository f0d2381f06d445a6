// The guest pane: one WebSocket speaking the public protocol (docs/protocol.md). It starts or resumes a
// session and says what state the session and the connection are really in: an ended or read-only
// session, a stack that restarted, an error and the action it belongs to. This module holds the pane's
// state, its answers to the relay's events, the guest's actions and the wiring; the socket and its
// reconnects (connection.js), the transcript (transcript.js), uploads (uploads.js) and the UI state's
// flattening (context.js) are modules of their own.

import { startConnection } from './connection.js';
import { flattenContext } from './context.js';
import { $, showError } from './dom.js';
import { loadSession, saveSession, saveSettings, saveToken } from './settings.js';
import { startTranscript } from './transcript.js';
import { startUploads } from './uploads.js';

/** Where an error of each action is shown; others go to the pane's general line. */
const ERROR_PLACES = {
  send: 'send-error',
  typing: 'send-error',
  context: 'context-error',
  connect: 'guest-error',
  end: 'guest-error',
};
const ERROR_IDS = ['guest-error', 'send-error', 'context-error', 'upload-error'];

/** Session states in which the guest can act. */
const LIVE = new Set(['starting', 'active']);

export function startGuestPane(page) {
  const guest = {
    sessionId: undefined,
    lastSeq: 0,
    /** none | starting | active | readOnly | ended | gone */
    state: 'none',
    lastTypingSent: 0,
    maxContextBytes: 2048,
    /** Every session this tab has had, newest last (the agent pane lists them by name). */
    known: [],
    listeners: new Set(),
  };
  const transcript = startTranscript({ onReply: reply });
  const uploads = startUploads({ send });
  const connection = startConnection({
    url: socketUrl,
    checkStack: () => page.checkStack(),
    onOpen: sendConnect,
    onMessage(text) {
      page.frame('in', text);
      let event;
      try {
        event = JSON.parse(text);
      } catch {
        return;
      }
      handle(event);
    },
    onRestarted() {
      forgetSession();
      setSessionState(
        'gone',
        'The stack restarted: the sessions it held are gone (local mode keeps them in memory). Start a new session; the page has the new access token.',
      );
    },
    resumes: () => guest.sessionId !== undefined,
  });

  // ---------------------------------------------------------------- state on screen

  function setConnState(text) {
    $('conn-state').textContent = text;
  }

  /** An action's error, in the place that action's controls are. */
  function actionError(action, message) {
    if (action === 'upload') uploads.fail(message);
    else showError(ERROR_PLACES[action] ?? 'guest-error', message);
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
    connection.cancelReconnect();
    if (mode === 'resume' && guest.sessionId === undefined) {
      showError('guest-error', 'Nothing to resume: this browser has no session stored. Start a new session.');
      return;
    }
    connection.open(mode);
  }

  /** The socket opened: start a session, or resume ours after the last entry we have. */
  function sendConnect(mode) {
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
  }

  function send(frame) {
    const text = JSON.stringify(frame);
    if (!connection.send(text)) {
      actionError(frame.action, 'Not connected: wait for the reconnect, or start a session.');
      return false;
    }
    page.frame('out', text);
    return true;
  }

  /** The raw console's way out: the text as typed, valid JSON or not. */
  function sendRaw(text) {
    if (!connection.send(text)) return false;
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
          transcript.clear();
          guest.lastSeq = 0;
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
      case 'readReceipt':
        transcript.status(event);
        return;
      case 'typing':
        transcript.typing(event);
        return;
      case 'presence':
        onPresence(event);
        return;
      case 'ack':
        if (event.action === 'end' || event.action === 'upload') actionSucceeded();
        return;
      case 'upload':
        actionSucceeded();
        uploads.put(event);
        return;
      case 'uploaded':
        uploads.uploaded(event);
        return;
      case 'uploadFailed':
        uploads.failed(event);
        return;
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
      transcript.note(`${event.from} ${event.presence}`);
      return;
    }
    if (event.readOnly) {
      transcript.note(`The ${event.from} ended the conversation (read-only now).`);
      setConnState('connected (read-only)');
      setSessionState('readOnly', 'The agent ended this conversation and the deployment keeps it read-only.');
    } else {
      transcript.note(`The ${event.from} left the conversation; a new message starts a new one.`);
      setConnState('connected (the conversation was closed)');
    }
  }

  function onUpstream(event) {
    // The Genesys side of the session: failing (why, next attempt), given up on, or back.
    if (event.state === 'connected') {
      setConnState('connected (Genesys is back)');
      showError('guest-error', '');
      transcript.note(event.message);
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
    transcript.note(`Session ended (${event.reason}${event.code ? `: ${event.code}` : ''}).`);
    setConnState(connection.active ? 'connected (no session: it ended)' : 'not connected');
    forgetSession();
    setSessionState('ended', why ?? `The session ended (${event.reason}).`);
  }

  function onError(event) {
    if (event.code === 'session_not_found' && event.action === 'connect') {
      connection.close();
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
      connection.stopReconnecting();
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
    transcript.upsert(event);
    if (event.sequenceId > guest.lastSeq) {
      guest.lastSeq = event.sequenceId;
      saveSession(guest.sessionId, guest.lastSeq);
    }
  }

  function reply(type, text, payload) {
    if (!LIVE.has(guest.state)) return;
    send({ action: 'send', reply: { type, text, payload }, clientMessageId: crypto.randomUUID() });
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

  /** The UI state in the editor, `{data, flat}`, or `{error}` when the relay would refuse it. */
  function uiState() {
    let data;
    try {
      data = JSON.parse($('context-data').value);
    } catch (error) {
      return { error: error.message };
    }
    const flat = flattenContext(data);
    return flat.error === undefined ? { data, flat } : { error: flat.error };
  }

  /** The update's own bytes; the relay counts them after merging into the session's, hence "about". */
  function updateBudget() {
    $('context-state').textContent = '';
    const { flat, error } = uiState();
    $('context-budget').textContent = error ?? `about ${flat.bytes} of ${guest.maxContextBytes} bytes`;
  }

  function applyContext() {
    const { data, error } = uiState();
    if (error !== undefined) {
      actionError('context', `UI state: ${error}`);
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
    transcript.clear();
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
  $('file').addEventListener('change', uploads.attach);
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
