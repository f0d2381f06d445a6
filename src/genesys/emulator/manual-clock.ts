import type { Clock } from '../../domain/clock.js';

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told: give it to the emulator (and a client) in tests, then `advance()` to
 * run expiry, bot typing and delays, and fault delays without sleeping. Timers due at the same time run
 * in the order they were set; a timer set while advancing runs in the same advance if it falls due.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(startMs = Date.parse('2026-01-05T09:00:00.000Z')) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const seq = ++this.#seq;
    this.#pending.set(seq, { at: this.#now + Math.max(0, ms), seq, callback });
    return seq;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due, in time order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const timer of this.#pending.values()) {
        if (
          timer.at <= target &&
          (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))
        ) {
          next = timer;
        }
      }
      if (!next) break;
      this.#pending.delete(next.seq);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = target;
  }
}
