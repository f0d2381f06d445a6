import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SendPacer, type SendPacerOptions } from '../../../src/domain/pacing.js';

/** The sends that succeed when the caller tries at each of `attempts` (increasing) and keeps the ok ones. */
function sendsAt(pacer: SendPacer, attempts: readonly number[]): number[] {
  return attempts.filter((t) => pacer.tryTake(t).ok);
}

/** The most sends any half-open window [t, t + w) holds; the worst window starts at a send. */
function busiestWindow(sends: readonly number[], w: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < sends.length; i++) {
    while (j < sends.length && (sends[j] ?? 0) < (sends[i] ?? 0) + w) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

/** Increasing attempt times: bursts of near-simultaneous tries mixed with idle spells. */
const attemptsArb = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 700 }),
      fc.integer({ max: 5000, min: 0 }),
    ),
    {
      maxLength: 300,
    },
  )
  .map((gaps) => {
    let t = 1_700_000_000_000;
    return gaps.map((gap) => {
      t += gap;
      return t;
    });
  });

describe('SendPacer options', () => {
  it('throws a TypeError naming an unknown key', () => {
    expect(() => new SendPacer({ rate: 2 } as never)).toThrow(TypeError);
    expect(() => new SendPacer({ rate: 2 } as never)).toThrow(/"rate"/);
  });

  it('throws a RangeError for a rate that is not a finite positive number', () => {
    for (const ratePerSecond of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new SendPacer({ ratePerSecond })).toThrow(RangeError);
    }
  });

  it('throws a RangeError for a burst that is not an integer of at least 1', () => {
    for (const burst of [0, 1.5, -1, Number.NaN]) expect(() => new SendPacer({ burst })).toThrow(RangeError);
  });
});

describe('SendPacer', () => {
  it('lets the first send go at once and spaces the next by 500 ms by default', () => {
    const pacer = new SendPacer();
    expect(pacer.tryTake(1000)).toEqual({ ok: true });
    expect(pacer.nextSendAt(1000)).toBe(1500);
    expect(pacer.tryTake(1200)).toEqual({ ok: false, waitMs: 300 });
    expect(pacer.tryTake(1500)).toEqual({ ok: true });
  });

  it('takes no token when it refuses a send', () => {
    const pacer = new SendPacer();
    pacer.tryTake(0);
    for (let t = 1; t < 500; t += 7) expect(pacer.tryTake(t).ok).toBe(false);
    expect(pacer.tryTake(500).ok).toBe(true);
  });

  it('reports the wait in delayUntilNext, and 0 when a send may go now', () => {
    const pacer = new SendPacer();
    expect(pacer.delayUntilNext(0)).toBe(0);
    pacer.tryTake(0);
    expect(pacer.delayUntilNext(100)).toBe(400);
    expect(pacer.delayUntilNext(900)).toBe(0);
    expect(pacer.nextSendAt(900)).toBe(900);
  });

  it('allows `burst` sends back to back after an idle spell', () => {
    const pacer = new SendPacer({ ratePerSecond: 2, burst: 3 });
    expect(sendsAt(pacer, [0, 0, 0, 0])).toHaveLength(3);
    expect(pacer.nextSendAt(0)).toBe(500);
    expect(sendsAt(pacer, [10_000, 10_000, 10_000, 10_000])).toHaveLength(3);
  });

  it('reaches the full rate under constant demand: 20 or 21 sends in 10 s', () => {
    const polling = sendsAt(
      new SendPacer(),
      Array.from({ length: 10_000 }, (_, t) => t),
    );
    expect(polling).toHaveLength(20);
    const pacer = new SendPacer();
    const scheduled: number[] = [];
    for (let t = pacer.nextSendAt(0); t <= 10_000; t = pacer.nextSendAt(t)) {
      expect(pacer.tryTake(t).ok).toBe(true);
      scheduled.push(t);
    }
    expect(scheduled).toHaveLength(21);
  });

  it('never puts more than 2 sends in any one-second window with the defaults', () => {
    fc.assert(
      fc.property(attemptsArb, (attempts) => {
        expect(busiestWindow(sendsAt(new SendPacer(), attempts), 1000)).toBeLessThanOrEqual(2);
      }),
    );
  });

  it('never puts more than ceil(w * r / 1000) + burst - 1 sends in a window of w ms', () => {
    const options: fc.Arbitrary<SendPacerOptions> = fc.record({
      // Halves keep w * r exact, so the bound under test is computed without rounding.
      ratePerSecond: fc.integer({ min: 1, max: 60 }).map((halves) => halves / 2),
      burst: fc.integer({ min: 1, max: 5 }),
    });
    fc.assert(
      fc.property(options, fc.integer({ min: 1, max: 5000 }), attemptsArb, (opts, w, attempts) => {
        const sends = sendsAt(new SendPacer(opts), attempts);
        const bound = Math.ceil((w * opts.ratePerSecond) / 1000) + opts.burst - 1;
        expect(busiestWindow(sends, w)).toBeLessThanOrEqual(bound);
      }),
    );
  });

  it('keeps the bound when sends follow nextSendAt at rates whose interval is not whole ms', () => {
    for (const ratePerSecond of [3, 7, 1.5]) {
      const pacer = new SendPacer({ ratePerSecond });
      const sends: number[] = [];
      for (let t = 1_700_000_000_000; sends.length < 3000; t = pacer.nextSendAt(t)) {
        pacer.tryTake(t);
        sends.push(t);
      }
      expect(busiestWindow(sends, 1000)).toBe(Math.ceil(ratePerSecond));
    }
  });
});

describe('SendPacer.retryAfter', () => {
  it('blocks every send before now + ms and reports exactly that time', () => {
    const pacer = new SendPacer();
    pacer.retryAfter(3000, 1000);
    expect(pacer.nextSendAt(1000)).toBe(4000);
    expect(pacer.tryTake(3999)).toEqual({ ok: false, waitMs: 1 });
    expect(pacer.tryTake(4000)).toEqual({ ok: true });
  });

  it('keeps a longer block in place when a shorter one arrives', () => {
    const pacer = new SendPacer();
    pacer.retryAfter(5000, 0);
    pacer.retryAfter(1000, 100);
    expect(pacer.nextSendAt(100)).toBe(5000);
  });

  it('throws a RangeError for a negative or non-finite duration', () => {
    const pacer = new SendPacer();
    expect(() => pacer.retryAfter(-1, 0)).toThrow(RangeError);
    expect(() => pacer.retryAfter(Number.NaN, 0)).toThrow(RangeError);
    expect(() => pacer.retryAfter(Number.POSITIVE_INFINITY, 0)).toThrow(RangeError);
  });

  it('allows nothing before the block ends, whatever came before it', () => {
    fc.assert(
      fc.property(attemptsArb, fc.integer({ min: 0, max: 10_000 }), fc.nat(2000), (attempts, ms, pause) => {
        const pacer = new SendPacer();
        sendsAt(pacer, attempts);
        const now = (attempts.at(-1) ?? 0) + pause;
        const bucketAt = pacer.nextSendAt(now);
        pacer.retryAfter(ms, now);
        expect(pacer.nextSendAt(now)).toBe(Math.max(bucketAt, now + ms));
        for (let t = now; t < now + ms; t += 97) expect(pacer.tryTake(t).ok).toBe(false);
        expect(pacer.tryTake(pacer.nextSendAt(now)).ok).toBe(true);
      }),
    );
  });
});
