/**
 * What the Genesys guest API sends: the envelope `{type, class, code, body, tracingId?}` (reference §2)
 * and the bodies of every class (§4, §5). Parsing is pure, dispatches on `class` (never on `type`,
 * which public implementations disagree on), tolerates unknown classes, content types and keys, and
 * turns error strings and 429s into typed errors.
 */
import type { SessionResponseBody } from '../domain/constraints.js';
import { type GenesysError, GenesysRateLimitError, GenesysRequestError } from './errors.js';

export type { SessionResponseBody };

export interface ChannelParty {
  readonly firstName?: string;
  readonly lastName?: string;
  readonly nickname?: string;
  readonly image?: string;
}

export interface OutboundCardAction {
  readonly type: string;
  readonly text?: string;
  readonly url?: string;
  readonly payload?: string;
}

export interface OutboundCard {
  readonly title?: string;
  readonly description?: string;
  readonly image?: string;
  readonly actions?: readonly OutboundCardAction[];
}

/** One item of a StructuredMessage's `content[]`; unknown content types pass through untouched. */
export interface WireContent {
  readonly contentType: string;
  readonly quickReply?: { readonly text: string; readonly payload: string; readonly image?: string };
  readonly card?: OutboundCard;
  readonly carousel?: { readonly cards: readonly OutboundCard[] };
  readonly attachment?: {
    readonly id: string;
    readonly filename?: string;
    readonly mediaType?: string;
    readonly fileSize?: number;
    readonly mime?: string;
    readonly url?: string;
  };
  readonly buttonResponse?: { readonly text: string; readonly payload: string; readonly type: string };
  readonly datePicker?: {
    readonly title?: string;
    readonly subtitle?: string;
    readonly availableTimes?: readonly { readonly dateTime: string; readonly duration?: number }[];
  };
}

export interface WireEvent {
  readonly eventType: string;
  readonly typing?: { readonly type: string; readonly duration?: number };
  readonly presence?: { readonly type: string };
}

/** A StructuredMessage body (§5): guest echoes (Inbound) and agent/bot messages (Outbound). */
export interface StructuredMessage {
  readonly id: string;
  readonly type: string;
  readonly direction: 'Inbound' | 'Outbound' | string;
  readonly text?: string;
  readonly channel?: {
    readonly time?: string | null;
    readonly messageId?: string;
    readonly type?: string;
    readonly from?: ChannelParty;
    readonly to?: ChannelParty;
  };
  readonly content?: readonly WireContent[];
  readonly events?: readonly WireEvent[];
  readonly metadata?: Readonly<Record<string, string>>;
  readonly originatingEntity?: string;
  readonly originatingMessageId?: string;
  readonly status?: string;
  readonly reasons?: readonly { readonly code?: string; readonly message?: string }[];
}

export interface PresignedUrlBody {
  readonly attachmentId: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly fileName?: string;
  readonly fileSize?: number;
  readonly fileType?: string;
}

/** A parsed server frame. `tracingId` is the envelope's, when present. */
export type GenesysFrame =
  | { readonly kind: 'sessionResponse'; readonly body: SessionResponseBody; readonly tracingId?: string }
  | {
      readonly kind: 'structuredMessage';
      /** "response" for the echo reply, "message" for pushes (including the Inbound echo of a send). */
      readonly type: string;
      readonly body: StructuredMessage;
      readonly tracingId?: string;
    }
  | {
      readonly kind: 'jwt';
      readonly body: { readonly jwt: string; readonly exp: number };
      readonly tracingId?: string;
    }
  | { readonly kind: 'presignedUrl'; readonly body: PresignedUrlBody; readonly tracingId?: string }
  | {
      readonly kind: 'uploadSuccess';
      readonly body: {
        readonly attachmentId: string;
        readonly downloadUrl?: string;
        readonly timestamp?: string;
      };
    }
  | {
      readonly kind: 'uploadFailure' | 'generateUrlError';
      readonly body: {
        readonly attachmentId?: string;
        readonly errorCode?: number;
        readonly errorMessage?: string;
      };
      readonly tracingId?: string;
    }
  | {
      readonly kind: 'attachmentDeleted';
      readonly body: { readonly attachmentId: string };
      readonly tracingId?: string;
    }
  | {
      readonly kind: 'configuration';
      readonly body: Readonly<Record<string, unknown>>;
      readonly tracingId?: string;
    }
  | { readonly kind: 'sessionExpired' }
  | { readonly kind: 'sessionCleared' }
  | { readonly kind: 'connectionClosed'; readonly reason?: string }
  | { readonly kind: 'logout' }
  /** An error answer: a 429 (GenesysRateLimitError) or an error string (GenesysRequestError). */
  | { readonly kind: 'error'; readonly error: GenesysError; readonly tracingId?: string }
  /** A class we do not know (Genesys adds classes); ignore it. */
  | { readonly kind: 'unknown'; readonly className: string }
  /** Not a Genesys frame at all (not JSON, no class). */
  | { readonly kind: 'invalid'; readonly reason: string };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

function withTracing<T extends object>(frame: T, tracingId: string | undefined): T & { tracingId?: string } {
  return tracingId === undefined ? frame : { ...frame, tracingId };
}

