/**
 * The guest pane reconnects with its own copy of the relay's backoff (web/backoff.js, plain browser
 * JavaScript). It must be the relay's policy (src/domain/backoff.ts): the same constants, the same
 * delays, and an attempt count that a connect/drop loop cannot reset.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, nextDelay, ReconnectBackoff } from '../../../src/domain/backoff.js';
import { mulberry32 as seeded } from '../../../src/domain/seeded-random.js';
import { RECONNECT, reconnectBackoff, reconnectDelay } from '../../../web/backoff.js';

/** A page's backoff on a clock the test moves, with delays at half their ceiling. */
function onClock() {
  const clock = { now: 0 };
  const backoff = reconnectBackoff({ now: () => clock.now, random: () => 0.5 });
  return { clock, backoff };
}

describe('web/backoff.js', () => {
  it("uses the relay's default policy", () => {
    expect({ ...RECONNECT }).toEqual({ ...DEFAULT_BACKOFF });
  });

  it("gives the relay's delay for every attempt and random number", () => {
    const random = seeded(1);
    for (let attempt = 0; attempt <= 2000; attempt++) {
      const r = random();
      expect(
        reconnectDelay(attempt, () => r),
        `attempt ${attempt}`,
      ).toBe(nextDelay(attempt, DEFAULT_BACKOFF, () => r));
    }
  });

  it('keeps growing the delay when each socket opens and drops before minUptime', () => {
    const { clock, backoff } = onClock();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const delay = backoff.next();
      delays.push(delay);
      clock.now += delay;
      backoff.opened();
      expect(backoff.attempt, 'opening alone resets nothing').toBe(i + 1);
      clock.now += RECONNECT.minUptimeMs - 1;
      backoff.closed();
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
  });

  it('starts the count again once a socket stayed up minUptime', () => {
    const { clock, backoff } = onClock();
    for (let i = 0; i < 5; i++) {
      backoff.next();
      backoff.closed();
    }
    expect(backoff.attempt).toBe(5);
    backoff.opened();
    clock.now += RECONNECT.minUptimeMs;
    backoff.closed();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(250);
  });

  it('counts the uptime of one socket once: a second close resets nothing', () => {
    const { clock, backoff } = onClock();
    backoff.next();
    backoff.opened();
    clock.now += 1_000;
    backoff.closed();
    clock.now += RECONNECT.minUptimeMs;
    backoff.closed();
    expect(backoff.attempt).toBe(1);
  });

  it("waits as the relay's ReconnectBackoff would through a random run of opens, drops and refusals", () => {
    const random = seeded(7);
    const rolls: number[] = Array.from({ length: 400 }, random);
    const page = { now: 0, rolls: 0 };
    const web = reconnectBackoff({ now: () => page.now, random: () => rolls[page.rolls++] ?? 0 });
    let rolled = 0;
    const relay = new ReconnectBackoff(DEFAULT_BACKOFF, () => rolls[rolled++] ?? 0);
    const events = seeded(8);
    for (let i = 0; i < 400; i++) {
      if (events() < 0.3) {
        // The attempt is refused before it opens.
        web.closed();
        expect(web.next()).toBe(relay.failed());
      } else {
        const uptime = Math.floor(events() * 2 * RECONNECT.minUptimeMs);
        web.opened();
        relay.connected(page.now);
        page.now += uptime;
        web.closed();
        expect(web.next(), `step ${i}, up ${uptime} ms`).toBe(relay.disconnected(page.now));
      }
      expect(web.attempt).toBe(relay.attempt);
    }
  });
});
