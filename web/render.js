// One transcript entry, in the relay's shape (docs/protocol.md `message`), as a list item. Both panes use
// it: the guest pane with working buttons, the agent pane with the same content shown, not clickable.

import { el, linkOrText, thumbnail, timeNode } from './dom.js';

/** How a guest entry's status reads (the protocol's `pending → sent → delivered → read`, or `failed`). */
const STATUS_TEXT = {
  pending: 'sending…',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
};

const WHO = { guest: 'You', agent: 'Agent', bot: 'Bot', system: 'System' };

/**
 * @param entry `{sequenceId?, direction, text?, content?, sender?, time?, status?, failure?, events?}`
 * @param options `{interactive, onReply(type, text, payload), who?}`
 */
export function entryNode(entry, options) {
  const who = options.who?.(entry) ?? entry.sender?.nickname ?? entry.sender?.name ?? WHO[entry.direction];
  const meta = el(
    'div',
    { class: 'meta' },
    entry.sequenceId === undefined ? null : el('span', { class: 'seq' }, `#${entry.sequenceId}`),
    el('span', { class: 'who' }, who ?? entry.direction),
    timeNode(entry.time),
    entry.direction === 'guest' && entry.status ? statusNode(entry) : null,
  );
  const body = el('div', { class: 'body' });
  if (entry.text) body.append(el('p', { class: 'text' }, entry.text));
  for (const item of entry.content ?? []) body.append(contentNode(item, options));
  for (const event of entry.events ?? []) body.append(el('p', { class: 'event' }, event));
  // Why a message failed, where a person reads it (the status beside the name says only the code).
  if (entry.status === 'failed' && entry.failure?.message) {
    body.append(el('p', { class: 'failure', role: 'note' }, entry.failure.message));
  }
  const status = entry.status ?? '';
  return el(
    'li',
    {
      class: entry.direction,
      'data-seq': entry.sequenceId === undefined ? undefined : String(entry.sequenceId),
      'data-status': status || undefined,
    },
    meta,
    body,
  );
}

function statusNode(entry) {
  const text = STATUS_TEXT[entry.status] ?? entry.status;
  const failure = entry.failure ? `: ${entry.failure.code}` : '';
  return el(
    'span',
    {
      class: `status status-${entry.status}`,
      title: entry.failure?.message ?? `Status reported by the relay: ${entry.status}`,
    },
    `${text}${failure}`,
  );
}

export function contentNode(item, options) {
  switch (item.kind) {
    case 'quickReply':
      return choice('quickReply', item.text, item.payload, options);
    case 'card':
      return cardNode(item, options);
    case 'carousel':
      return el(
        'div',
        { class: 'carousel', role: 'group', 'aria-label': 'Carousel' },
        ...item.cards.map((card) => cardNode(card, options)),
      );
    case 'attachment': {
      const name = item.filename ?? 'attachment';
      if (!item.url) return el('p', { class: 'attachment' }, `[${name}]`);
      const isImage = item.mediaType === 'image' || item.mime?.startsWith('image/');
      return el(
        'div',
        { class: 'attachment' },
        isImage ? thumbnail(item.url, name) : linkOrText(item.url, name),
      );
    }
    case 'buttonResponse':
      return el('p', { class: 'reply-note' }, `chose: ${item.text}`);
    case 'datePicker':
      return el(
        'div',
        { class: 'card' },
        el('strong', {}, item.title ?? 'Pick a time'),
        item.subtitle ? el('p', {}, item.subtitle) : null,
        el(
          'ul',
          { class: 'times' },
          ...item.availableTimes.map((slot) =>
            el(
              'li',
              {},
              new Date(slot.dateTime).toLocaleString(),
              slot.durationMinutes ? ` (${slot.durationMinutes} min)` : '',
            ),
          ),
        ),
      );
    default:
      return el('p', { class: 'reply-note' }, `[${item.contentType ?? 'content'}: not shown here]`);
  }
}

function cardNode(card, options) {
  const actions = (card.actions ?? []).map((action) =>
    action.type === 'link'
      ? linkOrText(action.url, action.text)
      : choice('button', action.text, action.payload, options),
  );
  return el(
    'div',
    { class: 'card' },
    card.image ? thumbnail(card.image, card.title, { caption: false }) : null,
    el('strong', {}, card.title),
    card.description ? el('p', {}, card.description) : null,
    actions.length > 0 ? el('div', { class: 'actions' }, ...actions) : null,
  );
}

/** A quick reply or postback button: it answers on the guest's pane, and is only shown on the agent's. */
function choice(type, text, payload, options) {
  return el(
    'button',
    {
      type: 'button',
      class: 'chip',
      disabled: !options.interactive,
      onclick: options.interactive ? () => options.onReply(type, text, payload) : undefined,
    },
    text,
  );
}
