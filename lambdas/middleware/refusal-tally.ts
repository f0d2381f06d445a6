/**
 * Frames the relay refused (bad JSON, a field out of bounds, `not_connected`, …) are the client's
 * business, answered with an `error` event: one log line each would bury the lines that matter (our
 * own failures) under whatever a frontend under development sends. They are counted instead, and the
 * count is logged once per window: "3 frames refused in 60 s (by code: invalid_json 2, not_connected 1)".
 *
 * The window starts at the first refusal; a timer writes the line when it ends. A Lambda container may
 * be frozen then, so a refusal that finds its window over writes the line first (a container that is
 * never invoked again loses its last count: a summary, not an audit). `flush()` writes what is counted
 * now (local mode calls it when it stops).
 */
import { type Clock, systemClock } from '../../src/domain/clock.js';
import { withDefaults } from '../../src/domain/options.js';
import type { Log } from '../../src/logging/log.js';

export interface RefusalTallyOptions {
  /** Where the summary goes (at `warn`). Required. */
  readonly logger: Pick<Log, 'warn'> | undefined;
  /** At most one summary line per window. */
  readonly windowMs: number;
  /** Timers and time; the default's timers do not keep a process alive. */
  readonly clock: Clock;
}

// The system clock whose summary timer does not keep a process (local mode, a test) alive: a pending
// summary is not worth waiting for.
const unrefClock: Clock = Object.freeze({
  ...systemClock,
  setTimeout: (callback: () => void, ms: number): unknown => {
    const handle = systemClock.setTimeout(callback, ms) as ReturnType<typeof setTimeout>;
    return handle.unref();
  },
});

const defaults: RefusalTallyOptions = { logger: undefined, windowMs: 60_000, clock: unrefClock };

export class RefusalTally {
  readonly #logger: Pick<Log, 'warn'>;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #byCode = new Map<string, number>();
  #total = 0;
  #since = 0;
  #timer: unknown;

  constructor(options: Partial<RefusalTallyOptions> = {}) {
    const { logger, windowMs, clock } = withDefaults('RefusalTally', defaults, options);
    if (logger === undefined) throw new TypeError('RefusalTally: the "logger" option is required.');
    if (!Number.isSafeInteger(windowMs) || windowMs < 1) {
      throw new RangeError(`RefusalTally: windowMs must be an integer >= 1, got ${windowMs}`);
    }
    this.#logger = logger;
    this.#windowMs = windowMs;
    this.#clock = clock;
  }

  /** Counts one refused frame by its error code. */
  count(code: string): void {
    if (this.#total > 0 && this.#clock.now() - this.#since >= this.#windowMs) this.flush();
    if (this.#total === 0) {
      this.#since = this.#clock.now();
      this.#timer = this.#clock.setTimeout(() => this.flush(), this.#windowMs);
    }
    this.#total += 1;
    this.#byCode.set(code, (this.#byCode.get(code) ?? 0) + 1);
  }

  /** Writes the summary of what is counted (nothing when nothing is) and starts over. */
  flush(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#total === 0) return;
    const byCode = Object.fromEntries([...this.#byCode].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const seconds = Math.max(1, Math.round((this.#clock.now() - this.#since) / 1000));
    const codes = Object.entries(byCode)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    const total = this.#total;
    this.#total = 0;
    this.#byCode.clear();
    const frames = total === 1 ? 'frame' : 'frames';
    this.#logger.warn(`${total} ${frames} refused in ${seconds} s (by code: ${codes})`, {
      refused: total,
      byCode,
      seconds,
    });
  }
}
