/**
 * Test doubles for the guest session's unit tests: a clock whose timers fire only when the test
 * advances it, and an in-memory socket that records what the client sends and lets the test play
 * Genesys. Behaviour against a real server is covered by the integration tests on the emulator.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../../../../src/domain/clock.js';
import type {
  FetchLike,
  FetchResponse,
  GuestSessionOptions,
  SocketLike,
  SocketOptions,
} from '../../../../src/genesys/client/index.js';
import type { Log } from '../../../../src/logging/log.js';

export class FakeClock implements Clock {
  time = 1_700_000_000_000;
  #next = 0;
  readonly timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.#next++;
    this.timers.set(handle, { at: this.time + Math.max(0, ms), callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in time order (also those armed by earlier callbacks). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let nextHandle: number | undefined;
      let nextAt = Number.POSITIVE_INFINITY;
      for (const [handle, timer] of this.timers) {
        if (timer.at <= end && timer.at < nextAt) {
          nextAt = timer.at;
          nextHandle = handle;
        }
      }
      if (nextHandle === undefined) break;
      const timer = this.timers.get(nextHandle);
      this.timers.delete(nextHandle);
      this.time = Math.max(this.time, nextAt);
      timer?.callback();
    }
    this.time = end;
  }
}

type Handler = (...args: never[]) => void;

export class FakeSocket implements SocketLike {
  static instances: FakeSocket[] = [];
  readonly url: string;
  readonly options: SocketOptions;
  readonly sent: Record<string, unknown>[] = [];
  readonly handlers = new Map<string, Handler[]>();
  pings = 0;
  closedWith: number | undefined;
  terminated = false;

  constructor(url: string, options: SocketOptions) {
    this.url = url;
    this.options = options;
    FakeSocket.instances.push(this);
  }

  static reset(): void {
    FakeSocket.instances = [];
  }

  static last(): FakeSocket {
    const socket = FakeSocket.instances.at(-1);
    if (socket === undefined) throw new Error('no socket was opened');
    return socket;
  }

  on(event: string, listener: Handler): this {
    const list = this.handlers.get(event) ?? [];
    list.push(listener);
    this.handlers.set(event, list);
    return this;
  }

  #emit(event: string, ...args: unknown[]): void {
    for (const handler of this.handlers.get(event) ?? []) (handler as (...a: unknown[]) => void)(...args);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  ping(): void {
    this.pings++;
  }

  close(code?: number): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = code ?? 1005;
    queueMicrotask(() => this.#emit('close', code ?? 1005, Buffer.from('')));
  }

  terminate(): void {
    this.terminated = true;
    if (this.closedWith !== undefined) return;
    this.closedWith = 1006;
    queueMicrotask(() => this.#emit('close', 1006, Buffer.from('')));
  }

  // ── the test plays Genesys ──

  open(): void {
    this.#emit('open');
  }

  receive(frame: object): void {
    this.#emit('message', Buffer.from(JSON.stringify(frame)), false);
  }

  pong(): void {
    this.#emit('pong');
  }

  /** `ws` reports an error (e.g. one with `code`, as its receiver does); a close follows only if the test says so. */
  fail(error: Error): void {
    this.#emit('error', error);
  }

  /** The server (or the network) closes the socket. */
  drop(code = 1006, error?: string): void {
    if (error !== undefined) this.#emit('error', new Error(error));
    this.closedWith ??= code;
    this.#emit('close', code, Buffer.from(''));
  }

  /**
   * The server answers the upgrade with HTTP, as `ws` reports it to an 'unexpected-response' listener:
   * the response (headers, then the body in one chunk and its end). What the client does next is its own.
   */
  refuseUpgrade(status: number, body: string, contentType = 'application/json'): FakeResponse {
    const response = new FakeResponse(status, { 'content-type': contentType });
    this.#emit('unexpected-response', {}, response);
    response.emit('data', Buffer.from(body));
    response.emit('end');
    return response;
  }

  actions(): string[] {
    return this.sent.map((frame) => String(frame.action));
  }

  lastSent(action?: string): Record<string, unknown> {
    const frames = action === undefined ? this.sent : this.sent.filter((frame) => frame.action === action);
    const frame = frames.at(-1);
    if (frame === undefined) throw new Error(`nothing sent${action ? ` with action ${action}` : ''}`);
    return frame;
  }

  sessionResponse(body: Record<string, unknown> = {}): void {
    this.receive({
      type: 'response',
      class: 'SessionResponse',
      code: 200,
      body: { connected: true, newSession: true, readOnly: false, ...body },
    });
  }

  /** The Inbound echo of a sent onMessage. */
  echo(frame: Record<string, unknown>, id: string, time: string): void {
    const message = frame.message as Record<string, unknown>;
    this.receive({
      type: 'message',
      class: 'StructuredMessage',
      code: 200,
      body: {
        id,
        type: message.type,
        text: message.text,
        direction: 'Inbound',
        channel: { time, messageId: `m-${id}` },
        metadata: message.metadata,
      },
      tracingId: frame.tracingId,
    });
  }

  outbound(id: string, time: string, text: string, extra: Record<string, unknown> = {}): void {
    this.receive({
      type: 'message',
      class: 'StructuredMessage',
      code: 200,
      body: {
        id,
        type: 'Text',
        text,
        direction: 'Outbound',
        originatingEntity: 'Bot',
        channel: { time },
        ...extra,
      },
    });
  }
}

