import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  type BackoffPolicy,
  backoffPolicy,
  DEFAULT_BACKOFF,
  nextDelay,
  ReconnectBackoff,
  sleep,
} from '../../../src/domain/backoff.js';
import type { Clock } from '../../../src/domain/clock.js';

/** Timers that fire only when the test advances time. */
class FakeClock implements Pick<Clock, 'setTimeout' | 'clearTimeout'> {
  time = 0;
  #next = 0;
  readonly timers = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.#next++;
    this.timers.set(handle, { at: this.time + ms, callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  advance(ms: number): void {
    this.time += ms;
    for (const [handle, timer] of [...this.timers]) {
      if (timer.at <= this.time) {
        this.timers.delete(handle);
        timer.callback();
      }
    }
  }
}

const half = (): number => 0.5;
const almostOne = (): number => 1 - Number.EPSILON;

const policyArb: fc.Arbitrary<BackoffPolicy> = fc
  .record({
    baseMs: fc.integer({ min: 0, max: 10_000 }),
    extraCapMs: fc.integer({ min: 0, max: 100_000 }),
    factor: fc.double({ min: 1, max: 10, noNaN: true }),
    minUptimeMs: fc.integer({ min: 0, max: 60_000 }),
  })
  .map(({ baseMs, extraCapMs, factor, minUptimeMs }) =>
    backoffPolicy({ baseMs, capMs: baseMs + extraCapMs, factor, minUptimeMs }),
  );
const unitInterval = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('backoffPolicy', () => {
  it('returns the frozen defaults when given nothing', () => {
    const policy = backoffPolicy();
    expect(policy).toEqual({ baseMs: 500, capMs: 30_000, factor: 2, minUptimeMs: 5000 });
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(DEFAULT_BACKOFF)).toBe(true);
  });

  it('spreads the caller options over the defaults', () => {
    expect(backoffPolicy({ capMs: 10_000 })).toEqual({ ...DEFAULT_BACKOFF, capMs: 10_000 });
  });

  it('throws a TypeError naming an unknown key', () => {
    expect(() => backoffPolicy({ maxMs: 1 } as never)).toThrow(TypeError);
    expect(() => backoffPolicy({ maxMs: 1 } as never)).toThrow(/"maxMs"/);
  });

  it('throws a RangeError for a negative, NaN or infinite number', () => {
    expect(() => backoffPolicy({ baseMs: -1 })).toThrow(RangeError);
    expect(() => backoffPolicy({ minUptimeMs: Number.NaN })).toThrow(/minUptimeMs/);
    expect(() => backoffPolicy({ capMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });

  it('throws a RangeError when baseMs exceeds capMs or factor is below 1', () => {
    expect(() => backoffPolicy({ baseMs: 2000, capMs: 1000 })).toThrow(/baseMs/);
    expect(() => backoffPolicy({ factor: 0.5 })).toThrow(/factor/);
  });
});

describe('nextDelay', () => {
  it('scales the capped exponential ceiling by the random draw', () => {
    expect(nextDelay(0, DEFAULT_BACKOFF, half)).toBe(250);
    expect(nextDelay(3, DEFAULT_BACKOFF, half)).toBe(2000);
    expect(nextDelay(10, DEFAULT_BACKOFF, half)).toBe(15_000);
    expect(nextDelay(2, DEFAULT_BACKOFF, () => 0)).toBe(0);
  });

  it('treats a negative or NaN attempt as attempt 0', () => {
    expect(nextDelay(-5, DEFAULT_BACKOFF, half)).toBe(250);
    expect(nextDelay(Number.NaN, DEFAULT_BACKOFF, half)).toBe(250);
  });

  it('stays finite for huge attempts, also with a zero base', () => {
    expect(nextDelay(1e9, DEFAULT_BACKOFF, half)).toBe(15_000);
    expect(nextDelay(Number.POSITIVE_INFINITY, DEFAULT_BACKOFF, half)).toBe(15_000);
    expect(nextDelay(1e9, backoffPolicy({ baseMs: 0 }), half)).toBe(0);
  });

  it('stays finite for an infinite attempt with factor 1 (1 ** Infinity is NaN in JavaScript)', () => {
    const delay = nextDelay(Number.POSITIVE_INFINITY, backoffPolicy({ factor: 1 }), () => 0.5);
    expect(delay).toBe(DEFAULT_BACKOFF.baseMs / 2);
  });

  it('stays within [0, capMs] when random strays outside [0, 1)', () => {
    for (const r of [-1, 1, 2, Number.NaN, Number.POSITIVE_INFINITY]) {
      const delay = nextDelay(50, DEFAULT_BACKOFF, () => r);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(DEFAULT_BACKOFF.capMs);
    }
  });

  it('is always within [0, capMs] for any attempt and any random in [0, 1)', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.oneof(fc.integer({ min: -10, max: 2000 }), fc.constant(1e9), fc.double({ noNaN: true })),
        unitInterval,
        (policy, attempt, r) => {
          const delay = nextDelay(attempt, policy, () => r);
          expect(Number.isFinite(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(policy.capMs);
        },
      ),
    );
  });

  it('has a ceiling that never shrinks as the attempt grows', () => {
    fc.assert(
      fc.property(policyArb, fc.nat(5000), fc.nat(5000), (policy, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(nextDelay(low, policy, almostOne)).toBeLessThanOrEqual(nextDelay(high, policy, almostOne));
      }),
    );
  });
});

describe('ReconnectBackoff', () => {
  it('grows the delay with every failed attempt', () => {
    const backoff = new ReconnectBackoff({}, half);
    expect([backoff.failed(), backoff.failed(), backoff.failed(), backoff.failed()]).toEqual([
      250, 500, 1000, 2000,
    ]);
    expect(backoff.attempt).toBe(4);
  });

  it('keeps growing the delay in a connect/drop loop shorter than minUptimeMs', () => {
    const backoff = new ReconnectBackoff({}, half);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      backoff.connected(i * 10_000);
      delays.push(backoff.disconnected(i * 10_000 + 4999));
    }
    expect(delays).toEqual([250, 500, 1000, 2000]);
  });

  it('starts again from attempt 0 once a connection stayed up for exactly minUptimeMs', () => {
    const backoff = new ReconnectBackoff({}, half);
    backoff.failed();
    backoff.failed();
    backoff.connected(1000);
    expect(backoff.disconnected(6000)).toBe(250);
    expect(backoff.attempt).toBe(1);
  });

  it('does not reset on a drop without a recorded connection', () => {
    const backoff = new ReconnectBackoff({}, half);
    backoff.connected(0);
    backoff.disconnected(10_000);
    expect(backoff.disconnected(20_000)).toBe(500);
  });

  it('resets the counter only when the uptime reached minUptimeMs', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.nat(20),
        fc.integer({ min: 0, max: 120_000 }),
        unitInterval,
        (policy, failures, uptime, r) => {
          const backoff = new ReconnectBackoff(policy, () => r);
          for (let i = 0; i < failures; i++) backoff.failed();
          backoff.connected(1_000_000);
          const delay = backoff.disconnected(1_000_000 + uptime);
          const healthy = uptime >= policy.minUptimeMs;
          expect(backoff.attempt).toBe(healthy ? 1 : failures + 1);
          expect(delay).toBe(nextDelay(healthy ? 0 : failures, policy, () => r));
        },
      ),
    );
  });

