/**
 * Process-wide pacing of reconnects. When many upstream sockets drop at once (a Genesys node restarts, a
 * network blip, a load balancer drains), each session's own backoff jitter (backoff.ts) spreads their
 * reconnects over its first delay only, half a second: thousands of sockets would knock at Genesys within
 * that second. The pacer, shared by every session of a process, hands out start slots, at most
 * `ratePerSecond` per second after a first `burst`; each reconnect waits for the later of its slot and its
 * own backoff delay. A crowd of N is spread over about N / ratePerSecond seconds (the window grows with
 * the crowd), while a lone drop, or a handful up to `burst`, reconnects as soon as its own backoff says.
 *
 * It is the "virtual scheduling" form of the generic cell rate algorithm (GCRA): one number, the time
 * at which the next start would be due at the steady rate, and no timers; each reservation is O(1).
 * Pure: times are passed in.
 */
import { withDefaults } from './options.js';

/** The numbers of a pacer. */
export type ReconnectPacing = {
  /** Reconnects that may start per second, in the long run (> 0). */
  readonly ratePerSecond: number;
  /** Reconnects that may start at once after a quiet period (a whole number >= 1). */
  readonly burst: number;
};

/**
 * 150 per second: 2,000 sessions dropped together are back in about 13 s, 5,000 (a full worker) in
 * about 33 s, about 150 in any second. 20 at once: a few sessions dropping together reconnect without
 * waiting for each other.
 */
export const DEFAULT_RECONNECT_PACING: ReconnectPacing = Object.freeze({ ratePerSecond: 150, burst: 20 });

/** What a guest session asks of a pacer (so a test can inject its own). */
export interface ReconnectSlots {
  /**
   * Reserves a start for a reconnect asked for at `now` (epoch ms); returns when it may start (>= `now`).
   * The session starts at the later of that and its own backoff delay: a slot is taken in the order of
   * asking, so one session in a long backoff does not hold up the others.
   */
  reserve(now: number): number;
}

/**
 * The default pacing with the caller's changes. Throws TypeError on an unknown key and RangeError on a
 * rate that is not a finite number > 0 or a burst that is not a whole number >= 1.
 */
export function reconnectPacing(options: Partial<ReconnectPacing> = {}): ReconnectPacing {
  const pacing = withDefaults('reconnectPacing', DEFAULT_RECONNECT_PACING, options);
  if (!Number.isFinite(pacing.ratePerSecond) || pacing.ratePerSecond <= 0) {
    throw new RangeError(`Reconnect ratePerSecond must be a finite number > 0, got ${pacing.ratePerSecond}`);
  }
  if (!Number.isSafeInteger(pacing.burst) || pacing.burst < 1) {
    throw new RangeError(`Reconnect burst must be a whole number >= 1, got ${pacing.burst}`);
  }
  return pacing;
}

export class ReconnectPacer implements ReconnectSlots {
  /** Time between two starts at the steady rate, in ms. */
  readonly #intervalMs: number;
  /** How far ahead of the steady rate a start may be: the burst. */
  readonly #toleranceMs: number;
  /** When the next start would be due at the steady rate ("theoretical arrival time"). */
  #due = Number.NEGATIVE_INFINITY;

  constructor(pacing: Partial<ReconnectPacing> = DEFAULT_RECONNECT_PACING) {
    const { ratePerSecond, burst } = reconnectPacing(pacing);
    this.#intervalMs = 1000 / ratePerSecond;
    this.#toleranceMs = (burst - 1) * this.#intervalMs;
  }

  /**
   * Reserves a start for a reconnect asked for at `now`: `now` itself while the burst allows, otherwise
   * the next free slot at the steady rate. First come, first served: a crowd starts in the order it asked.
   */
  reserve(now: number): number {
    const start = Math.max(now, this.#due - this.#toleranceMs);
    this.#due = Math.max(this.#due, start) + this.#intervalMs;
    return start;
  }
}
