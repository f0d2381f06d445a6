import type { Clock } from '../../domain/clock.js';

/**
 * One named timer on the injected clock that is either armed or not: arming it again replaces the
 * previous one. The session keeps one slot per concern (connect, reconnect, pacing, reorder, close), so
 * clearing every slot in teardown is clearing every timer.
 */
export class TimerSlot {
  readonly #clock: Clock;
  #handle: unknown;
  #armed = false;
  #at = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get armed(): boolean {
    return this.#armed;
  }

  /** When it fires (clock time), if armed. */
  get at(): number | undefined {
    return this.#armed ? this.#at : undefined;
  }

  set(ms: number, callback: () => void): void {
    this.clear();
    const delay = Number.isFinite(ms) ? Math.max(0, ms) : 0;
    this.#armed = true;
    this.#at = this.#clock.now() + delay;
    this.#handle = this.#clock.setTimeout(() => {
      this.#armed = false;
      this.#handle = undefined;
      callback();
    }, delay);
  }

  clear(): void {
    if (!this.#armed) return;
    this.#clock.clearTimeout(this.#handle);
    this.#armed = false;
    this.#handle = undefined;
  }
}
