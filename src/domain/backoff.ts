/**
 * Reconnect backoff: a pure "full jitter" formula with a cap (as in ky), a counter that only resets once
 * a connection has stayed up for `minUptimeMs` (as in partysocket, so a connect/drop loop cannot hammer
 * Genesys), and a sleep that an AbortSignal can cut short.
 */
import type { Clock } from './clock.js';
import { withDefaults } from './options.js';

/** Shape of the reconnect delays. */
export type BackoffPolicy = {
  /** Ceiling of the first delay, in ms. */
  readonly baseMs: number;
  /** Ceiling of every delay, in ms. */
  readonly capMs: number;
  /** Growth of the ceiling per attempt (>= 1). */
  readonly factor: number;
  /** How long a connection must stay up before the attempt counter starts again from 0, in ms. */
  readonly minUptimeMs: number;
};

/** Delays up to 0.5 s, 1 s, 2 s … capped at 30 s; a connection must live 5 s to count as healthy. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  baseMs: 500,
  capMs: 30_000,
  factor: 2,
  minUptimeMs: 5_000,
});

/**
 * The default policy with the caller's changes. Throws TypeError on an unknown key and RangeError on a
 * number that is not finite, is negative, has `baseMs > capMs` or `factor < 1`.
 */
export function backoffPolicy(options: Partial<BackoffPolicy> = {}): BackoffPolicy {
  const policy = withDefaults('backoffPolicy', DEFAULT_BACKOFF, options);
  for (const [key, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`Backoff option "${key}" must be a finite number >= 0, got ${value}`);
    }
  }
  if (policy.baseMs > policy.capMs) {
    throw new RangeError(`Backoff baseMs (${policy.baseMs}) must not exceed capMs (${policy.capMs})`);
  }
  if (policy.factor < 1) throw new RangeError(`Backoff factor must be >= 1, got ${policy.factor}`);
  return policy;
}

/**
 * Delay before retry number `attempt` (0-based): `random() * min(capMs, baseMs * factor ** attempt)`.
 * Full jitter spreads a crowd of clients that lost Genesys at the same moment. The result is always in
 * `[0, capMs]`, also for huge or negative attempts and for a `random` that strays outside [0, 1).
 */
export function nextDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const n = Number.isNaN(attempt) ? 0 : Math.max(attempt, 0);
  // Two NaN traps: baseMs 0 gives 0 * Infinity once factor ** n overflows, and 1 ** Infinity is NaN.
  const growth = policy.factor === 1 ? 1 : policy.factor ** n;
  const grown = policy.baseMs === 0 ? 0 : policy.baseMs * growth;
  const ceiling = Math.min(policy.capMs, grown);
  const r = random();
  const jitter = r > 0 ? Math.min(r, 1) : 0;
  return jitter * ceiling;
}

/**
 * Attempt counter of one reconnecting connection. Call {@link ReconnectBackoff.connected} when the
 * socket opens, {@link ReconnectBackoff.disconnected} when it drops and {@link ReconnectBackoff.failed}
 * when an attempt never opened; each of the last two returns how long to wait before the next attempt.
 */
export class ReconnectBackoff {
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  #attempt = 0;
  #connectedAt: number | undefined;

  constructor(policy: Partial<BackoffPolicy> = DEFAULT_BACKOFF, random: () => number = Math.random) {
    this.#policy = backoffPolicy(policy);
    this.#random = random;
  }

  /** Attempts since the counter last started from 0. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Records that the connection came up at `now`. */
  connected(now: number): void {
    this.#connectedAt = now;
  }

  /**
   * Records a drop at `now` and returns the delay before the next attempt. The counter starts again
   * from 0 only when the connection had stayed up for at least `minUptimeMs`.
   */
  disconnected(now: number): number {
    if (this.#connectedAt !== undefined && now - this.#connectedAt >= this.#policy.minUptimeMs) {
      this.#attempt = 0;
    }
    return this.failed();
  }

  /** Records an attempt that never connected and returns the delay before the next one. */
  failed(): number {
    this.#connectedAt = undefined;
    return nextDelay(this.#attempt++, this.#policy, this.#random);
  }

  /** Forgets every attempt, e.g. after the user asked to reconnect now. */
  reset(): void {
    this.#attempt = 0;
    this.#connectedAt = undefined;
  }
}

/** Options of {@link sleep}. */
export interface SleepOptions {
  readonly signal?: AbortSignal | undefined;
  readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
}

function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const error = new Error('The operation was aborted');
  error.name = 'AbortError';
  return error;
}

/**
 * Waits `ms` on the given clock. Rejects with the signal's reason (or an Error named `AbortError` when
 * it has none) as soon as the signal aborts, or at once when it already has; the timer is cleared and
 * the abort listener removed either way, so a long-lived signal does not collect listeners.
 */
export function sleep(ms: number, options: SleepOptions): Promise<void> {
  const { signal, clock } = options;
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let handle: unknown;
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      if (signal) reject(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    handle = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Number.isNaN(ms) ? 0 : Math.max(ms, 0),
    );
  });
}
