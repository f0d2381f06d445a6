// The guest-relay web simulator: a guest pane speaking the public protocol (docs/protocol.md) and, when
// the stack runs the Genesys emulator, an agent pane driving it over its console API (docs/emulator.md).
// Plain browser JavaScript, no build step: the folder can be served as it is next to any stack.

import { safeLinkUrl } from './safe-url.js';

const $ = (id) => document.getElementById(id);
const STORE_KEY = 'guest-relay.session';
const BACKOFF = { baseMs: 500, capMs: 10_000 };

const guest = {
  ws: undefined,
  wanted: false,
  sessionId: undefined,
  lastSeq: 0,
  entries: new Map(),
  attempt: 0,
  reconnectTimer: undefined,
  countdownTimer: undefined,
  typingTimer: undefined,
  lastTypingSent: 0,
  maxContextBytes: 2048,
  uploads: new Map(),
};

// ------------------------------------------------------------------ helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== undefined && child !== null) node.append(child);
  }
  return node;
}

/**
 * A link to an upstream URL when it is an http(s) one (safe-url.js); anything else (`javascript:`,
 * `data:`, relative) is shown as text, never as an href.
 */
function linkOrText(url, text) {
  const href = safeLinkUrl(url);
  if (href === undefined) return el('span', { class: 'unlinked', title: 'Not a web link: not opened' }, text);
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text);
}

function newId() {
  return crypto.randomUUID();
}

function utf8Bytes(text) {
  return new TextEncoder().encode(text).length;
}

function showError(target, message) {
  $(target).textContent = message;
}

function saveSession() {
  if (guest.sessionId === undefined) localStorage.removeItem(STORE_KEY);
  else
    localStorage.setItem(STORE_KEY, JSON.stringify({ sessionId: guest.sessionId, lastSeq: guest.lastSeq }));
}

function loadSession() {
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY) ?? 'null');
  } catch {
    return null;
  }
}

function setConnState(text) {
  $('conn-state').textContent = text;
}

// ------------------------------------------------------------------ guest: connection

function socketUrl() {
  const url = new URL($('ws-url').value);
  url.searchParams.set('token', $('access-token').value);
  return url.toString();
}

/** Opens the socket; `mode` is 'new' (start a session) or 'resume'. */
function open(mode) {
  clearTimeout(guest.reconnectTimer);
  clearInterval(guest.countdownTimer);
  guest.wanted = true;
  if (guest.ws) {
    guest.ws.onclose = null;
    guest.ws.close();
  }
  setConnState('connecting…');
  let ws;
  try {
    ws = new WebSocket(socketUrl());
  } catch (error) {
    showError('guest-error', `Cannot connect: ${error.message}`);
    return;
  }
  guest.ws = ws;
  ws.onopen = () => {
    setConnState('connected');
    guest.attempt = 0;
    showError('guest-error', '');
    if (mode === 'new' || guest.sessionId === undefined) {
      const guestInfo = {};
      if ($('guest-first-name').value) guestInfo.firstName = $('guest-first-name').value;
      if ($('guest-email').value) guestInfo.email = $('guest-email').value;
      const frame = { action: 'connect', clientMessageId: newId() };
      if (Object.keys(guestInfo).length > 0) frame.guestInfo = guestInfo;
      send(frame);
    } else {
      send({ action: 'connect', sessionId: guest.sessionId, afterSequenceId: guest.lastSeq });
    }
  };
  ws.onmessage = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    handle(event);
  };
  ws.onclose = (close) => {
    guest.ws = undefined;
    if (!guest.wanted) {
      setConnState('not connected');
      return;
    }
    scheduleReconnect(close.code);
  };
}

function scheduleReconnect(code) {
  const cap = Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** guest.attempt);
  const delay = Math.round(Math.random() * cap);
  guest.attempt += 1;
  const due = Date.now() + delay;
  const tick = () => {
    const left = Math.max(0, due - Date.now());
    setConnState(`disconnected (${code}); reconnecting in ${(left / 1000).toFixed(1)} s`);
  };
  tick();
  guest.countdownTimer = setInterval(tick, 100);
  guest.reconnectTimer = setTimeout(() => {
    clearInterval(guest.countdownTimer);
    open('resume');
  }, delay);
}

function send(frame) {
  if (!guest.ws || guest.ws.readyState !== WebSocket.OPEN) {
    showError('guest-error', 'Not connected: wait for the reconnect, or start a session.');
    return false;
  }
  guest.ws.send(JSON.stringify(frame));
  return true;
}

// ------------------------------------------------------------------ guest: events

