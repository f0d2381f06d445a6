/**
 * The worker's connection to the control API: where Lambdas ring its doorbell (DESIGN §2).
 *
 * - Opens a WebSocket (the URL presigned with SigV4 in AWS), sends `register`, and learns its
 *   connection id from the `registered` answer; `onConnection(id)` then lets the worker put it in its
 *   heartbeat row (and `onConnection(undefined)` takes it out while there is none).
 * - `ping` every `pingIntervalMs` keeps it under API Gateway's 10-minute idle timeout; no answer within
 *   `pongTimeoutMs` means a dead connection: it is terminated and opened again with backoff.
 * - `rotateAfterMs` after a connection opened (API Gateway closes every connection at 2 h), a new one is
 *   opened beside it; once the new one is registered it becomes current, and the old one is closed
 *   `overlapMs` later. Doorbells that arrive on either are delivered; the worker re-reads its pending
 *   work after every switch, which covers any doorbell rung at the old id after it closed.
 */
import type { WebSocket } from 'ws';
import { type ControlInbound, controlInboundSchema } from '../src/control/messages.js';
import { ReconnectBackoff } from '../src/domain/backoff.js';
import type { Clock } from '../src/domain/clock.js';
import type { Log } from '../src/logging/log.js';

export type Doorbell = Extract<ControlInbound, { type: 'doorbell' }>;

export interface ControlLinkOptions {
  readonly workerId: string;
  /** The URL to open (signed afresh for each connection where the API needs it). */
  readonly url: () => Promise<string>;
  readonly WebSocket: new (url: string) => WebSocket;
  readonly onDoorbell: (doorbell: Doorbell) => void;
  /** The current connection id changed (undefined: none right now). */
  readonly onConnection: (connectionId: string | undefined) => void;
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  readonly rotateAfterMs: number;
  readonly overlapMs: number;
  readonly registerTimeoutMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly log: Log;
}

interface Link {
  readonly ws: WebSocket;
  connectionId?: string;
  timers: unknown[];
  awaitingPong?: unknown;
}

export class ControlLink {
  readonly #o: ControlLinkOptions;
  readonly #backoff: ReconnectBackoff;
  #current: Link | undefined;
  #opening: Link | undefined;
  #retryTimer: unknown;
  #stopped = false;
  /** Counts for the health endpoint. */
  readonly stats = { opened: 0, rotations: 0, doorbells: 0 };

