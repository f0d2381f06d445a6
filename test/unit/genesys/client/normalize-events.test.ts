import { describe, expect, it } from 'vitest';
import { echoEvent, outboundEvents, windowKey } from '../../../../src/genesys/client/normalize-events.js';
import type { StructuredMessage } from '../../../../src/genesys/responses.js';

const base = { id: 'x1', direction: 'Outbound', channel: { time: '2026-01-01T00:00:00.000Z' } } as const;
const flags = { late: false, fromHistory: false };

describe('outboundEvents', () => {
  it('turns a bot quick-reply message into a message event with normalised content', () => {
    const body: StructuredMessage = {
      ...base,
      type: 'Structured',
      text: 'Pick one',
      originatingEntity: 'Bot',
      content: [{ contentType: 'QuickReply', quickReply: { text: 'Yes', payload: 'y' } }],
      metadata: { correlationId: 'c' },
    };
    expect(outboundEvents(body, { late: true, fromHistory: true })).toEqual([
      {
        name: 'message',
        payload: {
          genesysId: 'x1',
          author: 'bot',
          type: 'Structured',
          text: 'Pick one',
          content: [{ kind: 'quickReply', text: 'Yes', payload: 'y' }],
          time: base.channel.time,
          metadata: { correlationId: 'c' },
          late: true,
          fromHistory: true,
        },
      },
    ]);
  });

  it('reads typing durations, 5000 ms by default and 0 for Off, and drops typing from history', () => {
    const body: StructuredMessage = {
      ...base,
      type: 'Event',
      originatingEntity: 'Human',
      events: [
        { eventType: 'Typing', typing: { type: 'On' } },
        { eventType: 'Typing', typing: { type: 'Off', duration: 1000 } },
      ],
    };
    expect(outboundEvents(body, flags).map((e) => e.payload)).toEqual([
      { author: 'agent', durationMs: 5000 },
      { author: 'agent', durationMs: 0 },
    ]);
    expect(outboundEvents(body, { late: false, fromHistory: true })).toEqual([]);
  });

  it('names presence types in camelCase and reads readOnly on a Disconnect only', () => {
    const body: StructuredMessage = {
      ...base,
      type: 'Event',
      metadata: { readOnly: 'true' },
      events: [
        { eventType: 'Presence', presence: { type: 'Disconnect' } },
        { eventType: 'Presence', presence: { type: 'SignIn' } },
      ],
    };
    expect(outboundEvents(body, flags).map((e) => e.payload)).toMatchObject([
      { type: 'disconnect', readOnly: true, author: 'system' },
      { type: 'signIn' },
    ]);
    expect(outboundEvents(body, flags)[1]?.payload).not.toHaveProperty('readOnly');
  });

  it('turns a receipt into a receipt event', () => {
    const body: StructuredMessage = {
      ...base,
      type: 'Receipt',
      status: 'Failed',
      reasons: [{ code: 'RateLimited' }],
    };
    expect(outboundEvents(body, flags)).toEqual([
      { name: 'receipt', payload: { messageId: 'x1', status: 'Failed', reasons: [{ code: 'RateLimited' }] } },
    ]);
  });
});

describe('windowKey', () => {
  it('keys receipts apart from their message and from each other', () => {
    expect(windowKey({ ...base, type: 'Text' })).toBe('x1');
    expect(windowKey({ ...base, type: 'Receipt', status: 'Read' })).toBe('receipt:x1:Read');
  });
});

describe('echoEvent', () => {
  it('describes a guest message pushed back', () => {
    const body: StructuredMessage = { ...base, direction: 'Inbound', type: 'Text', text: 'hi' };
    expect(echoEvent(body, 't1', true)).toEqual({
      genesysId: 'x1',
      own: true,
      type: 'Text',
      content: [],
      tracingId: 't1',
      text: 'hi',
      time: base.channel.time,
    });
  });
});
