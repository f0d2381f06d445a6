/**
 * Opaque continuation tokens for paged queries. A token is base64url JSON of the position (the last key
 * a page returned) plus a tag: a hash over the position and the query's *scope* (for the transcript:
 * the session id and the direction). A token presented for another scope, or altered, fails the tag
 * check and is refused with STORE_INVALID_CURSOR.
 *
 * The tag is a checksum, not a signature: there is no secret. That is enough here because a cursor
 * grants nothing a caller could not ask for directly (a page of its own session after or before a
 * sequenceId); the tag only stops tokens from being replayed against the wrong query or garbled.
 */
import { createHash } from 'node:crypto';
import { StoreError } from './errors.js';

/** A key position: attribute name to string or number (what a LastEvaluatedKey holds). */
export type CursorPosition = Readonly<Record<string, string | number>>;

const VERSION = 1;
/** Far above any real token; refuses absurd input before any parsing. */
const MAX_TOKEN_LENGTH = 2048;

function tag(scope: string, position: CursorPosition): string {
  const canonical = JSON.stringify(
    Object.keys(position)
      .sort()
      .map((name) => [name, position[name]]),
  );
  return createHash('sha256').update(`${VERSION}\n${scope}\n${canonical}`).digest('base64url').slice(0, 22);
}

/** Encodes `position` as a token valid only for `scope`. */
export function encodeCursor(scope: string, position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ v: VERSION, p: position, t: tag(scope, position) })).toString(
    'base64url',
  );
}

function invalid(): StoreError {
  // Never echo the token: it is caller input.
  return new StoreError('STORE_INVALID_CURSOR', 'the continuation token is not valid for this query');
}

/** Decodes a token made by encodeCursor for the same `scope`; anything else → STORE_INVALID_CURSOR. */
export function decodeCursor(token: string, scope: string): CursorPosition {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) {
    throw invalid();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid();
  const { v, p, t } = parsed as { v?: unknown; p?: unknown; t?: unknown };
  if (v !== VERSION || typeof t !== 'string' || typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw invalid();
  }
  const position: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(p)) {
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) {
      position[name] = value;
    } else {
      throw invalid();
    }
  }
  if (tag(scope, position) !== t) throw invalid();
  return position;
}
