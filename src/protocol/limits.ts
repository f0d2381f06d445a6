/**
 * Fixed bounds of the public protocol. They hold whatever the session's Genesys deployment allows;
 * the session's own constraints (see `ChannelConstraints`) narrow them further.
 */

/**
 * API Gateway WebSocket's maximum message size (128 KB, not raisable): a message above it is refused. One
 * WebSocket frame is at most 32 KB there (docs/protocol.md); only a client that splits a message into
 * frames can send more than that.
 */
export const MAX_FRAME_BYTES = 128 * 1024;

/** Deepest nesting accepted anywhere in a frame. UI state rarely needs more than a handful of levels. */
export const MAX_FRAME_DEPTH = 32;

/** Hard ceiling on one text, in code points, before any deployment's own (lower) limit applies. */
export const MAX_TEXT_CEILING = 16_384;

/** Longest `clientMessageId` / `uploadId`. UUIDs and ULIDs fit with room to spare. */
export const MAX_CLIENT_ID_LENGTH = 128;

/** Most transcript entries one `history` request may ask for. */
export const MAX_HISTORY_LIMIT = 100;
export const DEFAULT_HISTORY_LIMIT = 50;

/**
 * Largest sequenceId (and `afterSequenceId`, `beforeSequenceId`, `toSequenceId`) a frame may name:
 * 2^31 - 1, so that every client language holds it in a 32-bit int, and far beyond any real session
 * (at Genesys' 2 messages per second a session needs 34 years to reach it). Larger numbers are
 * `invalid_field` at parse time, before they reach the store (whose bounds must stay safe integers).
 */
export const MAX_SEQUENCE_ID = 2_147_483_647;

/** Longest file name, as on common file systems. */
export const MAX_FILENAME_LENGTH = 255;

/** Keys refused anywhere in a frame: they can reach an object's prototype when merged naively. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