function handle(event) {
  switch (event.type) {
    case 'connect':
      if (guest.sessionId !== event.sessionId) {
        guest.entries.clear();
        guest.lastSeq = 0;
        $('transcript').replaceChildren();
      }
      guest.sessionId = event.sessionId;
      guest.maxContextBytes = event.constraints.maxCustomDataBytes;
      $('session-id').textContent = event.sessionId;
      $('settings').open = false;
      setConnState(`connected (${event.status}${event.queued ? ', queued: no worker yet' : ''})`);
      saveSession();
      updateBudget();
      return;
    case 'message':
      upsert(event);
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
      note(
        `${event.from} ${event.presence === 'disconnect' ? 'left the conversation' : event.presence}${event.readOnly ? ' (read-only now)' : ''}`,
      );
      return;
    case 'upload':
      putFile(event);
      return;
    case 'uploaded':
      $('upload-state').textContent = `Uploaded ${guest.uploads.get(event.uploadId)?.name ?? ''}`;
      $('upload-progress').value = 100;
      return;
    case 'uploadFailed':
      $('upload-progress').hidden = true;
      $('upload-state').textContent = `Upload failed: ${event.code}`;
      return;
    case 'context':
      $('context-budget').textContent = `${event.bytes} of ${event.maxBytes} bytes`;
      $('context-state').textContent =
        event.state === 'applied' ? '(sent to Genesys)' : '(stored; goes with the next message)';
      return;
    case 'upstream':
      // The Genesys side of the session: failing (why, next attempt), given up on, or back.
      if (event.state === 'connected') {
        setConnState('connected (Genesys is back)');
        showError('guest-error', '');
        note(event.message);
      } else {
        setConnState(
          `connected; Genesys ${event.state === 'retrying' ? 'unreachable, retrying' : 'unavailable'}`,
        );
        showError('guest-error', `Genesys ${event.reason ?? ''} (${event.detail ?? ''}): ${event.message}`);
      }
      return;
    case 'sessionEnded':
      note(
        `Session ended (${event.reason}${event.code ? `: ${event.code}` : ''}).${event.message ? ` ${event.message}` : ''}`,
      );
      guest.sessionId = undefined;
      saveSession();
      return;
    case 'error':
      showError('guest-error', `${event.code}: ${event.message}`);
      return;
    default:
      return;
  }
}

function upsert(event) {
  const known = guest.entries.get(event.sequenceId);
  const entry = known ? Object.assign(known, event) : { ...event };
  guest.entries.set(event.sequenceId, entry);
  if (event.sequenceId > guest.lastSeq) {
    guest.lastSeq = event.sequenceId;
    saveSession();
  }
  if (event.direction !== 'guest') hideTyping();
  render(entry);
}

function render(entry) {
  const id = `entry-${entry.sequenceId}`;
  const who =
    entry.direction === 'guest' ? 'You' : (entry.sender?.nickname ?? entry.sender?.name ?? entry.direction);
  const body = el('div', { class: 'body' }, entry.text ?? '');
  for (const item of entry.content ?? []) body.append(contentNode(item));
  const status =
    entry.direction === 'guest' ? ` · ${entry.status}${entry.failure ? `: ${entry.failure.code}` : ''}` : '';
  const meta = el(
    'span',
    { class: `meta${entry.status === 'failed' ? ' failed' : ''}` },
    el('span', { class: 'seq' }, `#${entry.sequenceId} · `),
    `${who}${status}`,
  );
  const item = el(
    'li',
    { id, class: entry.direction, 'data-seq': String(entry.sequenceId), 'data-status': entry.status },
    meta,
    body,
  );
  const existing = document.getElementById(id);
  if (existing) {
    existing.replaceWith(item);
    return;
  }
  // Keep sequenceId order even when a replayed entry arrives after a live one.
  const list = $('transcript');
  const after = [...list.children].find((child) => Number(child.dataset.seq) > entry.sequenceId);
  if (after) list.insertBefore(item, after);
  else list.append(item);
  list.scrollTop = list.scrollHeight;
}

function contentNode(item) {
  switch (item.kind) {
    case 'quickReply':
      return el(
        'button',
        {
          type: 'button',
          class: 'quick-reply secondary',
          onclick: () => reply('quickReply', item.text, item.payload),
        },
        item.text,
      );
    case 'card':
      return cardNode(item);
    case 'carousel':
      return el('div', { class: 'quick-replies' }, ...item.cards.map((card) => cardNode(card)));
    case 'attachment':
      return el(
        'div',
        {},
        item.url ? linkOrText(item.url, item.filename ?? 'attachment') : `[${item.filename ?? 'attachment'}]`,
      );
    case 'buttonResponse':
      return el('div', { class: 'meta' }, `chose: ${item.text}`);
    default:
      return el('span', {});
  }
}

