/**
 * Fault injection, and the one path every Outbound push (agent and bot messages, typing, receipts,
 * disconnects) takes to the guest's sockets. Faults model what a real network and Genesys do to a client:
 * dropped sockets, refused connects, slow, reordered and duplicated pushes, rate limiting and expiry.
 */
import type { ServerFrame } from './frames.js';
import type { Session } from './sessions.js';
import type { Cancel, Timers } from './timers.js';

export interface FaultInjector {
  /**
   * Closes one session's sockets (or every guest socket) abnormally: without `code` (or with 1006) the
   * TCP connection is cut (`terminate()`, the client sees 1006); with another code a close frame with
   * that code is sent. Returns how many sockets were dropped.
   */
  dropSockets(token?: string, code?: number): number;
  /** Answers guest WebSocket upgrades with HTTP 503 for `ms`. */
  refuseConnects(ms: number): void;
  /** Every Outbound push waits `ms` before delivery (0 = off). */
  delayPushes(ms: number): void;
  /**
   * The next `count` Outbound pushes of each session are held and delivered in reverse order
   * (channel.time unchanged, so a client can restore the order). A session whose pushes stop short of
   * `count` gets what was held, reversed, REORDER_FLUSH_MS after the first one.
   */
  reorderPushes(count: number): void;
  /** The next `count` Outbound pushes (any session) are each delivered twice. */
  duplicatePushes(count: number): void;
  /** The next `count` onMessage (any session) get TooManyRequestsErrorMessage and are not stored. */
  force429(count: number, retryAfterSeconds?: number): void;
  /**
   * The next `count` guest messages (Text/Structured onMessage, any session) are refused with the error
   * `code` (a 4xx/5xx or Genesys 4xxx code, class "string") and not stored: how a frontend's failure
   * display is tested for refusals Genesys documents but rarely sends.
   */
  rejectMessages(count: number, code: number): void;
  /** Pushes SessionExpiredEvent to the session's sockets; later requests for it get 4006. */
  expireSession(token: string): void;
  /** Turns every fault off; held pushes are delivered at once, in their original order. */
  reset(): void;
}

/** What the fault state looks like, for `GET /emulator/faults`. */
export interface FaultState {
  readonly refusingConnectsForMs: number;
  readonly delayPushesMs: number;
  readonly reorderPushes: number;
  readonly duplicatePushesLeft: number;
  readonly forced429Left: number;
  readonly forced429RetryAfterSeconds: number;
  readonly rejectMessagesLeft: number;
  readonly rejectMessagesCode: number;
}

/** How long reordered pushes may be held when a session sends fewer than the requested count. */
export const REORDER_FLUSH_MS = 1000;

interface ReorderBuffer {
  readonly target: number;
  readonly frames: { frame: ServerFrame; twice: boolean }[];
  cancel: Cancel;
}

export interface FaultLayerDeps {
  readonly timers: Timers;
  /** Sends a frame to every socket the session has at delivery time. */
  readonly deliver: (session: Session, frame: ServerFrame) => void;
  readonly dropSockets: (token: string | undefined, code: number | undefined) => number;
  readonly expireSession: (token: string) => void;
}

/**
 * Whether a server may drop a socket with this code: 1006 means "cut the TCP connection"; otherwise a
 * code a close frame may carry (RFC 6455 §7.4: not 1004, 1005 or 1006; 3000–4999 for applications).
 */
