// The raw frame console: every frame the guest socket sends and receives, as it went over the wire, and
// a box to send any frame as typed (invalid JSON included, to see how the relay answers it).

import { $, el, scrollToEnd, showError } from './dom.js';

/** The log keeps this many frames; older ones are dropped from the top. */
const MAX_FRAMES = 300;

export function startConsole() {
  let paused = false;

  function record(direction, text) {
    if (paused) return;
    const list = $('raw-log');
    const time = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    list.append(
      el(
        'li',
        { class: direction },
        el('span', { class: 'meta' }, `${direction === 'out' ? '→ sent' : '← received'} ${time}`),
        el('code', {}, text),
      ),
    );
    while (list.children.length > MAX_FRAMES) list.firstElementChild?.remove();
    $('raw-count').textContent = `${list.children.length} frame${list.children.length === 1 ? '' : 's'}`;
    scrollToEnd(list);
  }

  return {
    record,
    /** Wires the send box to the guest pane's socket. */
    attach(guest) {
      $('raw-send').addEventListener('click', () => {
        const text = $('raw-frame').value;
        const sent = guest.sendRaw(text);
        showError('raw-error', sent ? '' : 'Not connected: start or resume a session first.');
      });
      $('raw-clear').addEventListener('click', () => {
        $('raw-log').replaceChildren();
        $('raw-count').textContent = '0 frames';
      });
      $('raw-pause').addEventListener('change', () => {
        paused = $('raw-pause').checked;
      });
    },
  };
}
