import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF as BACKOFF, nextDelay } from '../../../src/domain/backoff.js';
import {
  DEFAULT_RECONNECT_PACING,
  ReconnectPacer,
  reconnectPacing,
} from '../../../src/domain/reconnect-pacer.js';
// The benchmarks' seeded generator: a "random" crowd is the same on every run.
import { mulberry32 } from '../../../src/domain/seeded-random.js';

/** Starts per whole second after `origin`: {second → count}. */
function perSecond(starts: readonly number[], origin: number): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const start of starts) {
    const second = Math.floor((start - origin) / 1000);
    buckets.set(second, (buckets.get(second) ?? 0) + 1);
  }
  return buckets;
}

describe('reconnectPacing', () => {
  it('fills in the defaults and freezes the result', () => {
    expect(reconnectPacing()).toEqual(DEFAULT_RECONNECT_PACING);
    expect(reconnectPacing({ burst: 3 })).toEqual({ ...DEFAULT_RECONNECT_PACING, burst: 3 });
    expect(Object.isFrozen(reconnectPacing())).toBe(true);
  });

  it('refuses unknown keys and out-of-range numbers', () => {
    expect(() => reconnectPacing({ rate: 5 } as never)).toThrow(TypeError);
    for (const ratePerSecond of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => reconnectPacing({ ratePerSecond }), String(ratePerSecond)).toThrow(RangeError);
    }
    for (const burst of [0, -1, 1.5, Number.NaN]) {
      expect(() => reconnectPacing({ burst }), String(burst)).toThrow(RangeError);
    }
  });
});

describe('ReconnectPacer', () => {
  it('gives a lone reconnect a slot at once', () => {
    const pacer = new ReconnectPacer({ ratePerSecond: 10, burst: 1 });
    expect(pacer.reserve(1_000)).toBe(1_000);
    // Long after: no debt left.
    expect(pacer.reserve(60_000)).toBe(60_000);
  });

  it('lets a burst start at once, then one every 1000/rate ms, in the order asked', () => {
    const pacer = new ReconnectPacer({ ratePerSecond: 100, burst: 3 });
    const starts = Array.from({ length: 6 }, () => pacer.reserve(0));
    expect(starts).toEqual([0, 0, 0, 10, 20, 30]);
  });

  it('never gives a slot before it is asked for', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 1, max: 50 }),
        (asked, ratePerSecond, burst) => {
          const pacer = new ReconnectPacer({ ratePerSecond, burst });
          for (const now of asked.sort((a, b) => a - b)) {
            expect(pacer.reserve(now)).toBeGreaterThanOrEqual(now);
          }
        },
      ),
    );
  });

  it('never gives more than rate + burst slots within any second', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 500 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 20 }),
        (asked, ratePerSecond, burst) => {
          const pacer = new ReconnectPacer({ ratePerSecond, burst });
          const slots = asked.sort((a, b) => a - b).map((now) => pacer.reserve(now));
          // A sliding 1 s window from each slot: at most burst + rate of them.
          for (let i = 0, j = 0; i < slots.length; i++) {
            while ((slots[j] as number) <= (slots[i] as number) - 1000) j++;
            expect(i - j + 1).toBeLessThanOrEqual(burst + ratePerSecond);
          }
        },
      ),
    );
  });

  it('spreads 2,000 sockets dropped together (each also waiting its own backoff) over about 2000/rate s', () => {
    const random = mulberry32(7);
    const pacer = new ReconnectPacer(DEFAULT_RECONNECT_PACING);
    const drop = 1_700_000_000_000;
    const starts = Array.from({ length: 2_000 }, () =>
      Math.max(drop + nextDelay(0, BACKOFF, random), pacer.reserve(drop)),
    );
    const last = Math.max(...starts) - drop;
    const expected = (2_000 / DEFAULT_RECONNECT_PACING.ratePerSecond) * 1000;
    expect(last).toBeGreaterThan(expected - 1_000);
    expect(last).toBeLessThan(expected + 1_000);
    const peak = Math.max(...perSecond(starts, drop).values());
    // The target: no second with more than a quarter of them.
    expect(peak / 2_000).toBeLessThan(0.25);
  });

  it('without it, the same crowd would all come back within the first second', () => {
    const random = mulberry32(7);
    const starts = Array.from({ length: 2_000 }, () => nextDelay(0, BACKOFF, random));
    expect(perSecond(starts, 0).get(0)).toBe(2_000);
  });
});
