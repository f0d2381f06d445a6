// The agent pane: drives the Genesys emulator's console API (docs/emulator.md) as an agent would. It
// lists the emulator's conversations by guest name and guest-relay session, follows the guest pane's
// session unless told otherwise, and says which conversation every button acts on.

import { $, el, scrollToEnd, showError } from './dom.js';
import { entryOf, isTranscriptLine } from './genesys-content.js';
import { entryNode } from './render.js';
import { saveSettings } from './settings.js';

/** The buttons that act on the selected conversation. */
const ACTIONS = ['agent-send', 'agent-typing', 'agent-read', 'agent-disconnect'];

export function startAgentPane(base, guest, settings) {
  const agent = {
    base: base.replace(/\/$/, ''),
    /** The emulator session (Genesys token) the pane acts on. */
    token: undefined,
    follow: settings.follow !== false,
    /** Genesys token → guest-relay sessionId, from the stack's sessions.json. */
    sessionOf: new Map(),
    /** The Genesys tokens sessions.json was read for (those it did not name are another tool's). */
    looked: new Set(),
    refreshing: undefined,
    again: false,
  };
  $('agent').hidden = false;
  $('agent-follow').checked = agent.follow;

  async function emulator(path, init = {}) {
    const response = await fetch(`${agent.base}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
    return body;
  }

  /** Which of the stack's sessions each emulator session is (local mode only; elsewhere none are named). */
  async function readSessionMap() {
    const query = new URLSearchParams();
    for (const sessionId of guest.knownSessions) query.append('sessionId', sessionId);
    try {
      const response = await fetch(`sessions.json?${query}`, { cache: 'no-store' });
      if (!response.ok) return;
      const { sessions } = await response.json();
      for (const { sessionId, genesysToken } of sessions ?? []) agent.sessionOf.set(genesysToken, sessionId);
    } catch {
      // Served without local mode: conversations are named by their Genesys session only.
    }
  }

  /** The guest pane's session, or the last one it had (an ended session is still worth reading). */
  function guestSession() {
    return guest.sessionId ?? guest.knownSessions.at(-1);
  }

  /** An option's text; `mark` adds whether it is this page's guest. */
  function label(session, mark = true) {
    const relayId = agent.sessionOf.get(session.token);
    const name = session.customAttributes?.firstName ?? session.customAttributes?.name ?? 'a guest';
    const parts = [
      relayId === undefined
        ? `${name} · Genesys session ${session.token.slice(0, 8)}`
        : `${name} · session ${relayId.slice(0, 8)}`,
      `${session.messageCount} message${session.messageCount === 1 ? '' : 's'}`,
    ];
    if (session.readOnly) parts.push('read-only');
    if (session.expired) parts.push('expired');
    if (mark && relayId !== undefined && relayId === guestSession()) parts.push('this page’s guest');
    return parts.join(' · ');
  }

  /** Runs one refresh at a time; a request during one runs once more after it. */
  function refresh() {
    if (agent.refreshing) {
      agent.again = true;
      return agent.refreshing;
    }
    agent.refreshing = (async () => {
      try {
        do {
          agent.again = false;
          await refreshOnce();
        } while (agent.again);
      } finally {
        agent.refreshing = undefined;
      }
    })();
    return agent.refreshing;
  }

  async function refreshOnce() {
    try {
      const sessions = (await emulator('/emulator/sessions')).sessions ?? [];
      // A token's session never changes: the stack is asked only about conversations not seen before.
      const unseen = sessions.filter((session) => !agent.looked.has(session.token));
      if (unseen.length > 0) {
        await readSessionMap();
        for (const session of unseen) agent.looked.add(session.token);
      }
      const mine = guestSession();
      const followed = sessions.find(
        (session) => mine !== undefined && agent.sessionOf.get(session.token) === mine,
      );
      if (agent.follow && followed) agent.token = followed.token;
      // Following a guest whose conversation Genesys does not have yet: act on nothing until it does.
      const waiting = agent.follow && mine !== undefined && followed === undefined;
      if (waiting) agent.token = undefined;
      else if (!sessions.some((session) => session.token === agent.token))
        agent.token = followed?.token ?? sessions.at(-1)?.token;

      const select = $('agent-session');
      select.replaceChildren(
        ...(sessions.length === 0
          ? [el('option', { value: '' }, 'No conversations yet: start a session in the guest pane')]
          : sessions.map((session) => el('option', { value: session.token }, label(session)))),
      );
      select.value = agent.token ?? '';
      const selected = sessions.find((session) => session.token === agent.token);
      renderActing(selected, followed, waiting ? mine : undefined);
      renderParticipantData(selected?.customAttributes ?? {});
      await refreshTranscript();
      showError('agent-error', '');
    } catch (error) {
      showError('agent-error', `The emulator did not answer: ${error.message}. Is the stack still running?`);
    }
  }

  function renderActing(selected, followed, waitingFor) {
    const acting = $('agent-acting');
    if (!selected) {
      acting.textContent =
        waitingFor === undefined
          ? 'Not acting on any conversation.'
          : `Waiting for this page’s guest (session ${waitingFor.slice(0, 8)}) to reach Genesys…`;
      for (const id of ACTIONS) $(id).disabled = true;
      return;
    }
    for (const id of ACTIONS) $(id).disabled = false;
    const whose = selected === followed ? 'this page’s guest' : 'another guest, not this page’s';
    acting.replaceChildren('Acting on: ', el('strong', {}, label(selected, false)), ` (${whose})`);
    acting.dataset.token = selected.token;
    acting.dataset.session = agent.sessionOf.get(selected.token) ?? '';
  }

  function renderParticipantData(attributes) {
    const entries = Object.entries(attributes);
    $('participant-data').replaceChildren(
      ...(entries.length === 0
        ? [el('p', { class: 'empty' }, 'None yet: it arrives with the guest’s first message.')]
        : entries.flatMap(([key, value]) => [el('dt', {}, key), el('dd', {}, value)])),
    );
  }

  async function refreshTranscript() {
    const list = $('agent-transcript');
    if (!agent.token) {
      list.replaceChildren();
      return;
    }
    const { messages } = await emulator(`/emulator/sessions/${encodeURIComponent(agent.token)}/transcript`);
    agent.guestMessageIds = messages
      .filter((message) => message.direction === 'Inbound' && message.type !== 'Event')
      .map((message) => message.id);
    const lines = messages.filter(isTranscriptLine).map((message) =>
      entryNode(entryOf(message), {
        interactive: false,
        who: (entry) => (entry.direction === 'guest' ? 'Guest' : undefined),
      }),
    );
    list.replaceChildren(
      ...(lines.length === 0 ? [el('li', { class: 'note' }, 'Nothing said yet.')] : lines),
    );
    scrollToEnd(list);
  }

  async function act(path, body) {
    if (!agent.token) {
      showError('agent-error', 'No conversation selected.');
      return false;
    }
    try {
      await emulator(`/emulator/sessions/${encodeURIComponent(agent.token)}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      showError('agent-error', '');
      return true;
    } catch (error) {
      showError('agent-error', error.message);
      return false;
    }
  }

  async function reply(submit) {
    submit.preventDefault();
    const text = $('agent-text').value.trim();
    if (!text) return;
    const quick = $('agent-quick')
      .value.split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    const body = { from: 'agent', nickname: 'Agent', text };
    if (quick.length > 0) body.quickReplies = quick.map((text) => ({ text, payload: text }));
    if (await act('/messages', body)) {
      $('agent-text').value = '';
      $('agent-quick').value = '';
    }
  }

  /** A Read receipt for every guest message, as an agent's desktop sends when the agent reads them. */
  async function markRead() {
    for (const messageId of agent.guestMessageIds ?? []) {
      if (!(await act('/receipts', { messageId, status: 'Read' }))) return;
    }
  }

  async function fault(name, body) {
    try {
      const state = await emulator(`/emulator/faults/${name}`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      $('fault-state').textContent =
        name === 'drop' ? `Dropped ${state.dropped} socket(s).` : `Faults: ${JSON.stringify(state)}`;
      showError('agent-error', '');
    } catch (error) {
      showError('agent-error', error.message);
    }
  }

  $('agent-session').addEventListener('change', () => {
    agent.token = $('agent-session').value || undefined;
    // Picking another guest's conversation stops following this page's guest.
    const mine = guestSession();
    agent.follow = mine !== undefined && agent.sessionOf.get(agent.token) === mine;
    $('agent-follow').checked = agent.follow;
    saveSettings({ follow: agent.follow });
    void refresh();
  });
  $('agent-follow').addEventListener('change', () => {
    agent.follow = $('agent-follow').checked;
    saveSettings({ follow: agent.follow });
    void refresh();
  });
  $('agent-refresh').addEventListener('click', () => void refresh());
  $('agent-reply').addEventListener('submit', (submit) => void reply(submit));
  $('agent-typing').addEventListener('click', () => void act('/typing', { durationMs: 5000 }));
  $('agent-read').addEventListener('click', () => void markRead());
  $('agent-disconnect').addEventListener('click', () => void act('/disconnect', {}));
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

  // The console feed says when anything changes; refresh then (debounced). The guest pane's session
  // changing is a change too.
  let pending;
  const later = () => {
    clearTimeout(pending);
    pending = setTimeout(() => void refresh(), 100);
  };
  guest.onSession(later);
  const feed = new WebSocket(`${agent.base.replace(/^http/, 'ws')}/emulator/console`);
  feed.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === 'session' || event.type === 'sessionRemoved' || event.type === 'hello') later();
  };
  feed.onclose = () =>
    showError('agent-error', 'The emulator’s console feed closed: reload the page once the stack is back.');
  void refresh();
  return { refresh };
}
