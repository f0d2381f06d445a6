import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constraintsFromSessionResponse, DEFAULT_CONSTRAINTS } from '../../../src/domain/constraints.js';
import {
  CLIENT_ACTIONS,
  ERROR_CODES,
  type ErrorCode,
  MAX_FRAME_BYTES,
  MAX_FRAME_DEPTH,
  type ParseResult,
  parseClientFrame,
} from '../../../src/protocol/index.js';
import { PNG_1X1_BASE64, seedFrames } from '../../../support/seed-frames.js';

/** A deployment that allows images and text files, as a SessionResponse would describe it. */
const imagesAllowed = constraintsFromSessionResponse({
  connected: true,
  newSession: true,
  maxCustomDataBytes: 2048,
  allowedMedia: {
    inbound: { fileTypes: [{ type: 'image/*' }, { type: 'text/plain' }], maxFileSizeKB: 10240 },
  },
  blockedExtensions: ['.exe', '.bat'],
});

const SESSION = 'sess_0123456789abcdefABCDEF';

function parse(frame: unknown, constraints = imagesAllowed): ParseResult {
  return parseClientFrame(typeof frame === 'string' ? frame : JSON.stringify(frame), { constraints });
}

function expectError(result: ParseResult, code: ErrorCode) {
  expect(result.ok, `expected ${code}, got a valid frame`).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(result.error.code).toBe(code);
  expect(result.error.message.length).toBeGreaterThan(0);
  return result.error;
}

function expectFrame(result: ParseResult) {
  if (!result.ok) throw new Error(`expected a frame, got ${result.error.code}: ${result.error.message}`);
  return result.frame;
}

describe('parseClientFrame: seed tutorial frames', () => {
  it('parses the seed send frame as a send action', () => {
    expect(expectFrame(parse(seedFrames.send))).toEqual({ action: 'send', text: seedFrames.send.text });
  });

  it('parses the seed context frame as a context action with its data untouched', () => {
    expect(expectFrame(parse(seedFrames.context))).toEqual(seedFrames.context);
  });

  it('parses the seed upload frame: buffer becomes inline data, size is derived, send defaults to true', () => {
    const frame = expectFrame(parse(seedFrames.uploadBase64));
    expect(frame).toEqual({
      action: 'upload',
      filename: 'receipt.png',
      contentType: 'image/png',
      data: PNG_1X1_BASE64,
      size: Buffer.from(PNG_1X1_BASE64, 'base64').byteLength,
      caption: 'Here is my receipt',
      send: true,
    });
  });

  it("accepts a Node Buffer's JSON form as the seed's buffer", () => {
    const frame = expectFrame(parse(seedFrames.uploadNodeBuffer));
    expect(frame).toMatchObject({ action: 'upload', data: Buffer.from('hello').toString('base64'), size: 5 });
  });
});

describe('parseClientFrame: every action', () => {
  const valid: Record<(typeof CLIENT_ACTIONS)[number], object> = {
    connect: {
      action: 'connect',
      guestInfo: { name: 'Ada', email: 'ada@example.com' },
      metadata: { run: 42 },
    },
    send: { action: 'send', text: 'hi', clientMessageId: '3b241101-e2bb-4255-8caf-4136c566a962' },
    typing: { action: 'typing' },
    context: { action: 'context', data: { cart: { items: [{ sku: 'A1' }] } }, flush: true },
    upload: { action: 'upload', filename: 'a.png', contentType: 'image/png', size: 2048 },
    history: { action: 'history', afterSequenceId: 10, limit: 20 },
    end: { action: 'end', sessionId: SESSION },
    ping: { action: 'ping', nonce: 'n1' },
  };

  it.each(Object.entries(valid))('parses a valid %s frame', (action, frame) => {
    expect(expectFrame(parse(frame)).action).toBe(action);
  });

  it('covers every documented action', () => {
    expect(Object.keys(valid).sort()).toEqual([...CLIENT_ACTIONS].sort());
  });

  it('parses a resume with afterSequenceId', () => {
    expect(expectFrame(parse({ action: 'connect', sessionId: SESSION, afterSequenceId: 7 }))).toMatchObject({
      sessionId: SESSION,
      afterSequenceId: 7,
    });
  });

  it('parses a quick-reply answer without text', () => {
    const frame = expectFrame(
      parse({ action: 'send', reply: { type: 'quickReply', text: 'Yes', payload: 'yes' } }),
    );
    expect(frame).toMatchObject({ reply: { type: 'quickReply', payload: 'yes' } });
  });

  it('keeps slot uploads (no inline data) from sending by default', () => {
    expect(expectFrame(parse(valid.upload))).toMatchObject({ send: false, size: 2048 });
  });
});

