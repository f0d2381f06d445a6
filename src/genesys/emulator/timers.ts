import type { Clock } from '../../domain/clock.js';
import type { Log } from '../../logging/log.js';

/** setTimeout's ceiling (about 24.8 days); longer waits are re-armed by their owner. */
export const MAX_TIMER_MS = 2_147_483_647;

export type Cancel = () => void;

/**
 * Every timer of one emulator, on the injected clock, tracked so that `close()` can clear them all.
 * A callback that throws is logged, never allowed to take the process down.
 */
export class Timers {
  readonly #clock: Clock;
  readonly #logger: Log;
  readonly #live = new Map<symbol, unknown>();
  #closed = false;

  constructor(clock: Clock, logger: Log) {
    this.#clock = clock;
    this.#logger = logger;
  }

  now(): number {
    return this.#clock.now();
  }

  /** Runs `callback` after `ms` (clamped to 0..MAX_TIMER_MS); returns its cancel. A no-op once closed. */
  after(ms: number, callback: () => void): Cancel {
    if (this.#closed) return () => {};
    const key = Symbol('timer');
    const wait = Math.min(Math.max(0, Number.isFinite(ms) ? ms : MAX_TIMER_MS), MAX_TIMER_MS);
    const handle = this.#clock.setTimeout(() => {
      if (!this.#live.delete(key)) return;
      try {
        callback();
      } catch (error) {
        this.#logger.error('emulator timer failed', error);
      }
    }, wait);
    this.#live.set(key, handle);
    return () => {
      if (this.#live.delete(key)) this.#clock.clearTimeout(handle);
    };
  }

  get pending(): number {
    return this.#live.size;
  }

  /** Clears every pending timer; later `after` calls do nothing. */
  close(): void {
    this.#closed = true;
    for (const handle of this.#live.values()) this.#clock.clearTimeout(handle);
    this.#live.clear();
  }
}
