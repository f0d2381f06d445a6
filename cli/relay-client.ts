/**
 * A small client of the public protocol for the CLI: one WebSocket, events parsed with the protocol's
 * own parser, and `request` = send a frame and wait for the event that answers it.
 */
import { WebSocket } from 'ws';
import { parseServerEvent, type ServerEvent } from '../src/protocol/index.js';
import { CliError } from './io.js';

export type EventOf<T extends ServerEvent['type']> = Extract<ServerEvent, { type: T }>;

export class RelayClient {
  readonly #ws: WebSocket;
  readonly #listeners = new Set<(event: ServerEvent) => void>();
  #closed: Promise<{ code: number; reason: string }>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data: Buffer) => {
      const parsed = parseServerEvent(data.toString('utf8'));
      if (!parsed.ok) return;
      for (const listener of [...this.#listeners]) listener(parsed.event);
    });
  }

  /** Opens the connection; a refused token is a clear error, not a stack trace. */
  static async open(url: string, token: string): Promise<RelayClient> {
    if (!/^wss?:\/\//.test(url)) throw new CliError('--url must be a ws:// or wss:// URL.', 2);
    const target = new URL(url);
    target.searchParams.set('token', token);
    const ws = new WebSocket(target);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) =>
        reject(
          new CliError(
            response.statusCode === 401 || response.statusCode === 403
              ? `The stack refused the token (HTTP ${response.statusCode}): mint a new one with "guest-relay token".`
              : `The stack answered HTTP ${response.statusCode} to the WebSocket upgrade.`,
          ),
        ),
      );
      ws.once('error', (error) =>
        reject(new CliError(`Cannot connect to ${target.origin}: ${error.message}`)),
      );
    });
    return new RelayClient(ws);
  }

  on(listener: (event: ServerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  send(frame: Record<string, unknown>): void {
    this.#ws.send(JSON.stringify(frame));
  }

  /** Sends `frame` and resolves with the first event `match` accepts (an `error` event rejects). */
  request<T extends ServerEvent>(
    frame: Record<string, unknown>,
    match: (event: ServerEvent) => event is T,
    timeoutMs = 15_000,
  ): Promise<T> {
    const clientMessageId = frame.clientMessageId as string | undefined;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new CliError(`No answer to ${String(frame.action)} within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      const off = this.on((event) => {
        const ours =
          clientMessageId === undefined
            ? event.type === 'error' && event.action === frame.action
            : event.type === 'error' && event.clientMessageId === clientMessageId;
        if (event.type === 'error' && ours) {
          clearTimeout(timer);
          off();
          reject(new CliError(`${event.code}: ${event.message}`));
        } else if (match(event)) {
          clearTimeout(timer);
          off();
          resolve(event);
        }
      });
      this.send(frame);
    });
  }

  closed(): Promise<{ code: number; reason: string }> {
    return this.#closed;
  }

  close(): void {
    this.#ws.close(1000);
  }
}

export const isType =
  <T extends ServerEvent['type']>(type: T) =>
  (event: ServerEvent): event is EventOf<T> =>
    event.type === type;
