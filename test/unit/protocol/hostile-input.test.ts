/**
 * Input a hostile user sends on purpose: sequence numbers past any transcript, characters that spoof
 * what people read, content types that smuggle headers, bytes that are not what they claim, and frames
 * built to make the error answer huge. Each gets one typed error with a documented code.
 */
import { describe, expect, it } from 'vitest';
import { constraintsFromSessionResponse } from '../../../src/domain/constraints.js';
import {
  ERROR_CODES,
  type ErrorCode,
  MAX_SEQUENCE_ID,
  type ParseResult,
  parseClientFrame,
  serializeEvent,
} from '../../../src/protocol/index.js';
import { PNG_1X1_BASE64 } from '../../../support/seed-frames.js';

const SESSION = 'sess_0123456789abcdefABCDEF';

/** The emulator's deployment: images, PDF and text. */
const session = constraintsFromSessionResponse({
  allowedMedia: {
    inbound: {
      fileTypes: [{ type: 'image/*' }, { type: 'application/pdf' }, { type: 'text/plain' }],
      maxFileSizeKB: 10240,
    },
  },
});

function parse(frame: unknown, constraints = session): ParseResult {
  return parseClientFrame(typeof frame === 'string' ? frame : JSON.stringify(frame), { constraints });
}

function refused(result: ParseResult, code: ErrorCode) {
  if (result.ok) throw new Error(`expected ${code}, got a valid frame`);
  expect(result.error.code).toBe(code);
  expect(ERROR_CODES[code].retryable).toBe(false);
  return result.error;
}

const base64 = (value: string | number[]) =>
  (typeof value === 'string' ? Buffer.from(value) : Buffer.from(value)).toString('base64');

