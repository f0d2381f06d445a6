import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Conversation, SlidingWindowLimiter } from '../../../../src/genesys/emulator/sessions.js';

describe('SlidingWindowLimiter', () => {
  it('allows the limit in a window and says how many whole seconds until the next', () => {
    const limiter = new SlidingWindowLimiter(2);
    expect(limiter.take(1000)).toBe(0);
    expect(limiter.take(1400)).toBe(0);
    expect(limiter.take(1500)).toBe(1);
    expect(limiter.take(1999)).toBe(1);
    expect(limiter.take(2000)).toBe(0);
  });

  it('rounds a long wait up to whole seconds', () => {
    const limiter = new SlidingWindowLimiter(1, 5000);
    limiter.take(0);
    expect(limiter.take(1)).toBe(5);
  });

  it('never lets any 1 s window hold more than the limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 200 }),
        (limit, gaps) => {
          const limiter = new SlidingWindowLimiter(limit);
          let now = 0;
          const taken: number[] = [];
          for (const gap of gaps) {
            now += gap;
            if (limiter.take(now) === 0) taken.push(now);
          }
          for (const start of taken)
            expect(taken.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });
});

describe('Conversation.nextTime', () => {
  it('is strictly increasing even within one millisecond, and follows the clock after', () => {
    const conversation = new Conversation('t', 0);
    const now = Date.parse('2026-01-05T09:00:00.000Z');
    expect([conversation.nextTime(now), conversation.nextTime(now), conversation.nextTime(now)]).toEqual([
      '2026-01-05T09:00:00.000Z',
      '2026-01-05T09:00:00.001Z',
      '2026-01-05T09:00:00.002Z',
    ]);
    expect(conversation.nextTime(now + 1000)).toBe('2026-01-05T09:00:01.000Z');
  });

  it('starts with a customer and an acd participant and adds speakers once', () => {
    const conversation = new Conversation('t', 0);
    expect(conversation.participants.map((p) => p.purpose)).toEqual(['customer', 'acd']);
    const agent = conversation.participant('agent', 'Alex');
    expect(conversation.participant('agent', 'Sam')).toBe(agent);
    conversation.end();
    expect(conversation.participants.every((p) => p.state === 'disconnected')).toBe(true);
  });
});
