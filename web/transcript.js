// The guest pane's transcript: entries in sequenceId order with their statuses, notes between them, and
// the line that says who is typing.

import { $, el, scrollToEnd } from './dom.js';
import { entryNode } from './render.js';

/** `onReply(type, text, payload)`: the guest chose a quick reply or a card's button. */
export function startTranscript({ onReply }) {
  /** sequenceId → the entry as the events so far describe it. */
  const entries = new Map();
  let typingTimer;

  function render(entry) {
    const item = entryNode(entry, { interactive: true, onReply });
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

  function hideTyping() {
    clearTimeout(typingTimer);
    $('typing').hidden = true;
  }

  return {
    clear() {
      entries.clear();
      $('transcript').replaceChildren();
    },
    /** A `message` event: a new entry, or a known one again (a replay, an update). */
    upsert(event) {
      const known = entries.get(event.sequenceId);
      const entry = known ? Object.assign(known, event) : { ...event };
      entries.set(event.sequenceId, entry);
      if (event.direction !== 'guest') hideTyping();
      render(entry);
    },
    /** A `status` or `readReceipt` event. */
    status(event) {
      const entry = entries.get(event.sequenceId);
      if (!entry) return;
      entry.status = event.status;
      if (event.failure) entry.failure = event.failure;
      render(entry);
    },
    note(text) {
      const list = $('transcript');
      list.append(el('li', { class: 'note' }, text));
      scrollToEnd(list);
    },
    /** A `typing` event. */
    typing(event) {
      clearTimeout(typingTimer);
      if (event.state === 'off') {
        hideTyping();
        return;
      }
      $('typing').textContent = `${event.from === 'bot' ? 'The bot' : 'The agent'} is typing…`;
      $('typing').hidden = false;
      typingTimer = setTimeout(hideTyping, event.durationMs || 5000);
    },
  };
}
