/**
 * Keep-alive of one socket with a single timer on the injected clock:
 * - an RFC 6455 ping every `pingIntervalMs` (Genesys' mobile SDK: 15 s); no pong within
 *   `pongTimeoutMs` means the socket is dead (the caller then reconnects);
 * - an `echo` request (reference §3.4) riding on a ping tick, at most once per `echoIntervalMs`, and
 *   only when nothing else was sent for that long: any request already tells Genesys the guest is
 *   there, so a busy session never echoes. The echo reply refreshes the session's expiry (§7.5).
 *
 * One timer per session, re-armed in place: thousands of sessions cost thousands of timers, no more.
 */
import type { Clock } from '../../domain/clock.js';

export interface KeepAliveOptions {
  readonly clock: Clock;
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  /** 0 = never echo. */
  readonly echoIntervalMs: number;
}

export interface KeepAliveHooks {
  ping(): void;
  echo(): void;
  /** No pong came in time. */
  dead(): void;
}

export class KeepAlive {
  readonly #options: KeepAliveOptions;
  readonly #hooks: KeepAliveHooks;
  #timer: unknown;
  #running = false;
  #awaitingPong = false;
  #pingSentAt = 0;
  #lastRequestAt = 0;

  constructor(options: KeepAliveOptions, hooks: KeepAliveHooks) {
    this.#options = options;
    this.#hooks = hooks;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts on a freshly opened socket. */
  start(): void {
    this.stop();
    this.#running = true;
    this.#lastRequestAt = this.#options.clock.now();
    this.#arm(this.#options.pingIntervalMs);
  }

  /** Stops and clears the timer (socket gone, session finished). */
  stop(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = false;
    this.#awaitingPong = false;
  }

  /** A pong arrived: the next ping goes one interval after the last one. */
  pong(): void {
    if (!this.#running || !this.#awaitingPong) return;
    this.#awaitingPong = false;
    const elapsed = this.#options.clock.now() - this.#pingSentAt;
    this.#arm(Math.max(0, this.#options.pingIntervalMs - elapsed));
  }

  /** A request went upstream: the session is not idle. */
  requestSent(): void {
    this.#lastRequestAt = this.#options.clock.now();
  }

  #arm(ms: number): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = this.#options.clock.setTimeout(() => this.#tick(), ms);
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    if (this.#awaitingPong) {
      this.stop();
      this.#hooks.dead();
      return;
    }
    const now = this.#options.clock.now();
    this.#awaitingPong = true;
    this.#pingSentAt = now;
    this.#arm(this.#options.pongTimeoutMs);
    this.#hooks.ping();
    const { echoIntervalMs } = this.#options;
    if (this.#running && echoIntervalMs > 0 && now - this.#lastRequestAt >= echoIntervalMs) {
      this.#lastRequestAt = now;
      this.#hooks.echo();
    }
  }
}
