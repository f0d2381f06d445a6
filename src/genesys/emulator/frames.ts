/**
 * Server → client frames of the Genesys guest API, built exactly as the reference shows them (§2, §4, §5):
 * the envelope `{type, class, code, body, tracingId?}` and every body. Pure: ids and times are passed in.
 */
import type {
  ChannelParty,
  PresignedUrlBody,
  StructuredMessage,
  WireContent,
  WireEvent,
} from '../responses.js';
import type { Card, Reply } from './scripts.js';

export type FrameType = 'response' | 'message';

export interface ServerFrame<C extends string = string, B = unknown> {
  readonly type: FrameType;
  readonly class: C;
  readonly code: number;
  readonly body: B;
  readonly tracingId?: string;
}

/** Every field of a SessionResponse the emulator sends (the reference's full list, §4). */
export interface SessionResponse {
  readonly connected: boolean;
  readonly newSession: boolean;
  readonly readOnly: boolean;
  readonly clearedExistingSession: boolean;
  readonly maxCustomDataBytes: number;
  readonly allowedMedia: {
    readonly inbound: {
      readonly fileTypes: readonly { readonly type: string }[];
      readonly maxFileSizeKB: number;
    };
  };
  readonly blockedExtensions: readonly string[];
  readonly durationSeconds: number;
  /** Epoch seconds. */
  readonly expirationDate: number;
}

export interface GetConfigurationBody {
  readonly allowedMedia: SessionResponse['allowedMedia'];
  readonly blockedExtensions: readonly string[];
  readonly maxCustomDataBytes: number;
  readonly messageRoutingEnabled: boolean;
  readonly sessionDurationSeconds: number;
}

export type MediaType = 'Image' | 'Video' | 'Audio' | 'File' | 'Link';

/** An attachment as it appears in message content: everything a client needs to show and fetch it. */
export interface AttachmentInfo {
  readonly id: string;
  readonly filename: string;
  readonly mediaType: MediaType;
  /** Unknown for files an agent links by URL. */
  readonly fileSize?: number;
  readonly mime: string;
  readonly url: string;
}

function envelope<C extends string, B>(
  type: FrameType,
  cls: C,
  code: number,
  body: B,
  tracingId?: string,
): ServerFrame<C, B> {
  return tracingId === undefined
    ? { type, class: cls, code, body }
    : { type, class: cls, code, body, tracingId };
}

export const frames = {
  /** `{"type":"response","class":"string","code":4011,"body":"message too long"}` */
  error: (code: number, message: string, tracingId?: string) =>
    envelope('response', 'string', code, message, tracingId),

  tooManyRequests: (retryAfterSeconds: number, tracingId?: string) =>
    envelope(
      'response',
      'TooManyRequestsErrorMessage',
      429,
      {
        retryAfter: retryAfterSeconds,
        errorCode: 4029,
        errorMessage: 'Message rate too high for this session',
      },
      tracingId,
    ),

  sessionResponse: (body: SessionResponse, tracingId?: string) =>
    envelope('response', 'SessionResponse', 200, body, tracingId),

  /** A StructuredMessage: "message" for pushes (incl. the Inbound echo), "response" for the echo reply. */
  structuredMessage: (body: StructuredMessage, type: FrameType = 'message', tracingId?: string) =>
    envelope(type, 'StructuredMessage', 200, body, tracingId),

  jwt: (jwt: string, exp: number, tracingId?: string) =>
    envelope('response', 'JwtResponse', 200, { jwt, exp }, tracingId),

  presignedUrl: (body: PresignedUrlBody, tracingId?: string) =>
    envelope('response', 'PresignedUrlResponse', 200, body, tracingId),

  uploadSuccess: (attachmentId: string, downloadUrl: string, timestamp: string) =>
    envelope('message', 'UploadSuccessEvent', 200, { attachmentId, downloadUrl, timestamp }),

  uploadFailure: (attachmentId: string, errorCode: number, errorMessage: string, timestamp: string) =>
    envelope('message', 'UploadFailureEvent', 200, { attachmentId, errorCode, errorMessage, timestamp }),

  generateUrlError: (attachmentId: string, errorCode: number, errorMessage: string, tracingId?: string) =>
    envelope('message', 'GenerateUrlError', 200, { attachmentId, errorCode, errorMessage }, tracingId),

  attachmentDeleted: (attachmentId: string, tracingId?: string) =>
    envelope('message', 'AttachmentDeletedResponse', 200, { attachmentId }, tracingId),

  configuration: (body: GetConfigurationBody, tracingId?: string) =>
    envelope('response', 'GetConfigurationResponse', 200, body, tracingId),

  sessionExpired: () => envelope('response', 'SessionExpiredEvent', 200, {}),

  sessionCleared: (tracingId?: string) => envelope('message', 'SessionClearedEvent', 200, {}, tracingId),

  connectionClosed: (reason?: string) =>
    envelope('message', 'ConnectionClosedEvent', 200, reason === undefined ? {} : { reason }),
} as const;

/** Epoch ms → the ISO-8601 form Genesys uses in `channel.time`: "2022-08-22T19:24:26.704Z". */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

export function mediaTypeOf(mime: string): MediaType {
  const top = mime.split('/')[0]?.toLowerCase();
  if (top === 'image') return 'Image';
  if (top === 'video') return 'Video';
  if (top === 'audio') return 'Audio';
  return 'File';
}

