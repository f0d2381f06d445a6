import { describe, expect, it } from 'vitest';
import { Lease } from '../../../worker/lease.js';

/** A monotonic clock the test moves by hand. */
function fakeClock(start = 0) {
  let t = start;
  return {
    monotonic: () => t,
    set: (ms: number) => {
      t = ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** Whether `promise` has settled, after letting every queued microtask and one macrotask run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('Lease', () => {
  it('refuses durationMs <= 0 (and NaN)', () => {
    expect(() => new Lease({ durationMs: 0 })).toThrow(RangeError);
    expect(() => new Lease({ durationMs: -5 })).toThrow(RangeError);
    expect(() => new Lease({ durationMs: Number.NaN })).toThrow(RangeError);
    expect(() => new Lease({ durationMs: 1 })).not.toThrow();
  });

  it('is invalid before the first renew', () => {
    const clock = fakeClock(5_000);
    const lease = new Lease({ durationMs: 1_000, monotonic: clock.monotonic });
    expect(lease.valid).toBe(false);
    clock.set(0);
    expect(lease.valid).toBe(false);
  });

  it('now() reads the injected monotonic clock', () => {
    const clock = fakeClock(1234);
    const lease = new Lease({ durationMs: 1_000, monotonic: clock.monotonic });
    expect(lease.now()).toBe(1234);
    clock.advance(10);
    expect(lease.now()).toBe(1244);
  });

  it('defaults to performance.now() as its clock', () => {
    const lease = new Lease({ durationMs: 60_000 });
    const before = performance.now();
    const now = lease.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(performance.now());
    lease.renew(lease.now());
    expect(lease.valid).toBe(true);
  });

  it('is valid for exactly durationMs after the time the beat was sent', () => {
    const clock = fakeClock(100);
    const lease = new Lease({ durationMs: 1_000, monotonic: clock.monotonic });
    const sentAt = lease.now();
    // The acknowledgement arrives 400 ms later: the lease still runs from the sent time.
    clock.set(500);
    lease.renew(sentAt);
    expect(lease.valid).toBe(true);
    clock.set(1_099);
    expect(lease.valid).toBe(true);
    clock.set(1_099.999);
    expect(lease.valid).toBe(true);
    clock.set(1_100);
    expect(lease.valid).toBe(false);
    clock.set(5_000);
    expect(lease.valid).toBe(false);
  });

  it('a beat whose ack came after the lease it would grant is not valid', () => {
    const clock = fakeClock(0);
    const lease = new Lease({ durationMs: 1_000, monotonic: clock.monotonic });
    clock.set(2_000);
    lease.renew(0);
    expect(lease.valid).toBe(false);
  });

  it('renew never shortens the lease', () => {
    const clock = fakeClock(0);
    const lease = new Lease({ durationMs: 1_000, monotonic: clock.monotonic });
    lease.renew(500); // valid until 1500
    lease.renew(100); // a late ack of an older beat: until 1100 would shorten it
    clock.set(1_400);
    expect(lease.valid).toBe(true);
    clock.set(1_500);
    expect(lease.valid).toBe(false);
    // A newer beat extends it.
    lease.renew(1_450);
    clock.set(2_449);
    expect(lease.valid).toBe(true);
    clock.set(2_450);
    expect(lease.valid).toBe(false);
  });

  it('ready() resolves at once while valid', async () => {
    const clock = fakeClock(0);
    const lease = new Lease({ durationMs: 1_000, monotonic: clock.monotonic });
    lease.renew(0);
    clock.set(999);
    expect(await isSettled(lease.ready())).toBe(true);
  });

  it('ready() on an expired lease waits for a later renew that makes it valid', async () => {
    const clock = fakeClock(0);
    const lease = new Lease({ durationMs: 1_000, monotonic: clock.monotonic });
    lease.renew(0);
    clock.set(1_000);
    const first = lease.ready();
    const second = lease.ready();
    expect(await isSettled(first)).toBe(false);

    // A renew that does not reach the present leaves the waiters waiting.
    lease.renew(-50);
    lease.renew(0);
    expect(await isSettled(first)).toBe(false);
    expect(await isSettled(second)).toBe(false);

    clock.set(1_200);
    lease.renew(1_100);
    expect(lease.valid).toBe(true);
    expect(await isSettled(first)).toBe(true);
    expect(await isSettled(second)).toBe(true);
  });

  it('ready() before the first renew waits for it', async () => {
    const clock = fakeClock(0);
    const lease = new Lease({ durationMs: 1_000, monotonic: clock.monotonic });
    const waiting = lease.ready();
    clock.set(50);
    expect(await isSettled(waiting)).toBe(false);
    lease.renew(lease.now());
    expect(await isSettled(waiting)).toBe(true);
  });

  it('a waiter woken once is not woken again, and later waiters wait anew', async () => {
    const clock = fakeClock(0);
    const lease = new Lease({ durationMs: 100, monotonic: clock.monotonic });
    const first = lease.ready();
    lease.renew(0);
    expect(await isSettled(first)).toBe(true);
    clock.set(200);
    const later = lease.ready();
    expect(await isSettled(later)).toBe(false);
    lease.renew(150);
    expect(await isSettled(later)).toBe(true);
  });

  it('revoke() ends a valid lease at once', async () => {
    const clock = fakeClock(0);
    const lease = new Lease({ durationMs: 10_000, monotonic: clock.monotonic });
    lease.renew(0);
    expect(lease.valid).toBe(true);
    lease.revoke();
    expect(lease.valid).toBe(false);
    expect(await isSettled(lease.ready())).toBe(false);
  });

  it('after revoke() no beat makes it valid again, not even one sent before the revoke', () => {
    const clock = fakeClock(0);
    const lease = new Lease({ durationMs: 1_000, monotonic: clock.monotonic });
    lease.renew(0);
    const inFlight = lease.now();
    clock.set(10);
    lease.revoke();
    clock.set(20);
    lease.renew(inFlight);
    expect(lease.valid).toBe(false);
    lease.renew(20);
    expect(lease.valid).toBe(false);
  });

  it('releaseWaiters() wakes every waiter without making the lease valid', async () => {
    const clock = fakeClock(0);
    const lease = new Lease({ durationMs: 1_000, monotonic: clock.monotonic });
    const a = lease.ready();
    const b = lease.ready();
    expect(await isSettled(a)).toBe(false);
    lease.releaseWaiters();
    expect(await isSettled(a)).toBe(true);
    expect(await isSettled(b)).toBe(true);
    expect(lease.valid).toBe(false);
    // Waiting again after the release waits: the lease is still not valid.
    expect(await isSettled(lease.ready())).toBe(false);
  });
});
