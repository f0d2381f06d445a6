/**
 * The worker's lease: how long it may act as the owner of its sessions after a heartbeat. Other workers
 * call it stale `staleAfterMs` after its last beat and may claim its sessions; so the lease runs from the
 * moment a beat was *sent* (not when it was acknowledged) for `staleAfterMs` minus a margin, measured on
 * the monotonic clock (a wall-clock jump cannot extend it). A worker that was stalled (SIGSTOP, a long
 * GC pause, a frozen container) finds its lease expired when it runs again: it writes nothing and sends
 * nothing upstream until it has beaten again and checked which sessions are still its own.
 */
export class Lease {
  readonly #durationMs: number;
  readonly #monotonic: () => number;
  #validUntil = Number.NEGATIVE_INFINITY;
  #revoked = false;
  #waiters: (() => void)[] = [];

  constructor(options: { readonly durationMs: number; readonly monotonic?: () => number }) {
    if (!(options.durationMs > 0)) throw new RangeError('Lease: durationMs must be > 0');
    this.#durationMs = options.durationMs;
    this.#monotonic = options.monotonic ?? (() => performance.now());
  }

  /** The monotonic time now: pass it to `renew` when the beat that proves liveness is sent. */
  now(): number {
    return this.#monotonic();
  }

  get valid(): boolean {
    return this.#monotonic() < this.#validUntil;
  }

  /** Valid until `sentAt + durationMs`; wakes every `ready()` waiter. */
  renew(sentAt: number): void {
    // A beat that was in flight when the lease was revoked (shutdown) must not bring it back.
    if (this.#revoked) return;
    this.#validUntil = Math.max(this.#validUntil, sentAt + this.#durationMs);
    if (!this.valid) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Ends the lease at once and for good (shutdown). */
  revoke(): void {
    this.#revoked = true;
    this.#validUntil = Number.NEGATIVE_INFINITY;
  }

  /** Resolves at once while valid, else at the next successful `renew`. */
  ready(): Promise<void> {
    if (this.valid) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Wakes the waiters without renewing (shutdown): they must re-check what they were about to do. */
  releaseWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
