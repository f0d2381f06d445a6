import { utf8ByteLength } from '../domain/utf8.js';
import { MAX_FRAME_BYTES } from './limits.js';
import { SERVER_EVENT_SCHEMAS, type ServerEvent, serverEventSchema } from './server-events.js';

/**
 * Serialises a server event to the JSON text sent on the wire. Events are plain data, so this is
 * JSON.stringify; it lives here so that every sender goes through one place (and one test).
 */
export function serializeEvent(event: ServerEvent): string {
  return JSON.stringify(event);
}

/** True when a serialised event fits in one API Gateway message (128 KB); larger ones must be split. */
export function fitsInOneMessage(serialized: string): boolean {
  return utf8ByteLength(serialized) <= MAX_FRAME_BYTES;
}

export type ServerEventParseResult =
  | { readonly ok: true; readonly event: ServerEvent }
  | {
      readonly ok: false;
      readonly reason: 'invalid_json' | 'unknown_type' | 'invalid_event';
      readonly type?: string;
    };

/**
 * Parses an event received from the service (for clients: the CLI, the web page, tests). An event
 * type this version does not know is reported as `unknown_type` so that the caller can ignore it, as
 * the protocol asks clients to.
 */
export function parseServerEvent(raw: string): ServerEventParseResult {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return { ok: false, reason: 'invalid_event' };
  if (!Object.hasOwn(SERVER_EVENT_SCHEMAS, type)) return { ok: false, reason: 'unknown_type', type };
  const result = serverEventSchema.safeParse(value);
  return result.success ? { ok: true, event: result.data } : { ok: false, reason: 'invalid_event', type };
}
