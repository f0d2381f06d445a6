// The guest socket's reconnect policy, as the relay's own (src/domain/backoff.ts, kept equal by
// test/unit/web/backoff.test.ts): "full jitter" delays up to min(cap, base·factor^attempt), and an attempt
// count that starts again only after a socket stayed up `minUptimeMs`, so a stack that accepts and drops
// at once cannot make the page reconnect at full speed. Pure: the clock and the randomness are injected.

/** The relay's DEFAULT_BACKOFF. */
export const RECONNECT = Object.freeze({ baseMs: 500, capMs: 30_000, factor: 2, minUptimeMs: 5_000 });

/** Delay before retry number `attempt` (0-based), in ms: `random() × min(capMs, baseMs × factor^attempt)`. */
export function reconnectDelay(attempt, random = Math.random) {
  return random() * Math.min(RECONNECT.capMs, RECONNECT.baseMs * RECONNECT.factor ** attempt);
}

/**
 * The attempt count of one reconnecting socket. Call `opened()` when a socket opens, `closed()` whenever
 * it closes (or is replaced) and `next()` for the delay before the next attempt, which counts it.
 */
export function reconnectBackoff({ now = Date.now, random = Math.random } = {}) {
  let attempt = 0;
  let openedAt;
  return {
    /** Attempts since the count last started from 0. */
    get attempt() {
      return attempt;
    },
    opened() {
      openedAt = now();
    },
    closed() {
      // Opening alone proves nothing: only a socket that stayed up long enough starts the count again.
      if (openedAt !== undefined && now() - openedAt >= RECONNECT.minUptimeMs) attempt = 0;
      openedAt = undefined;
    },
    next() {
      return reconnectDelay(attempt++, random);
    },
  };
}