/** The guest request's message, as far as the echo needs it (already validated). */
export interface InboundInput {
  readonly type: string;
  readonly text?: string | undefined;
  readonly content?: readonly WireContent[] | undefined;
  readonly events?: readonly unknown[] | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/**
 * The Inbound echo of a guest's onMessage: a new id, Genesys' time, the guest's own metadata plus a
 * correlationId, and `originatingEntity: ""` as in echoes recorded from real traffic (reference §5, §15.3).
 */
export function inboundMessage(input: {
  readonly id: string;
  readonly time: string;
  readonly messageId: string;
  readonly correlationId: string;
  readonly message: InboundInput;
}): StructuredMessage {
  const { message } = input;
  return {
    id: input.id,
    type: message.type,
    ...(message.text !== undefined ? { text: message.text } : {}),
    direction: 'Inbound',
    channel: { time: input.time, messageId: input.messageId },
    ...(message.content !== undefined && message.content.length > 0 ? { content: message.content } : {}),
    ...(message.events !== undefined ? { events: message.events as readonly WireEvent[] } : {}),
    metadata: { ...message.metadata, correlationId: input.correlationId },
    originatingEntity: '',
  };
}

/** The reply to `echo`: text "ping", and the session's refreshed expiry (reference §3.4). */
export function echoReply(input: {
  readonly id: string;
  readonly time: string;
  readonly messageId: string;
  readonly durationSeconds: number;
  readonly expirationDate: number;
}): StructuredMessage {
  return {
    text: 'ping',
    type: 'Text',
    direction: 'Inbound',
    id: input.id,
    channel: { time: input.time, messageId: input.messageId },
    metadata: {
      durationSeconds: String(input.durationSeconds),
      expirationDate: String(input.expirationDate),
    },
  };
}

function wireCard(card: Card) {
  return {
    title: card.title,
    ...(card.description !== undefined ? { description: card.description } : {}),
    ...(card.image !== undefined ? { image: card.image } : {}),
    actions: (card.actions ?? []).map((action) => ({ ...action })),
  };
}

/** The content items of a Reply. The attachment, when the reply has one, must be resolved by the caller. */
export function replyContent(reply: Reply, attachment?: AttachmentInfo): WireContent[] {
  const content: WireContent[] = [];
  for (const quickReply of reply.quickReplies ?? []) {
    content.push({
      contentType: 'QuickReply',
      quickReply: { text: quickReply.text, payload: quickReply.payload },
    });
  }
  if (reply.card) content.push({ contentType: 'Card', card: wireCard(reply.card) });
  if (reply.carousel)
    content.push({ contentType: 'Carousel', carousel: { cards: reply.carousel.cards.map(wireCard) } });
  if (attachment) content.push({ contentType: 'Attachment', attachment: { ...attachment } });
  return content;
}

interface OutboundBase {
  readonly id: string;
  readonly time: string;
  readonly messageId: string;
  readonly correlationId: string;
}

/**
 * An agent's or bot's message. Text alone or with an attachment is "Text"; quick replies, cards and
 * carousels make it "Structured" (reference §5). A human has originatingEntity "Human" and channel.from.
 */
export function outboundMessage(
  base: OutboundBase & {
    readonly reply: Reply;
    readonly attachment?: AttachmentInfo;
    readonly from?: ChannelParty;
  },
): StructuredMessage {
  const { reply } = base;
  const content = replyContent(reply, base.attachment);
  const structured =
    reply.quickReplies !== undefined || reply.card !== undefined || reply.carousel !== undefined;
  const human = reply.from === 'agent';
  return {
    id: base.id,
    type: structured ? 'Structured' : 'Text',
    ...(reply.text !== undefined ? { text: reply.text } : {}),
    direction: 'Outbound',
    channel: {
      time: base.time,
      messageId: base.messageId,
      type: 'Private',
      ...(base.from !== undefined ? { from: base.from } : {}),
    },
    ...(content.length > 0 ? { content } : {}),
    metadata: { correlationId: base.correlationId },
    originatingEntity: human ? 'Human' : 'Bot',
  };
}

/**
 * Agent or bot typing: `{"eventType":"Typing","typing":{"type":"On","duration":5000}}`, duration in ms,
 * with `originatingEntity` naming who types (assumed: the field is on every Outbound message, but no
 * recorded Typing event shows it; docs/emulator.md).
 */
export function typingEvent(
  base: OutboundBase & { readonly durationMs: number; readonly from: 'agent' | 'bot' },
): StructuredMessage {
  return {
    id: base.id,
    type: 'Event',
    direction: 'Outbound',
    channel: { time: base.time, messageId: base.messageId },
    events: [{ eventType: 'Typing', typing: { type: 'On', duration: base.durationMs } }],
    metadata: { correlationId: base.correlationId },
    originatingEntity: base.from === 'agent' ? 'Human' : 'Bot',
  };
}

/** The conversation ended; `metadata.readOnly: "true"` when the session became read-only (reference §5). */
export function disconnectEvent(base: OutboundBase & { readonly readOnly: boolean }): StructuredMessage {
  return {
    id: base.id,
    type: 'Event',
    direction: 'Outbound',
    channel: { time: base.time, messageId: base.messageId },
    events: [{ eventType: 'Presence', presence: { type: 'Disconnect' } }],
    metadata: { correlationId: base.correlationId, ...(base.readOnly ? { readOnly: 'true' } : {}) },
  };
}

/** A receipt has the id of the message it refers to (J `WebMessagingMessage`). */
export function receiptMessage(input: {
  readonly referencedId: string;
  readonly time: string;
  readonly status: 'Delivered' | 'Read';
}): StructuredMessage {
  return {
    id: input.referencedId,
    type: 'Receipt',
    status: input.status,
    direction: 'Outbound',
    channel: { time: input.time },
  };
}