/** Lets every pending promise chain (fake fetches included) run; real timers are not involved. */
export const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

export class MemoryLogger implements Log {
  readonly lines: string[] = [];
  #log(level: string, message: string, fields?: unknown): void {
    this.lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  }
  debug(message: string, fields?: unknown): void {
    this.#log('debug', message, fields);
  }
  info(message: string, fields?: unknown): void {
    this.#log('info', message, fields);
  }
  warn(message: string, fields?: unknown): void {
    this.#log('warn', message, fields);
  }
  error(message: string, fields?: unknown): void {
    this.#log('error', message, fields);
  }
}

export interface FetchCall {
  url: string;
  init: Parameters<FetchLike>[1];
}

/** A fetch that answers from a handler (with a real `Response`, so bodies stream) and records every call. */
export function fakeFetch(
  handler: (call: FetchCall) => { status?: number; json?: unknown; text?: string },
): FetchLike & { calls: FetchCall[] } {
  const calls: FetchCall[] = [];
  const fn = async (url: string, init: FetchCall['init']): Promise<FetchResponse> => {
    const call = { url, init };
    calls.push(call);
    const answer = handler(call);
    return new Response(answer.text ?? JSON.stringify(answer.json ?? ''), { status: answer.status ?? 200 });
  };
  return Object.assign(fn, { calls });
}

let ids = 0;
export const sequentialIds = (): (() => string) => {
  return () => `id-${++ids}`;
};

export function baseOptions(
  clock: FakeClock,
  overrides: Partial<GuestSessionOptions> = {},
): GuestSessionOptions {
  return {
    deploymentId: 'dep-1',
    endpoint: { wsUrl: 'wss://webmessaging.example.test/v1', apiUrl: 'https://api.example.test' },
    token: 'secret-token-abcd',
    WebSocket: FakeSocket,
    fetch: fakeFetch(() => ({ json: { entities: [], pageCount: 1 } })),
    clock,
    random: () => 0.5,
    // Exact 500 ms spacing keeps the pacing arithmetic of the tests readable; one test covers the margin.
    pacingMarginMs: 0,
    newId: sequentialIds(),
    ...overrides,
  };
}

/** An HTTP response as Node's IncomingMessage presents it to 'unexpected-response' (the part read). */
export class FakeResponse extends EventEmitter {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  destroyed = false;

  constructor(statusCode: number, headers: Record<string, string> = {}) {
    super();
    this.statusCode = statusCode;
    this.headers = headers;
  }

  destroy(): void {
    this.destroyed = true;
  }
}
