/**
 * What a server said when it answered a WebSocket upgrade with an HTTP response: Genesys refusing the
 * guest socket (an unknown deployment, an origin the deployment does not allow, a server shedding load),
 * or a stack refusing the CLI's connection. `ws` hands such a response to an `'unexpected-response'`
 * listener instead of failing at once, so its words can go next to the status; without them a person
 * only sees "HTTP 403".
 *
 * Bounded on every side: at most MAX_REFUSAL_BYTES are read, for at most REFUSAL_READ_MS, and the words
 * kept are one line of at most 160 characters, query strings removed. What the body holds is not
 * documented (docs/decisions.md): a JSON body gives its first message-like field, plain text itself, an
 * HTML page its title; anything else gives no words, and the status alone is reported as before.
 */
import { Buffer } from 'node:buffer';
import type { Clock } from '../../domain/clock.js';
import { boundedDetail } from './failure-reason.js';

/** A refused upgrade: the response's status and, when its body had any, Genesys' words. */
export interface RefusedUpgrade {
  readonly status: number;
  readonly said?: string;
}

/** The part of Node's `IncomingMessage` read here (what `ws` passes to 'unexpected-response'). */
export interface UpgradeResponse {
  readonly statusCode?: number | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  on(event: 'data', listener: (chunk: Uint8Array | string) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  destroy(): void;
}

/** Bytes of a refusal's body read at most (the words are one short line). */
export const MAX_REFUSAL_BYTES = 4096;
/** How long a refusal's body is waited for before the status is reported alone. */
export const REFUSAL_READ_MS = 1000;

/** JSON fields that carry a person's words, in the order they are tried (nested `error` too). */
const MESSAGE_FIELDS = ['message', 'errorMessage', 'error_description', 'detail', 'description'];

/**
 * Reads a refused upgrade's status and words; never rejects. The response is destroyed when done
 * (whole, capped, failed or out of time). Each string of `hide` (a token the request carried, which a
 * server may echo) is replaced by `<hidden>` before the words are cut to length, so no part of it shows.
 */
export function readRefusal(
  response: UpgradeResponse,
  clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>,
  hide: readonly string[] = [],
): Promise<RefusedUpgrade> {
  const status = response.statusCode ?? 0;
  const contentType = headerValue(response.headers['content-type']);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      response.destroy();
      const said = refusalWords(contentType, Buffer.concat(chunks).toString('utf8'), hide);
      resolve(said === undefined ? { status } : { status, said });
    };
    const timer = clock.setTimeout(finish, REFUSAL_READ_MS);
    response.on('data', (chunk) => {
      if (settled) return;
      const data =
        typeof chunk === 'string'
          ? Buffer.from(chunk)
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      chunks.push(data.subarray(0, MAX_REFUSAL_BYTES - bytes));
      bytes += data.byteLength;
      if (bytes >= MAX_REFUSAL_BYTES) finish();
    });
    response.on('end', finish);
    response.on('close', finish);
    response.on('error', finish);
  });
}

/**
 * The words of a refusal's body, as one bounded line, or undefined when it has none a person can read.
 * A body cut at MAX_REFUSAL_BYTES is no longer valid JSON: it then gives no words.
 */
export function refusalWords(
  contentType: string | undefined,
  body: string,
  hide: readonly string[] = [],
): string | undefined {
  const type = (contentType ?? '').toLowerCase();
  const text = body.trim();
  if (text.length === 0) return undefined;
  let words: string | undefined;
  if (type.includes('json') || (type === '' && (text.startsWith('{') || text.startsWith('"')))) {
    words = jsonWords(text);
  } else if (type.includes('html') || /^<(!doctype|html)/i.test(text)) {
    words = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1];
  } else if (type === '' || type.startsWith('text/')) {
    words = text;
  }
  if (words === undefined) return undefined;
  for (const secret of hide) {
    if (secret.length > 0) words = words.split(secret).join('<hidden>');
  }
  // One line: control characters (newlines included) become spaces.
  const line = words
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes.
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length === 0 ? undefined : boundedDetail(line);
}

function jsonWords(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value === 'string') return value;
  if (!isRecord(value)) return undefined;
  const error = value.error;
  return (
    messageOf(value) ?? (typeof error === 'string' ? error : isRecord(error) ? messageOf(error) : undefined)
  );
}

/** The first of MESSAGE_FIELDS that holds a string. */
function messageOf(record: Readonly<Record<string, unknown>>): string | undefined {
  for (const field of MESSAGE_FIELDS) {
    const value = record[field];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function headerValue(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}