  constructor(options: ControlLinkOptions) {
    this.#o = options;
    this.#backoff = new ReconnectBackoff(
      { baseMs: 250, capMs: 10_000, factor: 2, minUptimeMs: 5_000 },
      options.random,
    );
  }

  get connectionId(): string | undefined {
    return this.#current?.connectionId;
  }

  start(): void {
    void this.#open();
  }

  /** Drops the current connection as a network failure would (tests and operators' "kick"). */
  drop(): void {
    this.#current?.ws.terminate();
  }

  stop(): void {
    this.#stopped = true;
    this.#o.clock.clearTimeout(this.#retryTimer);
    for (const link of [this.#current, this.#opening]) {
      if (link === undefined) continue;
      this.#clearTimers(link);
      link.ws.close(1000, 'worker stopping');
    }
    this.#current = undefined;
    this.#opening = undefined;
  }

  async #open(): Promise<void> {
    if (this.#stopped || this.#opening !== undefined) return;
    let url: string;
    try {
      url = await this.#o.url();
    } catch (error) {
      this.#o.log.error('control API URL could not be signed', { error });
      this.#retry();
      return;
    }
    if (this.#stopped) return;
    const ws = new this.#o.WebSocket(url);
    const link: Link = { ws, timers: [] };
    this.#opening = link;
    const registerTimer = this.#o.clock.setTimeout(() => {
      if (link.connectionId === undefined) {
        this.#o.log.warn('control API did not register the connection in time');
        ws.terminate();
      }
    }, this.#o.registerTimeoutMs);
    link.timers.push(registerTimer);
    ws.on('open', () => {
      ws.send(JSON.stringify({ action: 'register', workerId: this.#o.workerId }));
    });
    ws.on('message', (data: Buffer) => this.#onMessage(link, data.toString('utf8')));
    ws.on('error', (error) => this.#o.log.warn('control connection error', { error: error.message }));
    ws.on('close', (code) => this.#onClose(link, code));
  }

  #onMessage(link: Link, text: string): void {
    let message: ControlInbound;
    try {
      const parsed = controlInboundSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw parsed.error;
      message = parsed.data;
    } catch {
      this.#o.log.warn('unreadable control message ignored', { bytes: text.length });
      return;
    }
    switch (message.type) {
      case 'doorbell':
        this.stats.doorbells++;
        this.#o.onDoorbell(message);
        return;
      case 'registered':
        this.#onRegistered(link, message.connectionId);
        return;
      case 'pong':
        this.#o.clock.clearTimeout(link.awaitingPong);
        link.awaitingPong = undefined;
        return;
      case 'error':
        this.#o.log.warn('control API refused a message', { message: message.message });
        return;
    }
  }

  #onRegistered(link: Link, connectionId: string): void {
    if (link !== this.#opening) return;
    link.connectionId = connectionId;
    this.#opening = undefined;
    this.#backoff.connected(this.#o.clock.now());
    const previous = this.#current;
    this.#current = link;
    this.stats.opened++;
    this.#o.log.info('control connection registered', { connectionId, rotation: previous !== undefined });
    this.#o.onConnection(connectionId);
    link.timers.push(this.#every(link, this.#o.pingIntervalMs, () => this.#ping(link)));
    link.timers.push(
      this.#o.clock.setTimeout(() => {
        this.stats.rotations++;
        void this.#open();
      }, this.#o.rotateAfterMs),
    );
    if (previous !== undefined) {
      // Overlap: the old connection keeps delivering doorbells rung at its id until the new id is known.
      this.#clearTimers(previous);
      previous.timers.push(
        this.#o.clock.setTimeout(() => previous.ws.close(1000, 'rotated'), this.#o.overlapMs),
      );
    }
  }

  #ping(link: Link): void {
    if (link.awaitingPong !== undefined) return;
    link.ws.send(JSON.stringify({ action: 'ping' }));
    link.awaitingPong = this.#o.clock.setTimeout(() => {
      this.#o.log.warn('control connection did not answer a ping: reconnecting');
      link.ws.terminate();
    }, this.#o.pongTimeoutMs);
  }

  #every(link: Link, ms: number, action: () => void): unknown {
    const tick = (): void => {
      action();
      const index = link.timers.indexOf(handle);
      handle = this.#o.clock.setTimeout(tick, ms);
      if (index >= 0) link.timers[index] = handle;
    };
    let handle = this.#o.clock.setTimeout(tick, ms);
    return handle;
  }

  #onClose(link: Link, code: number): void {
    this.#clearTimers(link);
    if (link === this.#opening) this.#opening = undefined;
    if (link === this.#current) {
      this.#current = undefined;
      this.#o.log.warn('control connection closed', { code });
      this.#o.onConnection(undefined);
    }
    if (this.#stopped) return;
    // Lost the current one (or a new one failed before registering with none current): open again.
    if (this.#current === undefined && this.#opening === undefined) this.#retry();
  }

  #retry(): void {
    if (this.#stopped) return;
    const delay = this.#backoff.disconnected(this.#o.clock.now());
    this.#o.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = this.#o.clock.setTimeout(() => void this.#open(), delay);
  }

  #clearTimers(link: Link): void {
    for (const timer of link.timers) this.#o.clock.clearTimeout(timer);
    link.timers = [];
    this.#o.clock.clearTimeout(link.awaitingPong);
    link.awaitingPong = undefined;
  }
}