function cardNode(card) {
  const actions = (card.actions ?? []).map((action) =>
    action.type === 'link'
      ? linkOrText(action.url, action.text)
      : el(
          'button',
          { type: 'button', class: 'secondary', onclick: () => reply('button', action.text, action.payload) },
          action.text,
        ),
  );
  return el(
    'div',
    { class: 'card' },
    el('strong', {}, card.title),
    card.description ? el('p', {}, card.description) : null,
    el('div', { class: 'quick-replies' }, ...actions),
  );
}

function reply(type, text, payload) {
  send({ action: 'send', reply: { type, text, payload }, clientMessageId: newId() });
}

function note(text) {
  $('transcript').append(el('li', { class: 'note' }, el('span', { class: 'meta' }, text)));
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

// ------------------------------------------------------------------ guest: actions

function sendMessage(submit) {
  submit.preventDefault();
  const text = $('message').value.trim();
  if (text.length === 0) return;
  if (send({ action: 'send', text, clientMessageId: newId() })) $('message').value = '';
}

function typing() {
  // The worker sends at most one typing notice per 5 s upstream; no need to send more.
  if (Date.now() - guest.lastTypingSent < 5000 || guest.sessionId === undefined) return;
  guest.lastTypingSent = Date.now();
  send({ action: 'typing' });
}

function attach() {
  const file = $('file').files?.[0];
  if (!file) return;
  const uploadId = newId();
  guest.uploads.set(uploadId, file);
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
  const file = guest.uploads.get(slot.uploadId);
  if (!file) return;
  const url = safeLinkUrl(slot.url);
  if (url === undefined) {
    $('upload-state').textContent = 'Upload refused: the upload URL is not an http(s) URL';
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
    $('upload-state').textContent =
      request.status < 300
        ? `Sent ${file.name}; waiting for Genesys…`
        : `Upload refused (HTTP ${request.status})`;
  };
  request.onerror = () => {
    $('upload-state').textContent = 'Upload failed: network error';
  };
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
    showError('guest-error', `UI state: ${error.message}`);
    return;
  }
  send({ action: 'context', data, flush: $('context-flush').checked, clientMessageId: newId() });
}

// ------------------------------------------------------------------ agent pane (emulator)

const agent = { base: undefined, token: undefined, feed: undefined };

async function emulator(path, init = {}) {
  const response = await fetch(`${agent.base}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  return body;
}

async function refreshSessions() {
  try {
    const list = await emulator('/emulator/sessions');
    const sessions = Array.isArray(list) ? list : (list.sessions ?? []);
    const select = $('agent-session');
    const current = agent.token;
    select.replaceChildren(
      ...sessions.map((session, index) =>
        el(
          'option',
          { value: session.token },
          `Conversation ${index + 1} · ${session.messageCount} messages${session.readOnly ? ' · read-only' : ''}`,
        ),
      ),
    );
    if (current && sessions.some((session) => session.token === current)) select.value = current;
    agent.token = select.value || undefined;
    const selected = sessions.find((session) => session.token === agent.token);
    renderParticipantData(selected?.customAttributes ?? {});
    await refreshTranscript();
  } catch (error) {
    showError('agent-error', error.message);
  }
}

function renderParticipantData(attributes) {
  const entries = Object.entries(attributes);
  $('participant-data').replaceChildren(
    ...(entries.length === 0
      ? [el('dt', {}, 'none'), el('dd', {}, '')]
      : entries.flatMap(([key, value]) => [el('dt', {}, key), el('dd', {}, value)])),
  );
}

async function refreshTranscript() {
  if (!agent.token) {
    $('agent-transcript').replaceChildren();
    return;
  }
  const { messages } = await emulator(`/emulator/sessions/${encodeURIComponent(agent.token)}/transcript`);
  $('agent-transcript').replaceChildren(
    ...messages
      .filter(
        (message) => message.type !== 'Event' || message.events?.some((e) => e.eventType === 'Presence'),
      )
      .map((message) =>
        el(
          'li',
          { class: message.direction === 'Inbound' ? 'guest' : 'agent' },
          el(
            'span',
            { class: 'meta' },
            message.direction === 'Inbound' ? 'Guest' : (message.channel?.from?.nickname ?? 'Bot'),
          ),
          describeGenesysMessage(message),
        ),
      ),
  );
}

/** A Genesys message as one line: its text, then what its content and events are. */
function describeGenesysMessage(message) {
  const parts = message.text ? [message.text] : [];
  for (const item of message.content ?? []) {
    if (item.contentType === 'Attachment') parts.push(`[attachment ${item.attachment?.filename ?? ''}]`);
    else if (item.contentType === 'QuickReply') parts.push(`[quick reply ${item.quickReply?.text ?? ''}]`);
    else if (item.contentType === 'ButtonResponse') parts.push(`[chose ${item.buttonResponse?.text ?? ''}]`);
    else parts.push(`[${item.contentType}]`);
  }
  for (const event of message.events ?? []) {
    parts.push(event.presence ? `[presence ${event.presence.type}]` : `[${event.eventType}]`);
  }
  return parts.join(' ');
}

async function agentAction(path, body) {
  if (!agent.token) {
    showError('agent-error', 'No conversation selected.');
    return;
  }
  try {
    await emulator(`/emulator/sessions/${encodeURIComponent(agent.token)}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    showError('agent-error', '');
  } catch (error) {
    showError('agent-error', error.message);
  }
}

