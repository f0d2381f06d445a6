/**
 * A frontend on a system's public API, as tests and benchmarks drive it: a `ws` socket that keeps every
 * event it receives, parsed with the protocol's own parser, and waits for the one it needs.
 */
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { parseServerEvent, type ServerEvent } from '../src/protocol/index.js';

/** Opens `url`; a refused upgrade rejects with its HTTP status (`status`). */
export function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
    );
    ws.once('error', reject);
  });
}

export type Of<T extends ServerEvent['type']> = Extract<ServerEvent, { type: T }>;

/** A type guard for `Guest.waitFor`: an event of `type` for which `extra` holds. */
export const is =
  <T extends ServerEvent['type']>(type: T, extra: (e: Of<T>) => boolean = () => true) =>
  (e: ServerEvent): e is Of<T> =>
    e.type === type && extra(e as Of<T>);

/** A frontend on the public API that keeps every event it receives. */
export class Guest {
  readonly ws: WebSocket;
  readonly events: ServerEvent[] = [];
  sessionId = '';
  #waiters: (() => void)[] = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const parsed = parseServerEvent(data.toString('utf8'));
      if (!parsed.ok) throw new Error(`unparseable event: ${data.toString('utf8').slice(0, 200)}`);
      this.events.push(parsed.event);
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    });
  }

  /** Opens a socket to `url` (the public API's, with `?token=`) and wraps it. */
  static async open(url: string): Promise<Guest> {
    return new Guest(await openSocket(url));
  }

  /** The first event (from `from` on) that matches, waiting up to `timeoutMs`. */
  async waitFor<T extends ServerEvent>(
    match: (event: ServerEvent) => event is T,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.events.slice(from).map((e) => JSON.stringify(e).slice(0, 200));
        throw new Error(`no matching event within ${timeoutMs} ms; received since: ${seen.join(', ')}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async start(extra: Record<string, unknown> = {}): Promise<string> {
    const from = this.events.length;
    this.ws.send(JSON.stringify({ action: 'connect', clientMessageId: randomUUID(), ...extra }));
    const event = await this.waitFor(is('connect'), 10_000, from);
    this.sessionId = event.sessionId;
    return event.sessionId;
  }

  /**
   * Sends and waits for the answer (the stored, pending entry). A frontend that wants its messages in
   * the order it typed them waits for each answer: API Gateway runs a connection's frames concurrently.
   */
  async send(
    text: string | undefined,
    clientMessageId: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const from = this.events.length;
    this.ws.send(JSON.stringify({ action: 'send', text, clientMessageId, ...extra }));
    await this.waitFor(
      is('message', (e) => e.clientMessageId === clientMessageId),
      10_000,
      from,
    );
  }

  /** Sends any frame (no waiting). */
  frame(frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }
}
