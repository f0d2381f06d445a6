/**
 * Pacing of `onMessage` sends for one Genesys session. Genesys allows 2 per session per second (since
 * 11 Dec 2023) and answers a faster sender with 429 / 4029 and a `retryAfter` in seconds.
 */
import { withDefaults } from './options.js';

/** Options of a {@link SendPacer}. */
export interface SendPacerOptions {
  /** Sustained sends per second. */
  readonly ratePerSecond: number;
  /** How many sends may go back to back after an idle spell (an integer >= 1). */
  readonly burst: number;
}

// Why burst is 1: with burst b and rate r, a half-open window of length w ms can hold
// ceil(w * r / 1000) + b - 1 sends. For w = 1000 and r = 2 that is b + 1, so b = 1 is the only setting
// under which no one-second window, wherever Genesys happens to start it, holds more than 2 sends.
const DEFAULTS: SendPacerOptions = Object.freeze({ ratePerSecond: 2, burst: 1 });

function validOptions(options: Partial<SendPacerOptions>): SendPacerOptions {
  const merged = withDefaults('SendPacer', DEFAULTS, options);
  if (!Number.isFinite(merged.ratePerSecond) || merged.ratePerSecond <= 0) {
    throw new RangeError(
      `SendPacer option "ratePerSecond" must be a finite number > 0, got ${merged.ratePerSecond}`,
    );
  }
  if (!Number.isSafeInteger(merged.burst) || merged.burst < 1) {
    throw new RangeError(`SendPacer option "burst" must be an integer >= 1, got ${merged.burst}`);
  }
  return merged;
}

/** Outcome of {@link SendPacer.tryTake}. */
export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly waitMs: number };

/**
 * A token bucket kept as GCRA ("theoretical arrival time", TAT), which is an exact token bucket with
 * one number of state: a send at `t` conforms when `t >= TAT - (burst - 1) * interval`, and then moves
 * TAT to `max(TAT, t) + interval`. On top of it sits any block that Genesys imposed with `retryAfter`.
 *
 * Pure: every method takes `now` (epoch ms, whole milliseconds expected) and nothing reads a clock.
 */
export class SendPacer {
  readonly #options: SendPacerOptions;
  // TAT is kept as anchor + count * 1000 / rate rather than by adding the interval at each send: an
  // interval such as 1000/3 ms is not exact in a double, and a sum would gather rounding error over a
  // long busy spell, where this form rounds once.
  #anchor = Number.NEGATIVE_INFINITY;
  #count = 0;
  #blockedUntil = Number.NEGATIVE_INFINITY;

  constructor(options: Partial<SendPacerOptions> = {}) {
    this.#options = validOptions(options);
  }

  /** Earliest time (>= now) the next send may go, by both the bucket and any `retryAfter` block. */
  nextSendAt(now: number): number {
    // Rounded up to a whole ms: at epoch scale a double only resolves about 0.0002 ms, so a caller
    // that sent at fractional bucket times could squeeze one send too many into a window. With burst 1
    // the fraction is lost at each send (3/s gives one send per 334 ms): slower, never faster.
    return Math.max(now, Math.ceil(this.#tatMinus(this.#options.burst - 1)), this.#blockedUntil);
  }

  /** `nextSendAt(now) - now`: how long to wait before the next send; 0 when it may go now. */
  delayUntilNext(now: number): number {
    return this.nextSendAt(now) - now;
  }

  /** Takes a token when a send may go at `now`; otherwise says how long to wait and takes nothing. */
  tryTake(now: number): TakeResult {
    const at = this.nextSendAt(now);
    if (at > now) return { ok: false, waitMs: at - now };
    if (now >= this.#tatMinus(0)) {
      this.#anchor = now;
      this.#count = 1;
    } else {
      this.#count++;
    }
    return { ok: true };
  }

  /**
   * Genesys answered 429 with `retryAfter` (seconds on the wire; pass ms): nothing goes before
   * `now + ms`. A longer block already in place is kept.
   */
  retryAfter(ms: number, now: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`retryAfter must be a finite number >= 0, got ${ms}`);
    this.#blockedUntil = Math.max(this.#blockedUntil, now + ms);
  }

  /** TAT minus `intervals` emission intervals; -Infinity before the first send. */
  #tatMinus(intervals: number): number {
    if (this.#count === 0) return Number.NEGATIVE_INFINITY;
    return this.#anchor + ((this.#count - intervals) * 1000) / this.#options.ratePerSecond;
  }
}