  it('forgets every attempt on reset', () => {
    const backoff = new ReconnectBackoff({}, half);
    backoff.failed();
    backoff.failed();
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.failed()).toBe(250);
  });

  it('rejects an invalid policy at construction', () => {
    expect(() => new ReconnectBackoff({ factor: 0 })).toThrow(RangeError);
  });
});

describe('sleep', () => {
  it('resolves once the clock reaches the delay and not before', async () => {
    const clock = new FakeClock();
    let done = false;
    const sleeping = sleep(1000, { clock }).then(() => {
      done = true;
    });
    clock.advance(999);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await sleeping;
    expect(done).toBe(true);
  });

  it('rejects with the signal reason and clears its timer when aborted', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const sleeping = sleep(1000, { clock, signal: controller.signal });
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    expect(clock.timers.size).toBe(0);
  });

  it('rejects at once without a timer when the signal is already aborted', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    controller.abort();
    await expect(sleep(1000, { clock, signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(clock.timers.size).toBe(0);
  });

  it('rejects with an Error named AbortError when the signal has no reason', async () => {
    const clock = new FakeClock();
    const target = new EventTarget();
    const signal = Object.assign(target, { aborted: false, reason: undefined }) as unknown as AbortSignal;
    const sleeping = sleep(1000, { clock, signal });
    Object.assign(target, { aborted: true });
    target.dispatchEvent(new Event('abort'));
    const error: unknown = await sleeping.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'AbortError' });
  });

  it('removes its abort listener when it resolves', async () => {
    const clock = new FakeClock();
    const { signal } = new AbortController();
    const remove = vi.spyOn(signal, 'removeEventListener');
    const sleeping = sleep(10, { clock, signal });
    clock.advance(10);
    await sleeping;
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
  });

  it('waits 0 ms for a negative or NaN delay', async () => {
    const clock = new FakeClock();
    const sleeping = sleep(Number.NaN, { clock });
    expect([...clock.timers.values()].map((timer) => timer.at)).toEqual([0]);
    clock.advance(0);
    await sleeping;
  });
});
