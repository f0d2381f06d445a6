/**
 * Genesys' rich content, normalised into the shapes our public protocol uses for `message.content[]`
 * (kept structurally identical to `ContentItem` in src/protocol, so the worker passes it through), and
 * a StructuredMessage's author.
 */
import type { OutboundCard, StructuredMessage, WireContent } from './responses.js';

export type MediaType = 'image' | 'video' | 'audio' | 'file' | 'link';

export interface NormalizedCardAction {
  readonly type: 'link' | 'postback';
  readonly text: string;
  readonly url?: string;
  readonly payload?: string;
}

export type NormalizedCard = {
  title: string;
  description?: string;
  image?: string;
  actions: (
    | { type: 'link'; text: string; url: string }
    | { type: 'postback'; text: string; payload: string }
  )[];
};

export type NormalizedContent =
  | { kind: 'quickReply'; text: string; payload: string; image?: string }
  | ({ kind: 'card' } & NormalizedCard)
  | { kind: 'carousel'; cards: NormalizedCard[] }
  | {
      kind: 'attachment';
      id: string;
      filename?: string;
      mediaType?: MediaType;
      mime?: string;
      size?: number;
      url?: string;
    }
  | {
      kind: 'buttonResponse';
      type: 'quickReply' | 'button' | 'datePicker' | 'listPicker' | 'form';
      text: string;
      payload: string;
    }
  | {
      kind: 'datePicker';
      title?: string;
      subtitle?: string;
      availableTimes: { dateTime: string; durationMinutes?: number }[];
    }
  | { kind: 'unknown'; contentType: string };

const MEDIA_TYPES: Record<string, MediaType> = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  file: 'file',
  link: 'link',
};

const BUTTON_TYPES: Record<string, 'quickReply' | 'button' | 'datePicker' | 'listPicker' | 'form'> = {
  quickreply: 'quickReply',
  button: 'button',
  datepicker: 'datePicker',
  listpicker: 'listPicker',
  form: 'form',
};

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function card(source: OutboundCard): NormalizedCard {
  const actions: NormalizedCard['actions'] = [];
  for (const action of source.actions ?? []) {
    const type = action.type.toLowerCase();
    if (type === 'link' && action.url !== undefined)
      actions.push({ type: 'link', text: action.text ?? '', url: action.url });
    else if (type === 'postback')
      actions.push({ type: 'postback', text: action.text ?? '', payload: action.payload ?? '' });
  }
  return {
    title: source.title ?? '',
    ...optional('description', source.description),
    ...optional('image', source.image),
    actions,
  };
}

/** One Genesys content item → ours; unknown or malformed items become `{kind: 'unknown'}`. */
export function normalizeContentItem(item: WireContent): NormalizedContent {
  switch (item.contentType) {
    case 'QuickReply':
      if (item.quickReply) {
        return {
          kind: 'quickReply',
          text: item.quickReply.text,
          payload: item.quickReply.payload,
          ...optional('image', item.quickReply.image),
        };
      }
      break;
    case 'Card':
      if (item.card) return { kind: 'card', ...card(item.card) };
      break;
    case 'Carousel':
      if (item.carousel) return { kind: 'carousel', cards: item.carousel.cards.map(card) };
      break;
    case 'Attachment':
      if (item.attachment) {
        const a = item.attachment;
        return {
          kind: 'attachment',
          id: a.id,
          ...optional('filename', a.filename),
          ...optional('mediaType', a.mediaType ? MEDIA_TYPES[a.mediaType.toLowerCase()] : undefined),
          ...optional('mime', a.mime),
          ...optional('size', a.fileSize),
          ...optional('url', a.url),
        };
      }
      break;
    case 'ButtonResponse':
      if (item.buttonResponse) {
        return {
          kind: 'buttonResponse',
          type: BUTTON_TYPES[item.buttonResponse.type.toLowerCase()] ?? 'button',
          text: item.buttonResponse.text,
          payload: item.buttonResponse.payload,
        };
      }
      break;
    case 'DatePicker':
      if (item.datePicker) {
        return {
          kind: 'datePicker',
          ...optional('title', item.datePicker.title),
          ...optional('subtitle', item.datePicker.subtitle),
          availableTimes: (item.datePicker.availableTimes ?? []).map((slot) => ({
            dateTime: slot.dateTime,
            // The unit of `duration` is not documented; minutes is the only reading that fits the samples.
            ...optional('durationMinutes', slot.duration),
          })),
        };
      }
      break;
    default:
      break;
  }
  return { kind: 'unknown', contentType: String(item.contentType) };
}

export function normalizeContent(content: readonly WireContent[] | undefined): NormalizedContent[] {
  return (content ?? []).map(normalizeContentItem);
}

export type Author = 'guest' | 'agent' | 'bot' | 'system';

/**
 * Who wrote a message. `direction` is from Genesys' side: Inbound is the guest. Outbound is a human
 * agent when `originatingEntity` is "Human", otherwise a bot or flow.
 */
export function authorOf(message: StructuredMessage): Author {
  if (message.direction === 'Inbound') return 'guest';
  if (message.originatingEntity === 'Human') return 'agent';
  if (message.originatingEntity === 'Bot') return 'bot';
  return message.type === 'Event' ? 'system' : 'bot';
}

export interface Sender {
  name?: string;
  nickname?: string;
  image?: string;
}

export function senderOf(message: StructuredMessage): Sender | undefined {
  const from = message.channel?.from;
  if (!from) return undefined;
  const name = [from.firstName, from.lastName].filter((part) => part && part.length > 0).join(' ');
  const sender: Sender = {
    ...optional('name', name.length > 0 ? name : undefined),
    ...optional('nickname', from.nickname),
    ...optional('image', from.image),
  };
  return Object.keys(sender).length > 0 ? sender : undefined;
}
