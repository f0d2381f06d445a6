// A Genesys StructuredMessage (what the emulator's console API returns) in the relay's own shape
// (docs/protocol.md, "Content items"), so that both panes render content with the same code. The rules
// are those of src/genesys/normalize.ts; test/unit/web/genesys-content.test.ts checks they agree.

const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'file', 'link']);
const BUTTON_TYPES = {
  quickreply: 'quickReply',
  button: 'button',
  datepicker: 'datePicker',
  listpicker: 'listPicker',
  form: 'form',
};

function defined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

function card(source) {
  const actions = [];
  for (const action of source.actions ?? []) {
    const type = String(action.type ?? '').toLowerCase();
    if (type === 'link' && action.url !== undefined)
      actions.push({ type: 'link', text: action.text ?? '', url: action.url });
    else if (type === 'postback')
      actions.push({ type: 'postback', text: action.text ?? '', payload: action.payload ?? '' });
  }
  return defined({
    title: source.title ?? '',
    description: source.description,
    image: source.image,
    actions,
  });
}

export function contentItem(item) {
  switch (item.contentType) {
    case 'QuickReply':
      if (item.quickReply)
        return defined({
          kind: 'quickReply',
          text: item.quickReply.text,
          payload: item.quickReply.payload,
          image: item.quickReply.image,
        });
      break;
    case 'Card':
      if (item.card) return { kind: 'card', ...card(item.card) };
      break;
    case 'Carousel':
      if (item.carousel) return { kind: 'carousel', cards: (item.carousel.cards ?? []).map(card) };
      break;
    case 'Attachment':
      if (item.attachment) {
        const a = item.attachment;
        const mediaType = typeof a.mediaType === 'string' ? a.mediaType.toLowerCase() : undefined;
        return defined({
          kind: 'attachment',
          id: a.id,
          filename: a.filename,
          mediaType: MEDIA_TYPES.has(mediaType) ? mediaType : undefined,
          mime: a.mime,
          size: a.fileSize,
          url: a.url,
        });
      }
      break;
    case 'ButtonResponse':
      if (item.buttonResponse)
        return {
          kind: 'buttonResponse',
          type: BUTTON_TYPES[String(item.buttonResponse.type).toLowerCase()] ?? 'button',
          text: item.buttonResponse.text,
          payload: item.buttonResponse.payload,
        };
      break;
    case 'DatePicker':
      if (item.datePicker)
        return defined({
          kind: 'datePicker',
          title: item.datePicker.title,
          subtitle: item.datePicker.subtitle,
          availableTimes: (item.datePicker.availableTimes ?? []).map((slot) =>
            defined({ dateTime: slot.dateTime, durationMinutes: slot.duration }),
          ),
        });
      break;
    default:
      break;
  }
  return { kind: 'unknown', contentType: String(item.contentType) };
}

/** Who a Genesys message is from, as the relay's `direction` says it. */
export function directionOf(message) {
  if (message.direction === 'Inbound') return 'guest';
  if (message.originatingEntity === 'Human') return 'agent';
  if (message.originatingEntity === 'Bot') return 'bot';
  return message.type === 'Event' ? 'system' : 'bot';
}

/**
 * One transcript line for the agent pane: `{direction, text, content, sender, time, events}`; `events`
 * describes presence changes in words (typing and other events are not lines).
 */
export function entryOf(message) {
  const from = message.channel?.from ?? {};
  const name = [from.firstName, from.lastName].filter(Boolean).join(' ');
  const events = [];
  for (const event of message.events ?? []) {
    if (event.eventType === 'Presence') events.push(`presence: ${String(event.presence?.type ?? '')}`);
  }
  return defined({
    direction: directionOf(message),
    text: message.text,
    content: (message.content ?? []).map(contentItem),
    sender: from.nickname || name ? defined({ nickname: from.nickname, name: name || undefined }) : undefined,
    time: message.channel?.time,
    events,
  });
}

/** Whether a Genesys message is a line of the agent's transcript (typing and receipts are not). */
export function isTranscriptLine(message) {
  if (message.type === 'Receipt') return false;
  if (message.type !== 'Event') return true;
  return (message.events ?? []).some((event) => event.eventType === 'Presence');
}
