/**
 * Test helpers for the Genesys emulator: a real server on 127.0.0.1 port 0 with a ManualClock, and plain
 * `ws` guest clients that queue every frame and let a test await the next one that matches. Every frame
 * a client receives must also parse with the project's own Genesys frame parser.
 */
import { expect } from 'vitest';
import WebSocket from 'ws';
import {
  type EmulatorOptions,
  type GenesysEmulator,
  ManualClock,
  startGenesysEmulator,
} from '../../../src/genesys/emulator/index.js';
import { parseGenesysFrame } from '../../../src/genesys/responses.js';

export interface Frame {
  readonly type: string;
  readonly class: string;
  readonly code: number;
  readonly body: unknown;
  readonly tracingId?: string;
}

/** Loosely typed JSON for reading bodies in tests. */
// biome-ignore lint/suspicious/noExplicitAny: test access to arbitrary JSON bodies.
export type Json = any;

const WAIT_MS = 2000;
let syncCount = 0;

export class GuestClient {
  readonly ws: WebSocket;
  /** Every frame received, in order. */
  readonly received: Frame[] = [];
  readonly #unread: Frame[] = [];
  #waiters: { predicate: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    // Errors are seen through `closed` (and the open promise); an unhandled 'error' would crash the run.
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('message', (data) => {
      const text = data.toString();
      const parsed = parseGenesysFrame(text);
      if (parsed.kind === 'invalid' || parsed.kind === 'unknown') {
        throw new Error(`The client parser does not understand ${text}`);
      }
      const frame = JSON.parse(text) as Frame;
      this.received.push(frame);
      const waiter = this.#waiters.find((w) => w.predicate(frame));
      if (waiter) {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        waiter.resolve(frame);
      } else {
        this.#unread.push(frame);
      }
    });
  }

  static connect(url: string, options: { origin?: string } = {}): Promise<GuestClient> {
    const ws = new WebSocket(url, options.origin ? { origin: options.origin } : {});
    const client = new GuestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(frame: object | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first unread frame matching, or the next to arrive; fails after 2 s. */
  next(predicate: (frame: Frame) => boolean = () => true, what = 'a frame'): Promise<Frame> {
    const index = this.#unread.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.#unread.splice(index, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (frame: Frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`Timed out waiting for ${what}; unread: ${JSON.stringify(this.#unread)}`));
      }, WAIT_MS);
      this.#waiters.push(waiter);
    });
  }

  nextOfClass(cls: string): Promise<Frame> {
    return this.next((f) => f.class === cls, `a ${cls}`);
  }

  /** Sends a request and returns the first frame of `cls` after it. */
  async request(frame: object | string, cls: string): Promise<Frame> {
    this.send(frame);
    return this.nextOfClass(cls);
  }

  /**
   * A barrier: an echo round trip on the configured session `token`. The server answers requests and
   * pushes on one socket in order, so every frame it sent before it is unread once this resolves.
   */
  async sync(token: string): Promise<void> {
    const tracingId = `sync-${++syncCount}`;
    this.send({ action: 'echo', token, tracingId, message: { type: 'Text', text: 'ping' } });
    await this.next((f) => f.tracingId === tracingId, `the ${tracingId} echo`);
  }

  /** Asserts that, up to now, the server sent nothing (matching) that is still unread. */
  async expectNothing(token: string, predicate: (frame: Frame) => boolean = () => true): Promise<void> {
    await this.sync(token);
    expect(this.#unread.filter(predicate)).toEqual([]);
  }

  /** Every unread frame, consumed. */
  drain(): Frame[] {
    return this.#unread.splice(0);
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}

export interface Harness {
  readonly emulator: GenesysEmulator;
  readonly clock: ManualClock;
  /** The guest URL with the deploymentId. */
  readonly url: string;
  connect(options?: { origin?: string }): Promise<GuestClient>;
  /** Connects and configures `token` with the minimal configureSession; returns the client and its SessionResponse. */
  guest(token: string): Promise<{ client: GuestClient; session: Frame }>;
  close(): Promise<void>;
}

/** A started emulator with a ManualClock and no bot unless options say otherwise. */
export async function startHarness(options: EmulatorOptions = {}): Promise<Harness> {
  const clock = new ManualClock();
  const emulator = await startGenesysEmulator({ script: null, clock, ...options });
  const url = `${emulator.wsUrl}?deploymentId=${encodeURIComponent(emulator.deploymentId)}`;
  const clients: GuestClient[] = [];
  const connect = async (connectOptions: { origin?: string } = {}) => {
    const client = await GuestClient.connect(url, connectOptions);
    clients.push(client);
    return client;
  };
  return {
    emulator,
    clock,
    url,
    connect,
    async guest(token) {
      const client = await connect();
      const session = await client.request(
        { token, deploymentId: emulator.deploymentId, action: 'configureSession' },
        'SessionResponse',
      );
      return { client, session };
    },
    async close() {
      for (const client of clients) client.close();
      await emulator.close();
    },
  };
}

/** A guest text message as Genesys' mobile SDK sends it. */
export function textMessage(token: string, text: string, extra: Record<string, unknown> = {}): object {
  return {
    action: 'onMessage',
    token,
    tracingId: `trace-${text}`,
    message: { type: 'Text', text, ...extra },
  };
}

export async function httpJson(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: Json = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body, headers: response.headers };
}

export function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; body: Json; headers: Headers }> {
  return httpJson(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The HTTP status with which a WebSocket upgrade was refused. */
export function upgradeStatus(url: string, options: { origin?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.origin ? { origin: options.origin } : {});
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', () => {});
  });
}