describe('parseClientFrame: hostile and broken input never throws', () => {
  it('answers invalid JSON with invalid_json', () => {
    expectError(parse('{"action": "send", '), 'invalid_json');
    expectError(parse(''), 'invalid_json');
  });

  it.each([
    ['an array', '[{"action":"send","text":"hi"}]'],
    ['a string', '"send"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
  ])('answers %s with invalid_frame', (_, raw) => {
    expectError(parse(raw), 'invalid_frame');
  });

  it('answers a missing or non-string action with invalid_frame', () => {
    expectError(parse({ text: 'hi' }), 'invalid_frame');
    expectError(parse({ action: 7 }), 'invalid_frame');
  });

  it('answers an unknown action with unknown_action and names it', () => {
    const error = expectError(
      parse({ action: 'sendMessage', text: 'hi', clientMessageId: 'c-1' }),
      'unknown_action',
    );
    expect(error.action).toBe('sendMessage');
    expect(error.clientMessageId).toBe('c-1');
    expect(error.toEvent()).toMatchObject({ type: 'error', code: 'unknown_action', action: 'sendMessage' });
  });

  it.each([
    [{ action: 'send', text: 42 }, 'text'],
    [{ action: 'send', text: 'hi', clientMessageId: 12 }, 'clientMessageId'],
    [{ action: 'history', limit: '10' }, 'limit'],
    [{ action: 'history', limit: 1.5 }, 'limit'],
    [{ action: 'connect', guestInfo: 'Ada' }, 'guestInfo'],
    [{ action: 'context', data: [1, 2] }, 'data'],
    [{ action: 'context' }, 'data'],
    [{ action: 'upload', filename: 'a.png', contentType: 'image/png', size: -1 }, 'size'],
    [{ action: 'end', sessionId: 'short' }, 'sessionId'],
  ])('answers wrong field types with invalid_field (%j)', (frame, field) => {
    const error = expectError(parse(frame), 'invalid_field');
    expect(error.details?.field).toBe(field);
    expect(error.action).toBe((frame as { action: string }).action);
  });

  it('answers an unknown field with unknown_field and names the field', () => {
    const error = expectError(parse({ action: 'send', text: 'hi', clientMessageID: 'x' }), 'unknown_field');
    expect(error.message).toContain('clientMessageID');
  });

  it.each([
    ['__proto__ at the top', '{"action":"send","text":"hi","__proto__":{"polluted":true}}'],
    ['__proto__ inside context', '{"action":"context","data":{"a":{"__proto__":{"polluted":true}}}}'],
    ['constructor', '{"action":"context","data":{"constructor":{"prototype":{"x":1}}}}'],
    ['prototype', '{"action":"context","data":{"prototype":"x"}}'],
  ])('refuses %s with forbidden_key and pollutes nothing', (_, raw) => {
    expectError(parse(raw), 'forbidden_key');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('refuses text over the session limit with text_too_long', () => {
    const error = expectError(
      parse({ action: 'send', text: 'x'.repeat(imagesAllowed.maxTextLength + 1) }),
      'text_too_long',
    );
    expect(error.details).toMatchObject({ maxLength: imagesAllowed.maxTextLength });
    expectFrame(parse({ action: 'send', text: 'x'.repeat(imagesAllowed.maxTextLength) }));
  });

  it('counts text in characters, not UTF-16 units or bytes', () => {
    const emoji = '😀'.repeat(DEFAULT_CONSTRAINTS.maxTextLength);
    expectFrame(parse({ action: 'send', text: emoji }, DEFAULT_CONSTRAINTS));
    expectError(parse({ action: 'send', text: `${emoji}😀` }, DEFAULT_CONSTRAINTS), 'text_too_long');
  });

  it('refuses a 200 KB frame with frame_too_large before parsing it', () => {
    const raw = JSON.stringify({ action: 'send', text: 'x'.repeat(200 * 1024) });
    const error = expectError(parse(raw), 'frame_too_large');
    expect(error.details).toMatchObject({ maxBytes: MAX_FRAME_BYTES });
  });

  it('measures the frame limit in UTF-8 bytes', () => {
    const justOver = JSON.stringify({ action: 'send', text: 'é'.repeat(MAX_FRAME_BYTES / 2) });
    expect(justOver.length).toBeLessThan(MAX_FRAME_BYTES);
    expectError(parse(justOver), 'frame_too_large');
  });

  it('refuses objects nested 1,000 deep with too_deep', () => {
    const raw = `{"action":"context","data":${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}}`;
    expectError(parse(raw), 'too_deep');
    const arrays = `{"action":"context","data":{"a":${'['.repeat(1000)}${']'.repeat(1000)}}}`;
    expectError(parse(arrays), 'too_deep');
  });

  it(`accepts nesting up to ${MAX_FRAME_DEPTH} levels in the frame`, () => {
    const depth = MAX_FRAME_DEPTH - 2;
    const raw = `{"action":"ping","nonce":"x","extra":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    // Depth is fine, so the frame gets as far as its schema (which refuses the extra field).
    expectError(parse(raw), 'unknown_field');
  });

  it.each(['1e400', '-1e400'])('refuses %s with invalid_number', (number) => {
    expectError(parse(`{"action":"history","limit":${number}}`), 'invalid_number');
    expectError(parse(`{"action":"context","data":{"v":${number}}}`), 'invalid_number');
  });

  it('refuses bytes that are not UTF-8', () => {
    expectError(parseClientFrame(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'invalid_json');
  });

  it('accepts the same frame as UTF-8 bytes', () => {
    expectFrame(parseClientFrame(new TextEncoder().encode(JSON.stringify(seedFrames.send))));
  });

  it('never throws and always answers with a documented code, whatever the input', () => {
    const anyJson = fc.jsonValue({ maxDepth: 6 });
    const frameLike = fc.record(
      {
        action: fc.oneof(fc.constantFrom(...CLIENT_ACTIONS), fc.string()),
        text: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        data: anyJson,
        sessionId: fc.string(),
        clientMessageId: fc.string(),
        filename: fc.string(),
        contentType: fc.string(),
        size: fc.oneof(fc.integer(), fc.double()),
        limit: fc.oneof(fc.integer(), fc.double()),
      },
      { requiredKeys: [] },
    );
    const raw = fc.oneof(
      fc.string({ unit: 'binary' }),
      anyJson.map((value) => JSON.stringify(value) ?? 'null'),
      frameLike.map((value) => JSON.stringify(value)),
    );
    fc.assert(
      fc.property(raw, (input) => {
        const result = parseClientFrame(input, { constraints: imagesAllowed });
        if (!result.ok) {
          expect(Object.keys(ERROR_CODES)).toContain(result.error.code);
          expect(result.error.toEvent().type).toBe('error');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseClientFrame: channel constraints', () => {
  it('refuses context over the custom-data budget with context_too_large', () => {
    const error = expectError(
      parse({ action: 'context', data: { blob: 'x'.repeat(2048) } }),
      'context_too_large',
    );
    expect(error.message).toMatch(/2048/);
  });

  it('refuses context keys with a dot with context_invalid', () => {
    expectError(parse({ action: 'context', data: { 'a.b': 1 } }), 'context_invalid');
  });

  it('refuses a disallowed type, a blocked extension, an oversize or empty file', () => {
    expectError(
      parse({ action: 'upload', filename: 'a.pdf', contentType: 'application/pdf', size: 10 }),
      'attachment_type_not_allowed',
    );
    expectError(
      parse({ action: 'upload', filename: 'a.exe', contentType: 'image/png', size: 10 }),
      'attachment_extension_blocked',
    );
    expectError(
      parse({ action: 'upload', filename: 'a.png', contentType: 'image/png', size: 10240 * 1024 + 1 }),
      'attachment_too_large',
    );
    expectError(
      parse({ action: 'upload', filename: 'a.png', contentType: 'image/png', size: 0 }),
      'attachment_empty',
    );
    expectError(
      parse({ action: 'upload', filename: '../a.png', contentType: 'image/png', size: 1 }),
      'attachment_name_invalid',
    );
  });

  it('refuses uploads when the deployment allows no media', () => {
    expectError(
      parse({ action: 'upload', filename: 'a.png', contentType: 'image/png', size: 1 }, DEFAULT_CONSTRAINTS),
      'attachment_type_not_allowed',
    );
  });

  it('refuses more attachments per message than the deployment allows', () => {
    expectError(parse({ action: 'send', attachmentIds: ['a', 'b'] }), 'invalid_field');
  });

  it('refuses inline data whose size disagrees with the declared size', () => {
    expectError(
      parse({ action: 'upload', filename: 'a.png', contentType: 'image/png', data: PNG_1X1_BASE64, size: 1 }),
      'invalid_field',
    );
  });

  it('refuses a send with nothing to send', () => {
    expectError(parse({ action: 'send', text: '' }), 'invalid_field');
    expectError(parse({ action: 'send' }), 'invalid_field');
  });

  it('refuses afterSequenceId without a session to resume', () => {
    expectError(parse({ action: 'connect', afterSequenceId: 3 }), 'invalid_field');
  });
});