async function agentReply(submit) {
  submit.preventDefault();
  const text = $('agent-text').value.trim();
  if (!text) return;
  const quick = $('agent-quick')
    .value.split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const body = { from: 'agent', nickname: 'Agent', text };
  if (quick.length > 0) body.quickReplies = quick.map((label) => ({ text: label, payload: label }));
  await agentAction('/messages', body);
  $('agent-text').value = '';
  $('agent-quick').value = '';
}

async function fault(name, body) {
  try {
    const state = await emulator(`/emulator/faults/${name}`, { method: 'POST', body: JSON.stringify(body) });
    $('fault-state').textContent =
      name === 'drop' ? `Dropped ${state.dropped} socket(s).` : `Faults: ${JSON.stringify(state)}`;
  } catch (error) {
    showError('agent-error', error.message);
  }
}

function startAgentPane(base) {
  agent.base = base.replace(/\/$/, '');
  $('agent').hidden = false;
  $('agent-session').addEventListener('change', () => {
    agent.token = $('agent-session').value;
    void refreshSessions();
  });
  $('agent-refresh').addEventListener('click', () => void refreshSessions());
  $('agent-reply').addEventListener('submit', (submit) => void agentReply(submit));
  $('agent-typing').addEventListener('click', () => void agentAction('/typing', { durationMs: 5000 }));
  $('agent-disconnect').addEventListener('click', () => void agentAction('/disconnect', {}));
  $('fault-drop').addEventListener(
    'click',
    () => void fault('drop', agent.token ? { token: agent.token } : {}),
  );
  $('fault-429').addEventListener('click', () => void fault('429', { count: 1 }));
  $('fault-reorder').addEventListener('click', () => void fault('reorder', { count: 3 }));
  $('fault-duplicate').addEventListener('click', () => void fault('duplicate', { count: 1 }));
  $('fault-delay').addEventListener('click', () => void fault('delay', { ms: 1000 }));
  $('fault-refuse').addEventListener('click', () => void fault('refuse', { ms: 5000 }));
  $('fault-reset').addEventListener('click', () => void fault('reset', {}));
  // The console feed says when anything changes; refresh then (debounced).
  let pending;
  const feed = new WebSocket(`${agent.base.replace(/^http/, 'ws')}/emulator/console`);
  feed.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === 'session' || event.type === 'sessionRemoved' || event.type === 'hello') {
      clearTimeout(pending);
      pending = setTimeout(() => void refreshSessions(), 100);
    }
  };
  agent.feed = feed;
  void refreshSessions();
}

// ------------------------------------------------------------------ start

async function boot() {
  let config = {};
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (response.ok) config = await response.json();
  } catch {
    // Hosted without local mode: the user fills in the URL and token.
  }
  if (config.wsUrl) $('ws-url').value = config.wsUrl;
  if (config.token) $('access-token').value = config.token;
  $('connect-form').addEventListener('submit', (submit) => {
    submit.preventDefault();
    guest.sessionId = undefined;
    open('new');
  });
  $('resume-session').addEventListener('click', () => open('resume'));
  $('composer').addEventListener('submit', sendMessage);
  $('message').addEventListener('input', typing);
  $('message').addEventListener('keydown', (key) => {
    if (key.key === 'Enter' && !key.shiftKey) sendMessage(key);
  });
  $('file').addEventListener('change', attach);
  $('context-data').addEventListener('input', updateBudget);
  $('context-apply').addEventListener('click', applyContext);
  $('show-seq').addEventListener('change', () =>
    document.body.classList.toggle('show-seq', $('show-seq').checked),
  );
  if (config.emulatorUrl) startAgentPane(config.emulatorUrl);
  updateBudget();

  const stored = loadSession();
  if (stored?.sessionId && $('ws-url').value && $('access-token').value) {
    guest.sessionId = stored.sessionId;
    // After a reload the page starts empty: replay the whole transcript.
    guest.lastSeq = 0;
    $('session-id').textContent = stored.sessionId;
    open('resume');
  } else {
    // Nothing to resume: show the form that starts a session.
    $('settings').open = true;
  }
}

void boot();