describe('sequence numbers', () => {
  it.each([
    ['history.afterSequenceId', { action: 'history', afterSequenceId: 9007199254740991 }, 'afterSequenceId'],
    [
      'history.afterSequenceId',
      { action: 'history', afterSequenceId: MAX_SEQUENCE_ID + 1 },
      'afterSequenceId',
    ],
    ['history.beforeSequenceId', { action: 'history', beforeSequenceId: 2 ** 40 }, 'beforeSequenceId'],
    [
      'connect.afterSequenceId',
      { action: 'connect', sessionId: SESSION, afterSequenceId: 9007199254740991 },
      'afterSequenceId',
    ],
    [
      'send.reply.toSequenceId',
      { action: 'send', reply: { type: 'button', text: 'Yes', payload: 'y', toSequenceId: 2 ** 53 - 1 } },
      'reply.toSequenceId',
    ],
  ])('refuses a %s past the largest sequenceId with invalid_field, naming the bound', (_, frame, field) => {
    const error = refused(parse(frame), 'invalid_field');
    expect(error.details?.field).toBe(field);
    expect(error.message).toContain(String(MAX_SEQUENCE_ID));
  });

  it('names our bound, not the safe-integer one, for numbers past 2^53', () => {
    const error = refused(parse('{"action":"history","afterSequenceId":9007199254740993}'), 'invalid_field');
    expect(error.message).toContain(String(MAX_SEQUENCE_ID));
  });

  it('accepts the largest sequenceId itself', () => {
    expect(parse({ action: 'history', afterSequenceId: MAX_SEQUENCE_ID }).ok).toBe(true);
    expect(parse({ action: 'connect', sessionId: SESSION, afterSequenceId: MAX_SEQUENCE_ID }).ok).toBe(true);
  });
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
const SPOOFING = /[\u0000-\u0008\u0080-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('characters that spoof what people read', () => {
  it.each([
    ['send.text', { action: 'send', text: 'pay \u202Eusd 01' }, 'text', 'U+202E'],
    ['send.text', { action: 'send', text: 'a\u0000b' }, 'text', 'U+0000'],
    ['send.text', { action: 'send', text: 'a\u009bb' }, 'text', 'U+009B'],
    ['send.text', { action: 'send', text: 'x\u2066y' }, 'text', 'U+2066'],
    [
      'send.reply.text',
      { action: 'send', reply: { type: 'quickReply', text: 'Y\u202Ees', payload: 'y' } },
      'reply.text',
      'U+202E',
    ],
    [
      'upload.caption',
      { action: 'upload', filename: 'a.png', contentType: 'image/png', size: 10, caption: 'see\u0007' },
      'caption',
      'U+0007',
    ],
    [
      'connect.guestInfo',
      { action: 'connect', guestInfo: { name: 'Ada\u202E' } },
      'guestInfo.name',
      'U+202E',
    ],
  ])('refuses a control or bidi character in %s with text_invalid', (_, frame, field, codePoint) => {
    const error = refused(parse(frame), 'text_invalid');
    expect(error.details).toMatchObject({ field, codePoint });
    expect(error.message).toContain(codePoint);
    expect(serializeEvent(error.toEvent())).not.toMatch(SPOOFING);
  });

  it('keeps tabs, newlines and bidi marks in text', () => {
    expect(parse({ action: 'send', text: 'line 1\r\n\tline 2 \u200f\u05e9\u05dc\u05d5\u05dd' }).ok).toBe(
      true,
    );
  });

  it.each(['inv\u202Egnp.scr', 'invoice\u200b.pdf.exe', 'a\u200e.png', 'a\tb.png', 'a\u0085.png'])(
    'refuses the file name %j with attachment_name_invalid, naming the code point',
    (filename) => {
      const error = refused(
        parse({ action: 'upload', filename, contentType: 'image/png', size: 10 }),
        'attachment_name_invalid',
      );
      expect(error.details?.field).toBe('filename');
      expect(error.details?.codePoint).toMatch(/^U\+[0-9A-F]{4}$/);
      expect(JSON.stringify(error.toEvent())).not.toContain(JSON.stringify(filename).slice(1, -1));
    },
  );

  it('refuses a spoofing file name before the session is known (the protocol ceilings)', () => {
    const result = parseClientFrame(
      JSON.stringify({ action: 'upload', filename: 'inv\u202Egnp.scr', contentType: 'image/png', size: 1 }),
    );
    refused(result, 'attachment_name_invalid');
  });
});

describe('content types', () => {
  it.each([
    'image/png\r\nX-Evil: 1',
    'image/png\nX-Evil: 1',
    'image/png\u0000',
    'image/png x',
    'image/*',
    'image',
  ])('refuses %j with invalid_field on contentType', (contentType) => {
    const error = refused(
      parse({ action: 'upload', filename: 'a.png', contentType, size: 10 }),
      'invalid_field',
    );
    expect(error.details?.field).toBe('contentType');
    expect(error.message).not.toContain('X-Evil');
  });

  it('refuses a prefix of an allowed type', () => {
    const only = constraintsFromSessionResponse({
      allowedMedia: { inbound: { fileTypes: [{ type: 'image/png' }] } },
    });
    refused(
      parse({ action: 'upload', filename: 'a.png', contentType: 'image/pngx', size: 10 }, only),
      'attachment_type_not_allowed',
    );
    expect(
      parse({ action: 'upload', filename: 'a.png', contentType: 'IMAGE/PNG; q=1', size: 10 }, only).ok,
    ).toBe(true);
  });

  it('does not let image/* admit image/svg+xml, unless the deployment lists it by name', () => {
    const svg = { action: 'upload', filename: 'a.svg', contentType: 'image/svg+xml', size: 10 };
    refused(parse(svg), 'attachment_type_not_allowed');
    const listed = constraintsFromSessionResponse({
      allowedMedia: { inbound: { fileTypes: [{ type: 'image/*' }, { type: 'image/svg+xml' }] } },
    });
    expect(parse(svg, listed).ok).toBe(true);
    // Before the session is known any well-formed type passes; the session's own check follows.
    expect(parseClientFrame(JSON.stringify(svg)).ok).toBe(true);
  });
});

describe('inline bytes against their declared type', () => {
  const upload = (contentType: string, data: string) => ({
    action: 'upload',
    filename: 'file.bin',
    contentType,
    data,
  });

  it('passes bytes of the declared type', () => {
    expect(parse(upload('image/png', PNG_1X1_BASE64)).ok).toBe(true);
    expect(parse(upload('text/plain', base64('hello, wörld\n'))).ok).toBe(true);
    expect(parse(upload('application/pdf', base64('%PDF-1.7\n'))).ok).toBe(true);
  });

  it.each([
    ['image/png', base64('GIF89a\u0001\u0000'), 'a GIF image'],
    ['image/jpeg', PNG_1X1_BASE64, 'a PNG image'],
    ['image/gif', base64('<svg onload=alert(1)>'), 'none of the known formats'],
    ['image/webp', base64('RIFF\u0000\u0000\u0000\u0000WAVE'), 'none of the known formats'],
    ['application/pdf', base64('MZ\u0090'), 'none of the known formats'],
    ['text/plain', base64([0x68, 0x00, 0x69]), 'binary content (a NUL byte at offset 1)'],
    ['text/plain', base64([0xff, 0xfe, 0x41]), 'bytes that are not valid UTF-8'],
  ])('refuses %s whose bytes are not one with attachment_content_mismatch', (contentType, data, found) => {
    const error = refused(parse(upload(contentType, data)), 'attachment_content_mismatch');
    expect(error.details).toMatchObject({ field: 'data', found });
  });

  it('also checks the seed spelling (buffer as a Node Buffer JSON)', () => {
    const frame = {
      action: 'upload',
      filename: 'a.png',
      contentType: 'image/png',
      buffer: { type: 'Buffer', data: [...Buffer.from('not a png')] },
    };
    refused(parse(frame), 'attachment_content_mismatch');
  });

  it('passes types it cannot check as they are', () => {
    const video = constraintsFromSessionResponse({
      allowedMedia: { inbound: { fileTypes: [{ type: 'video/mp4' }] } },
    });
    expect(parse(upload('video/mp4', base64('anything at all')), video).ok).toBe(true);
  });
});

describe('errors repeat a small, bounded excerpt of the frame', () => {
  const MAX_EVENT_BYTES = 4096;
  const size = (result: ParseResult) => {
    if (result.ok) throw new Error('expected an error');
    return Buffer.byteLength(serializeEvent(result.error.toEvent()));
  };

  it('names at most 10 unknown fields of at most 64 characters, never their values', () => {
    const frame: Record<string, unknown> = { action: 'send', text: 'hi' };
    for (let i = 0; i < 1000; i++) frame[`field_${i}_${'x'.repeat(80)}`] = 'secret-value';
    const raw = JSON.stringify(frame);
    expect(raw.length).toBeGreaterThan(27_000);
    const result = parseClientFrame(raw);
    const error = refused(result, 'unknown_field');
    const fields = error.details?.fields as readonly string[];
    expect(fields).toHaveLength(10);
    for (const name of fields) expect(Array.from(name).length).toBeLessThanOrEqual(64);
    expect(error.details?.count).toBe(1000);
    expect(error.message).toContain('997 more');
    expect(serializeEvent(error.toEvent())).not.toContain('secret-value');
    expect(size(result)).toBeLessThan(MAX_EVENT_BYTES);
  });

  it.each([
    [
      'unknown_field nested',
      { action: 'connect', guestInfo: { ['g'.repeat(100_000)]: 'x' } },
      'unknown_field',
    ],
    ['unknown_action', { action: 'a'.repeat(100_000) }, 'unknown_action'],
    [
      'invalid_field under a long key',
      { action: 'connect', metadata: { ['m'.repeat(100_000)]: 1 } },
      'invalid_field',
    ],
    [
      'context_invalid with a long dotted key',
      { action: 'context', data: { [`${'k'.repeat(100_000)}.x`]: 1 } },
      'context_invalid',
    ],
    [
      'context_too_large with long keys',
      {
        action: 'context',
        data: Object.fromEntries([1, 2, 3].map((i) => [`${i}${'k'.repeat(30_000)}`, 'v'])),
      },
      'context_too_large',
    ],
  ])('bounds %s', (_, frame, code) => {
    const result = parse(frame);
    refused(result, code as ErrorCode);
    expect(size(result)).toBeLessThan(MAX_EVENT_BYTES);
  });

  it.each([
    [
      'forbidden_key',
      `{"action":"context","data":{"${'k'.repeat(60_000)}":{"__proto__":1}}}`,
      'forbidden_key',
    ],
    [
      'invalid_number',
      `{"action":"context","data":{"${'k'.repeat(60_000)}":{"${'j'.repeat(60_000)}":1e999}}}`,
      'invalid_number',
    ],
    [
      'too_deep',
      `{"action":"context","data":${`{"${'k'.repeat(3000)}":`.repeat(40)}1${'}'.repeat(40)}}`,
      'too_deep',
    ],
  ])('bounds %s and its path', (_, raw, code) => {
    const result = parseClientFrame(raw);
    const error = refused(result, code as ErrorCode);
    expect(String(error.details?.path).length).toBeLessThanOrEqual(256);
    expect(size(result)).toBeLessThan(MAX_EVENT_BYTES);
  });
});
