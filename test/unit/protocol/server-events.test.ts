import { describe, expect, it } from 'vitest';
import { ConstraintError } from '../../../src/domain/errors.js';
import {
  errorEventFor,
  fitsInOneMessage,
  ProtocolError,
  parseServerEvent,
  SERVER_EVENT_TYPES,
  type ServerEvent,
  serializeEvent,
} from '../../../src/protocol/index.js';

const sessionId = 'sess_0123456789abcdefABCDEF';
const time = '2026-11-24T10:00:00.000Z';

const examples: ServerEvent[] = [
  {
    type: 'connect',
    sessionId,
    resumed: false,
    lastSequenceId: 0,
    status: 'active',
    constraints: {
      maxTextLength: 4000,
      maxCustomDataBytes: 2048,
      attachments: {
        enabled: true,
        fileTypes: ['image/*'],
        maxFileSizeKB: 10240,
        blockedExtensions: ['.exe'],
        maxPerMessage: 1,
      },
      sendRatePerSecond: 2,
      typingIntervalMs: 5000,
    },
  },
  {
    type: 'message',
    sessionId,
    sequenceId: 1,
    entryId: 'e-1',
    direction: 'bot',
    text: 'What would you like to do?',
    content: [
      { kind: 'quickReply', text: 'Yes', payload: 'yes' },
      { kind: 'card', title: 'Plan', actions: [{ type: 'link', text: 'More', url: 'https://example.com' }] },
    ],
    status: 'sent',
    time,
  },
  {
    type: 'status',
    sessionId,
    sequenceId: 2,
    status: 'failed',
    failure: { code: 'text_too_long', message: 'too long' },
  },
  { type: 'readReceipt', sessionId, sequenceId: 2, status: 'read' },
  { type: 'typing', sessionId, from: 'agent', state: 'on', durationMs: 5000 },
  { type: 'presence', sessionId, from: 'agent', presence: 'disconnect', readOnly: true },
  {
    type: 'upload',
    sessionId,
    uploadId: 'u1',
    attachmentId: 'a1',
    method: 'PUT',
    url: 'http://127.0.0.1/put',
    headers: {},
  },
  { type: 'uploaded', sessionId, uploadId: 'u1', attachmentId: 'a1' },
  { type: 'uploadFailed', sessionId, uploadId: 'u1', code: 'attachment_too_large', message: 'too big' },
  {
    type: 'context',
    sessionId,
    attributes: { 'cart.value': '149.99' },
    bytes: 16,
    maxBytes: 2048,
    state: 'pending',
  },
  { type: 'history', sessionId, entries: [], hasMore: false },
  { type: 'ack', action: 'typing', sessionId },
  {
    type: 'sessionEnded',
    sessionId,
    reason: 'error',
    code: 'upstream_rejected',
    message: 'Genesys refused the session: HTTP 404.',
    genesysCode: 404,
  },
  {
    type: 'upstream',
    sessionId,
    state: 'retrying',
    reason: 'dns',
    detail: 'ENOTFOUND',
    message: 'The connection to Genesys failed (dns: ENOTFOUND). Trying again in 4 s.',
    attempt: 2,
    retryAt: '2026-12-06T05:30:02.000Z',
  },
  new ProtocolError('rate_limited', 'Slow down.', { retryAfterMs: 500 }).toEvent(),
  { type: 'pong', time },
];

describe('server events', () => {
  it('has an example of every event type', () => {
    expect(examples.map((event) => event.type).sort()).toEqual([...SERVER_EVENT_TYPES].sort());
  });

  it.each(examples.map((event) => [event.type, event]))(
    'round-trips %s through serializeEvent and parseServerEvent',
    (_, event) => {
      expect(parseServerEvent(serializeEvent(event))).toEqual({ ok: true, event });
    },
  );

  it('says whether a serialised event fits in one 128 KB API Gateway message, counting UTF-8 bytes', () => {
    const event = (text: string): ServerEvent => ({ type: 'pong', nonce: text, time });
    expect(fitsInOneMessage(serializeEvent(event('x')))).toBe(true);
    // 70,000 two-byte characters: under 128 K UTF-16 units, but 140,000 bytes of UTF-8.
    expect(fitsInOneMessage(serializeEvent(event('é'.repeat(70_000))))).toBe(false);
  });

  it('reports an unknown event type so that clients can ignore it', () => {
    expect(parseServerEvent('{"type":"futureThing","x":1}')).toEqual({
      ok: false,
      reason: 'unknown_type',
      type: 'futureThing',
    });
    expect(parseServerEvent('not json')).toEqual({ ok: false, reason: 'invalid_json' });
  });
});

describe('error events', () => {
  it("carry the message in `error` too, where the seed protocol's frontends read it", () => {
    const event = new ProtocolError('text_too_long', 'Too long.', {
      action: 'send',
      clientMessageId: 'c1',
    }).toEvent();
    expect(event).toEqual({
      type: 'error',
      code: 'text_too_long',
      message: 'Too long.',
      error: 'Too long.',
      retryable: false,
      action: 'send',
      clientMessageId: 'c1',
    });
  });

  it('say when a retry helps and after how long', () => {
    expect(new ProtocolError('rate_limited', 'Wait.', { retryAfterMs: 499.2 }).toEvent()).toMatchObject({
      retryable: true,
      retryAfterMs: 500,
    });
  });

  it('keep the message of domain errors, which describe the caller’s own input', () => {
    const event = errorEventFor(
      new ConstraintError('context_too_large', 'Too many bytes.', { bytes: 3000 }),
      {
        action: 'context',
      },
    );
    expect(event).toMatchObject({
      code: 'context_too_large',
      message: 'Too many bytes.',
      details: { bytes: 3000 },
    });
  });

  it('hide everything about unexpected errors behind internal_error', () => {
    const leak = new Error('ConditionalCheckFailedException: secret=hunter2 at arn:aws:dynamodb:...');
    const event = errorEventFor(leak, { action: 'send', clientMessageId: 'c9' });
    expect(event).toMatchObject({
      code: 'internal_error',
      action: 'send',
      clientMessageId: 'c9',
      retryable: true,
    });
    expect(JSON.stringify(event)).not.toMatch(/hunter2|arn:aws|Conditional/);
  });

  it('refuse to expose an error whose code is not documented', () => {
    const odd = Object.assign(new Error('odd'), { expose: true, code: 'made_up' });
    expect(errorEventFor(odd).code).toBe('internal_error');
  });

  it('truncate an echoed action so that a hostile frame cannot make the answer large', () => {
    expect(
      new ProtocolError('unknown_action', 'x', { action: 'a'.repeat(10_000) }).toEvent().action,
    ).toHaveLength(64);
  });
});
