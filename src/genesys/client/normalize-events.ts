/**
 * Genesys StructuredMessages → the session's events (./events.ts). Pure: the state machine decides when
 * to emit, these functions decide what.
 */
import { authorOf, normalizeContent, senderOf } from '../normalize.js';
import type { StructuredMessage } from '../responses.js';
import type {
  EchoEvent,
  MessageEvent,
  OutboundAuthor,
  PresenceEvent,
  PresenceType,
  ReceiptEvent,
  TypingEvent,
} from './events.js';

/** Genesys' default typing duration when an event states none (its mobile SDK's fallback). */
export const DEFAULT_TYPING_MS = 5000;

export type OutboundEvent =
  | { readonly name: 'message'; readonly payload: MessageEvent }
  | { readonly name: 'typing'; readonly payload: TypingEvent }
  | { readonly name: 'presence'; readonly payload: PresenceEvent }
  | { readonly name: 'receipt'; readonly payload: ReceiptEvent };

function camel(value: string): string {
  return value.length === 0 ? value : `${value[0]?.toLowerCase()}${value.slice(1)}`;
}

function timeOf(body: StructuredMessage): string | undefined {
  return typeof body.channel?.time === 'string' ? body.channel.time : undefined;
}

/** An Outbound message's author; Genesys' own events count as "system". */
export function outboundAuthor(body: StructuredMessage): OutboundAuthor {
  const author = authorOf(body);
  return author === 'guest' ? 'system' : author;
}

/**
 * The reorder window's de-duplication key. Receipts carry the id of the message they are about and one
 * message gets several (Delivered, Read), so they are keyed apart.
 */
export function windowKey(body: StructuredMessage): string {
  return body.type === 'Receipt' ? `receipt:${body.id}:${body.status ?? ''}` : body.id;
}

/**
 * What one Outbound push means to the session's owner: a message, a receipt, or one event per typing or
 * presence item. Typing from history is stale and left out.
 */
export function outboundEvents(
  body: StructuredMessage,
  flags: { readonly late: boolean; readonly fromHistory: boolean },
): OutboundEvent[] {
  const author = outboundAuthor(body);
  const time = timeOf(body);
  const fromHistory = flags.fromHistory ? { fromHistory: true as const } : {};
  if (body.type === 'Receipt') {
    return [
      {
        name: 'receipt',
        payload: {
          messageId: body.id,
          status: body.status ?? 'Unknown',
          ...(body.reasons === undefined ? {} : { reasons: body.reasons }),
        },
      },
    ];
  }
  if (body.type === 'Event') {
    const events: OutboundEvent[] = [];
    for (const event of body.events ?? []) {
      if (event.eventType === 'Typing' && event.typing && !flags.fromHistory) {
        const durationMs = event.typing.type === 'Off' ? 0 : (event.typing.duration ?? DEFAULT_TYPING_MS);
        events.push({ name: 'typing', payload: { author, durationMs } });
      } else if (event.eventType === 'Presence' && event.presence) {
        const type = camel(event.presence.type) as PresenceType;
        const readOnly = type === 'disconnect' ? body.metadata?.readOnly === 'true' : undefined;
        events.push({
          name: 'presence',
          payload: {
            author,
            type,
            genesysId: body.id,
            ...(readOnly === undefined ? {} : { readOnly }),
            ...(time === undefined ? {} : { time }),
            ...fromHistory,
          },
        });
      }
    }
    return events;
  }
  const sender = senderOf(body);
  const metadata =
    body.metadata !== undefined && Object.keys(body.metadata).length > 0 ? body.metadata : undefined;
  return [
    {
      name: 'message',
      payload: {
        genesysId: body.id,
        author,
        type: body.type,
        content: normalizeContent(body.content),
        ...(body.text === undefined ? {} : { text: body.text }),
        ...(sender === undefined ? {} : { sender }),
        ...(time === undefined ? {} : { time }),
        ...(body.originatingMessageId === undefined
          ? {}
          : { originatingMessageId: body.originatingMessageId }),
        ...(metadata === undefined ? {} : { metadata }),
        ...(flags.late ? { late: true as const } : {}),
        ...fromHistory,
      },
    },
  ];
}

/** An Inbound push (a guest message): `own` when it acknowledged one of this client's sends. */
export function echoEvent(body: StructuredMessage, tracingId: string | undefined, own: boolean): EchoEvent {
  const time = timeOf(body);
  return {
    genesysId: body.id,
    own,
    type: body.type,
    content: normalizeContent(body.content),
    ...(tracingId === undefined ? {} : { tracingId }),
    ...(body.text === undefined ? {} : { text: body.text }),
    ...(time === undefined ? {} : { time }),
  };
}
