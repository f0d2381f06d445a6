/**
 * One emulated client connection after the upgrade: its socket, the frame limits, the idle and maximum
 * duration timers and the single teardown path (close → close frame → `closed` once, whatever ended it).
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Clock } from '../../domain/clock.js';
import type { AuthorizerContext } from './events.js';
import { FrameInspector } from './frame-inspector.js';
import type { GatewayLimits } from './options.js';

/** How long a close handshake may take before the socket is cut (a peer that never answers). */
const CLOSE_GRACE_MS = 1_000;

export interface ConnectionInit {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent: string | null;
  readonly authorizer: AuthorizerContext | undefined;
}

export interface ConnectionSnapshot extends ConnectionInit {
  readonly lastActiveAt: number;
}

export interface ConnectionHooks {
  /** A text message passed the limits. */
  onMessage(connection: EmulatedConnection, text: string): void;
  /** The socket is closed; runs exactly once. `code` is the code this side sent, or the peer's, or 1006. */
  onClosed(connection: EmulatedConnection, code: number, reason: string): void;
}

export class EmulatedConnection {
  readonly init: ConnectionInit;
  readonly #ws: WebSocket;
  readonly #limits: GatewayLimits;
  readonly #clock: Clock;
  readonly #hooks: ConnectionHooks;
  #lastActiveAt: number;
  #idleTimer: unknown;
  #maxTimer: unknown;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set by the first close(): later traffic is ignored and the sent code is what $disconnect reports. */
  #closing: { code: number; reason: string } | undefined;
  #closed = false;

  constructor(
    init: ConnectionInit,
    ws: WebSocket,
    socket: Duplex,
    options: { limits: GatewayLimits; clock: Clock; hooks: ConnectionHooks },
  ) {
    this.init = init;
    this.#ws = ws;
    this.#limits = options.limits;
    this.#clock = options.clock;
    this.#hooks = options.hooks;
    this.#lastActiveAt = init.connectedAt;
    const inspector = new FrameInspector(this.#limits, () => this.#touch());
    // Before ws's own listener: a violation closes the connection before ws assembles the message.
    socket.prependListener('data', (chunk: Buffer) => {
      if (this.#closing) return;
      const violation = inspector.push(chunk);
      if (violation) this.close(violation.code, violation.reason);
    });
    ws.on('message', (data, isBinary) => {
      if (this.#closing) return;
      if (isBinary) {
        this.close(1003, 'Binary frames are not supported');
        return;
      }
      this.#hooks.onMessage(
        this,
        Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(toBuffers(data)).toString('utf8'),
      );
    });
    // ws reports protocol errors (bad UTF-8, oversize backstop) here and closes on its own.
    ws.on('error', () => {});
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    this.#maxTimer = this.#clock.setTimeout(
      () => this.close(1001, 'Going away'),
      this.#limits.maxConnectionMs,
    );
    this.#armIdle();
  }

  get connectionId(): string {
    return this.init.connectionId;
  }

  /** Open and not closing: a @connections request to a closing connection is 410. */
  get open(): boolean {
    return !this.#closing && !this.#closed;
  }

  snapshot(): ConnectionSnapshot {
    return { ...this.init, lastActiveAt: this.#lastActiveAt };
  }

  /**
   * Sends a text message, split into frames of at most `maxFrameBytes` as API Gateway does for
   * @connections posts larger than a frame. False when the connection is not open.
   */
  send(data: Buffer): boolean {
    if (!this.open) return false;
    this.#touch();
    const frame = this.#limits.maxFrameBytes;
    if (data.length <= frame) {
      this.#ws.send(data, { binary: false });
      return true;
    }
    for (let offset = 0; offset < data.length; offset += frame) {
      const end = Math.min(offset + frame, data.length);
      this.#ws.send(data.subarray(offset, end), { binary: false, fin: end === data.length });
    }
    return true;
  }

  /** Starts the close handshake (once); the socket is cut if the peer does not answer in time. */
  close(code: number, reason: string): void {
    if (this.#closing || this.#closed) return;
    this.#closing = { code, reason };
    this.#clearTimers();
    this.#ws.close(code, reason);
    this.#graceTimer = setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS);
    this.#graceTimer.unref();
  }

  /**
   * Cuts the TCP connection without a close frame, as a network failure does (a fault hook, not an AWS
   * feature): the client sees 1006 and `closed` reports 1006, unless a close handshake had already begun.
   */
  drop(): void {
    if (this.#closed) return;
    this.#clearTimers();
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#ws.terminate();
  }

  #touch(): void {
    this.#lastActiveAt = this.#clock.now();
    this.#armIdle();
  }

  #armIdle(): void {
    if (this.#closing) return;
    if (this.#idleTimer !== undefined) this.#clock.clearTimeout(this.#idleTimer);
    this.#idleTimer = this.#clock.setTimeout(
      () => this.close(1001, 'Going away'),
      this.#limits.idleTimeoutMs,
    );
  }

  #clearTimers(): void {
    if (this.#idleTimer !== undefined) this.#clock.clearTimeout(this.#idleTimer);
    if (this.#maxTimer !== undefined) this.#clock.clearTimeout(this.#maxTimer);
    this.#idleTimer = undefined;
    this.#maxTimer = undefined;
  }

  #onClose(peerCode: number, peerReason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    const code = this.#closing?.code ?? peerCode;
    const reason = this.#closing?.reason ?? peerReason;
    this.#hooks.onClosed(this, code, reason);
  }
}

function toBuffers(data: ArrayBuffer | Buffer[]): Buffer[] {
  return Array.isArray(data) ? data : [Buffer.from(data)];
}