function stringRecord(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** Parses one text frame from the Genesys guest API. Never throws. */
export function parseGenesysFrame(raw: string): GenesysFrame {
  let envelope: unknown;
  try {
    envelope = JSON.parse(raw);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  if (!isObject(envelope)) return { kind: 'invalid', reason: 'not an object' };
  const className = str(envelope.class);
  if (className === undefined) return { kind: 'invalid', reason: 'no class' };
  const code = num(envelope.code) ?? 200;
  const body = envelope.body;
  const tracingId = str(envelope.tracingId);

  switch (className) {
    case 'string': {
      const message = typeof body === 'string' ? body : 'Genesys refused the request';
      if (code === 200) return { kind: 'unknown', className };
      return withTracing({ kind: 'error', error: new GenesysRequestError(code, message) }, tracingId);
    }
    case 'TooManyRequestsErrorMessage': {
      const b = isObject(body) ? body : {};
      // retryAfter is in seconds on the wire (reference §4).
      const retryAfterMs = Math.max(0, (num(b.retryAfter) ?? 1) * 1000);
      const error = new GenesysRateLimitError(
        retryAfterMs,
        str(b.errorMessage) ?? 'Message rate too high for this session',
      );
      return withTracing({ kind: 'error', error }, tracingId);
    }
    case 'SessionResponse':
      return withTracing(
        { kind: 'sessionResponse', body: isObject(body) ? (body as SessionResponseBody) : {} },
        tracingId,
      );
    case 'StructuredMessage': {
      if (!isObject(body) || str(body.id) === undefined)
        return { kind: 'invalid', reason: 'StructuredMessage without id' };
      const message = body as unknown as StructuredMessage;
      return withTracing(
        { kind: 'structuredMessage', type: str(envelope.type) ?? 'message', body: message },
        tracingId,
      );
    }
    case 'JwtResponse': {
      const b = isObject(body) ? body : {};
      const jwt = str(b.jwt);
      const exp = num(b.exp);
      if (jwt === undefined || exp === undefined)
        return { kind: 'invalid', reason: 'JwtResponse without jwt/exp' };
      return withTracing({ kind: 'jwt', body: { jwt, exp } }, tracingId);
    }
    case 'PresignedUrlResponse': {
      const b = isObject(body) ? body : {};
      const attachmentId = str(b.attachmentId);
      const url = str(b.url);
      if (attachmentId === undefined || url === undefined)
        return { kind: 'invalid', reason: 'PresignedUrlResponse without url' };
      const presigned: PresignedUrlBody = {
        attachmentId,
        url,
        headers: stringRecord(b.headers),
        ...(str(b.fileName) !== undefined ? { fileName: str(b.fileName) as string } : {}),
        ...(num(b.fileSize) !== undefined ? { fileSize: num(b.fileSize) as number } : {}),
        ...(str(b.fileType) !== undefined ? { fileType: str(b.fileType) as string } : {}),
      };
      return withTracing({ kind: 'presignedUrl', body: presigned }, tracingId);
    }
    case 'UploadSuccessEvent': {
      const b = isObject(body) ? body : {};
      const attachmentId = str(b.attachmentId);
      if (attachmentId === undefined)
        return { kind: 'invalid', reason: 'UploadSuccessEvent without attachmentId' };
      return {
        kind: 'uploadSuccess',
        body: {
          attachmentId,
          ...(str(b.downloadUrl) !== undefined ? { downloadUrl: str(b.downloadUrl) as string } : {}),
          ...(str(b.timestamp) !== undefined ? { timestamp: str(b.timestamp) as string } : {}),
        },
      };
    }
    case 'UploadFailureEvent':
    case 'GenerateUrlError': {
      const b = isObject(body) ? body : {};
      const failure = {
        ...(str(b.attachmentId) !== undefined ? { attachmentId: str(b.attachmentId) as string } : {}),
        ...(num(b.errorCode) !== undefined ? { errorCode: num(b.errorCode) as number } : {}),
        ...(str(b.errorMessage) !== undefined ? { errorMessage: str(b.errorMessage) as string } : {}),
      };
      const kind = className === 'UploadFailureEvent' ? 'uploadFailure' : 'generateUrlError';
      return withTracing({ kind, body: failure }, tracingId);
    }
    case 'AttachmentDeletedResponse': {
      const b = isObject(body) ? body : {};
      return withTracing(
        { kind: 'attachmentDeleted', body: { attachmentId: str(b.attachmentId) ?? '' } },
        tracingId,
      );
    }
    case 'GetConfigurationResponse':
      return withTracing({ kind: 'configuration', body: isObject(body) ? body : {} }, tracingId);
    case 'SessionExpiredEvent':
      return { kind: 'sessionExpired' };
    case 'SessionClearedEvent':
      return { kind: 'sessionCleared' };
    case 'ConnectionClosedEvent': {
      const b = isObject(body) ? body : {};
      const reason = str(b.reason) ?? str(b.reasonCode);
      return reason === undefined ? { kind: 'connectionClosed' } : { kind: 'connectionClosed', reason };
    }
    case 'LogoutEvent':
      return { kind: 'logout' };
    default:
      return { kind: 'unknown', className };
  }
}

/** Epoch ms of a StructuredMessage's `channel.time`, or undefined when it has none. */
export function messageTime(message: StructuredMessage): number | undefined {
  const time = message.channel?.time;
  if (typeof time !== 'string') return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}