export function isDropCode(code: number): boolean {
  if (!Number.isSafeInteger(code)) return false;
  return (
    code === 1006 ||
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005) ||
    (code >= 3000 && code <= 4999)
  );
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be an integer >= 0, got ${value}`);
  }
}

export class FaultLayer implements FaultInjector {
  readonly #deps: FaultLayerDeps;
  #refuseUntil = Number.NEGATIVE_INFINITY;
  #delayMs = 0;
  #duplicateLeft = 0;
  #forced429Left = 0;
  #forced429RetryAfter = 1;
  #rejectLeft = 0;
  #rejectCode = 400;
  #reorderCount = 0;
  /** Sessions that have already had their reordered batch since the last reorderPushes(). */
  #reorderDone = new WeakSet<Session>();
  readonly #reorderBuffers = new Map<Session, ReorderBuffer>();
  readonly #delayed = new Set<Cancel>();

  constructor(deps: FaultLayerDeps) {
    this.#deps = deps;
  }

  dropSockets(token?: string, code?: number): number {
    if (code !== undefined && !isDropCode(code)) {
      throw new RangeError(`dropSockets code must be 1006 or a valid WebSocket close code, got ${code}`);
    }
    return this.#deps.dropSockets(token, code);
  }

  refuseConnects(ms: number): void {
    checkCount('refuseConnects ms', ms);
    this.#refuseUntil = ms === 0 ? Number.NEGATIVE_INFINITY : this.#deps.timers.now() + ms;
  }

  delayPushes(ms: number): void {
    checkCount('delayPushes ms', ms);
    this.#delayMs = ms;
  }

  reorderPushes(count: number): void {
    checkCount('reorderPushes count', count);
    this.#reorderCount = count;
    this.#reorderDone = new WeakSet();
  }

  duplicatePushes(count: number): void {
    checkCount('duplicatePushes count', count);
    this.#duplicateLeft = count;
  }

  force429(count: number, retryAfterSeconds = 1): void {
    checkCount('force429 count', count);
    if (!Number.isSafeInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
      throw new RangeError(`force429 retryAfterSeconds must be an integer >= 0, got ${retryAfterSeconds}`);
    }
    this.#forced429Left = count;
    this.#forced429RetryAfter = retryAfterSeconds;
  }

  rejectMessages(count: number, code: number): void {
    checkCount('rejectMessages count', count);
    if (!Number.isSafeInteger(code) || code < 400 || code > 5999) {
      throw new RangeError(`rejectMessages code must be an integer from 400 to 5999, got ${code}`);
    }
    this.#rejectLeft = count;
    this.#rejectCode = code;
  }

  expireSession(token: string): void {
    this.#deps.expireSession(token);
  }

  reset(): void {
    this.#refuseUntil = Number.NEGATIVE_INFINITY;
    this.#delayMs = 0;
    this.#duplicateLeft = 0;
    this.#forced429Left = 0;
    this.#forced429RetryAfter = 1;
    this.#rejectLeft = 0;
    this.#rejectCode = 400;
    this.#reorderCount = 0;
    this.#reorderDone = new WeakSet();
    for (const [session, buffer] of [...this.#reorderBuffers]) {
      buffer.cancel();
      this.#reorderBuffers.delete(session);
      for (const held of buffer.frames) this.#send(session, held.frame, held.twice);
    }
  }

  state(): FaultState {
    return {
      refusingConnectsForMs: Math.max(0, this.#refuseUntil - this.#deps.timers.now()),
      delayPushesMs: this.#delayMs,
      reorderPushes: this.#reorderCount,
      duplicatePushesLeft: this.#duplicateLeft,
      forced429Left: this.#forced429Left,
      forced429RetryAfterSeconds: this.#forced429RetryAfter,
      rejectMessagesLeft: this.#rejectLeft,
      rejectMessagesCode: this.#rejectCode,
    };
  }

  /** Whether a guest upgrade must be refused now. */
  refusing(): boolean {
    return this.#deps.timers.now() < this.#refuseUntil;
  }

  /** Takes one forced 429 if any is armed: its retryAfter in seconds, else undefined. */
  take429(): number | undefined {
    if (this.#forced429Left === 0) return undefined;
    this.#forced429Left--;
    return this.#forced429RetryAfter;
  }

  /** Takes one forced refusal of a guest message if any is armed: its error code, else undefined. */
  takeRejection(): number | undefined {
    if (this.#rejectLeft === 0) return undefined;
    this.#rejectLeft--;
    return this.#rejectCode;
  }

  /** The one path of every Outbound push: reorder, then delay, then (maybe twice) delivery. */
  pushOutbound(session: Session, frame: ServerFrame): void {
    const twice = this.#duplicateLeft > 0;
    if (twice) this.#duplicateLeft--;
    let buffer = this.#reorderBuffers.get(session);
    if (!buffer && this.#reorderCount > 1 && !this.#reorderDone.has(session)) {
      this.#reorderDone.add(session);
      const created: ReorderBuffer = { target: this.#reorderCount, frames: [], cancel: () => {} };
      created.cancel = this.#deps.timers.after(REORDER_FLUSH_MS, () => this.#flushReversed(session));
      this.#reorderBuffers.set(session, created);
      buffer = created;
    }
    if (!buffer) {
      this.#release(session, frame, twice);
      return;
    }
    buffer.frames.push({ frame, twice });
    if (buffer.frames.length >= buffer.target) this.#flushReversed(session);
  }

  /** Drops whatever is held for a session that is gone (cleared). */
  forget(session: Session): void {
    this.#reorderBuffers.get(session)?.cancel();
    this.#reorderBuffers.delete(session);
  }

  /** Cancels held and delayed pushes: nothing is delivered after close. */
  close(): void {
    for (const buffer of this.#reorderBuffers.values()) buffer.cancel();
    this.#reorderBuffers.clear();
    for (const cancel of this.#delayed) cancel();
    this.#delayed.clear();
  }

  #flushReversed(session: Session): void {
    const buffer = this.#reorderBuffers.get(session);
    if (!buffer) return;
    buffer.cancel();
    this.#reorderBuffers.delete(session);
    for (const held of [...buffer.frames].reverse()) this.#release(session, held.frame, held.twice);
  }

  #release(session: Session, frame: ServerFrame, twice: boolean): void {
    if (this.#delayMs === 0) {
      this.#send(session, frame, twice);
      return;
    }
    const cancel = this.#deps.timers.after(this.#delayMs, () => {
      this.#delayed.delete(cancel);
      this.#send(session, frame, twice);
    });
    this.#delayed.add(cancel);
  }

  #send(session: Session, frame: ServerFrame, twice: boolean): void {
    this.#deps.deliver(session, frame);
    if (twice) this.#deps.deliver(session, frame);
  }
}
