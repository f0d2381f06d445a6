// The guest pane's WebSocket to the relay. After a close it did not ask for, it asks the page's own
// server what happened (a stack that does not answer is down; one that answers with another token has
// restarted, and the sessions it held in memory are gone), then reconnects with the relay's backoff
// (backoff.js) and shows the countdown in `#conn-state`.

import { reconnectBackoff } from './backoff.js';
import { $, showError } from './dom.js';

/** After this many failed opens in a row without a word from the stack, say what to check. */
const HINT_AFTER_FAILURES = 3;

function setConnState(text) {
  $('conn-state').textContent = text;
}

/**
 * `url()`: where to connect. `checkStack()`: app.js's 'down' | 'restarted' | 'same' | 'unknown'.
 * `onOpen(mode)`: the socket opened for mode 'new' (start a session) or 'resume'. `onMessage(text)`: a
 * frame came. `onRestarted()`: the stack restarted; the connection has stopped. `resumes()`: whether a
 * reconnect resumes a session ('resume') or starts one ('new').
 */
export function startConnection({ url, checkStack, onOpen, onMessage, onRestarted, resumes }) {
  const connection = {
    ws: undefined,
    /** The user wants a connection: a close is followed by a reconnect. */
    wanted: false,
    /** Reconnect attempts: the count starts again only once a socket stayed up (not on every open). */
    backoff: reconnectBackoff(),
    failures: 0,
    reconnectTimer: undefined,
    countdownTimer: undefined,
  };

  function cancelReconnect() {
    clearTimeout(connection.reconnectTimer);
    clearInterval(connection.countdownTimer);
  }

  /** Opens the socket, in place of any other; `mode` is 'new' (start a session) or 'resume'. */
  function open(mode) {
    cancelReconnect();
    if (connection.ws) {
      connection.ws.onclose = null;
      connection.ws.close();
      connection.ws = undefined;
      connection.backoff.closed();
    }
    connection.wanted = true;
    setConnState('connecting…');
    let ws;
    try {
      ws = new WebSocket(url());
    } catch (error) {
      connection.wanted = false;
      setConnState('not connected');
      showError(
        'guest-error',
        `Cannot connect: ${error.message}. Check the WebSocket URL under "Stack and guest".`,
      );
      return;
    }
    connection.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      connection.failures = 0;
      setConnState('connected');
      connection.backoff.opened();
      onOpen(mode);
      // A later reconnect resumes whatever this one started.
      mode = 'resume';
    };
    ws.onmessage = (message) => onMessage(message.data);
    ws.onclose = (close) => {
      connection.backoff.closed();
      connection.ws = undefined;
      if (!connection.wanted) {
        setConnState('not connected');
        return;
      }
      if (!opened) connection.failures += 1;
      void afterDrop(close.code, opened);
    };
  }

  /** The socket closed without being asked to: find out why, then retry or stop. */
  async function afterDrop(code, opened) {
    const stack = await checkStack();
    // Meanwhile the user may have started or resumed a session (a new socket), or left: nothing to do.
    if (!connection.wanted || connection.ws !== undefined) return;
    if (stack === 'restarted') {
      connection.wanted = false;
      setConnState('not connected');
      onRestarted();
      return;
    }
    let hint = '';
    if (stack === 'down') hint = ' The stack does not answer: is `npm start` still running?';
    else if (!opened && connection.failures >= HINT_AFTER_FAILURES)
      hint =
        ' The socket is refused before it opens: check the WebSocket URL, and that the access token is valid and not expired.';
    scheduleReconnect(code, hint);
  }

  function scheduleReconnect(code, hint) {
    const delay = connection.backoff.next();
    const due = Date.now() + delay;
    const tick = () => {
      const left = Math.max(0, due - Date.now());
      setConnState(`disconnected (${code}); reconnecting in ${(left / 1000).toFixed(1)} s`);
    };
    tick();
    showError('guest-error', hint.trim());
    connection.countdownTimer = setInterval(tick, 100);
    connection.reconnectTimer = setTimeout(() => {
      clearInterval(connection.countdownTimer);
      open(resumes() ? 'resume' : 'new');
    }, delay);
  }

  return {
    open,
    cancelReconnect,
    /** Whether there is a socket (open or opening). */
    get active() {
      return connection.ws !== undefined;
    },
    /** Sends `text` when the socket is open; false when it is not. */
    send(text) {
      if (!connection.ws || connection.ws.readyState !== WebSocket.OPEN) return false;
      connection.ws.send(text);
      return true;
    },
    /** No reconnect after the next close (the socket stays as it is). */
    stopReconnecting() {
      connection.wanted = false;
    },
    /** Closes the socket, for good. */
    close() {
      connection.wanted = false;
      connection.ws?.close();
    },
  };
}
