/**
 * A small client of the public protocol for the CLI: one WebSocket, its frames read into events, and
 * `request` = send a frame and wait for the event that answers it. `chat` and `transcript` read frames
 * with the protocol's own parser; the scenario runner passes a reader of its own (cli/scenarios/events.ts,
 * tolerant of a stack newer than the CLI) and its own kind of failure.
 */
import { WebSocket } from 'ws';
import { readRefusal } from '../src/genesys/client/index.js';
import { parseServerEvent, type ServerEvent } from '../src/protocol/index.js';
import { CliError } from './io.js';

export type EventOf<T extends ServerEvent['type']> = Extract<ServerEvent, { type: T }>;

/** The stack answered a frame with an `error` event: its code, for callers that handle one. */
export class RelayRefusal extends CliError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** What `request` needs of an event: its type, and of an `error`, what it answers. */
export type RelayEventLike =
  | { readonly type: string }
  | {
      readonly type: 'error';
      readonly code: string;
      readonly message: string;
      readonly clientMessageId?: string | undefined;
      readonly action?: string | undefined;
    };

export interface RelayClientOptions<E extends RelayEventLike> {
  /** One frame's event, or undefined for a frame to ignore (unknown or malformed). */
  readonly read: (text: string) => E | undefined;
  /** What a failure becomes: `code` when the stack refused a frame with an `error` event. */
  readonly fail: (message: string, code?: string) => Error;
  /** How long opening the connection may take (default OPEN_TIMEOUT_MS). */
  readonly openTimeoutMs?: number;
}

const PROTOCOL: RelayClientOptions<ServerEvent> = {
  read: (text) => {
    const parsed = parseServerEvent(text);
    return parsed.ok ? parsed.event : undefined;
  },
  fail: (message, code) => (code === undefined ? new CliError(message) : new RelayRefusal(code, message)),
};

const REQUEST_TIMEOUT_MS = 15_000;
/** How long opening the connection may take (TCP, TLS and the upgrade's answer) before it fails. */
const OPEN_TIMEOUT_MS = 10_000;

/** What to check when the connection cannot be opened at all, by the socket's error. */
function openAdvice(error: Error & { code?: string }, timeoutMs: number): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'Nothing accepts connections there: is the stack running (npm start), and is the port right?';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'The host name does not resolve: check the URL.';
    default:
      return /timed out/i.test(error.message)
        ? `No answer within ${timeoutMs / 1000} s: check the URL, and that the stack is reachable from here (VPN, firewall, proxy).`
        : 'Check the URL, and that the stack is up.';
  }
}

export class RelayClient<E extends RelayEventLike = ServerEvent> {
  readonly #ws: WebSocket;
  readonly #options: RelayClientOptions<E>;
  readonly #listeners = new Set<(event: E) => void>();
  readonly #closed: Promise<{ code: number; reason: string }>;
  /** Frames the reader could not read, and the type the last one claimed: said when a request times out. */
  #unreadable = { count: 0, lastType: '' };

  private constructor(ws: WebSocket, options: RelayClientOptions<E>) {
    this.#ws = ws;
    this.#options = options;
    this.#closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const event = options.read(text);
      if (event === undefined) {
        this.#unreadable = { count: this.#unreadable.count + 1, lastType: claimedType(text) };
        return;
      }
      for (const listener of [...this.#listeners]) listener(event);
    });
  }

  /** Why an answer may be missing: frames came that this CLI could not read (a newer stack?). */
  #unreadableNote(): string {
    const { count, lastType } = this.#unreadable;
    if (count === 0) return '';
    const last = lastType === '' ? '' : ` (the last one a "${lastType}")`;
    return ` ${count} frame(s) came that this CLI cannot read${last}: if the stack is newer than the CLI, update guest-relay.`;
  }

  /**
   * Opens the connection, within OPEN_TIMEOUT_MS. A refusal is a clear error, not a stack trace, and says
   * which it is: a wrong path (404) or a bad or expired token (401/403); a connection that cannot be made
   * says what to check. Messages name the URL without its query string.
   */
  static open(url: string, token: string): Promise<RelayClient>;
  static open<E extends RelayEventLike>(
    url: string,
    token: string,
    options: RelayClientOptions<E>,
  ): Promise<RelayClient<E>>;
  static async open<E extends RelayEventLike>(
    url: string,
    token: string,
    options?: RelayClientOptions<E>,
  ): Promise<RelayClient<E> | RelayClient> {
    if (!/^wss?:\/\//.test(url)) throw new CliError('--url must be a ws:// or wss:// URL.', 2);
    const fail = options?.fail ?? PROTOCOL.fail;
    const target = new URL(url);
    target.searchParams.set('token', token);
    const where = `${target.origin}${target.pathname}`;
    const timeoutMs = options?.openTimeoutMs ?? OPEN_TIMEOUT_MS;
    const ws = new WebSocket(target, { handshakeTimeout: timeoutMs });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) => {
        // A server that echoes the request would echo the token: it is never repeated, not even in part.
        void readRefusal(response, { setTimeout, clearTimeout }, [token]).then(({ status, said }) => {
          ws.terminate();
          reject(fail(refusalText(status, where, target.pathname, said)));
        });
      });
      ws.once('error', (error) =>
        reject(fail(`Cannot connect to ${where}: ${error.message}. ${openAdvice(error, timeoutMs)}`)),
      );
    });
    return options === undefined ? new RelayClient(ws, PROTOCOL) : new RelayClient(ws, options);
  }

  on(listener: (event: E) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  send(frame: Record<string, unknown>): void {
    this.sendText(JSON.stringify(frame));
  }

  /** Sends one frame exactly as given (`chat --json` passes the user's lines on byte for byte). */
  sendText(text: string): void {
    this.#ws.send(text);
  }

  /**
   * Sends `frame` and resolves with the first event `match` accepts. An `error` answering the frame (its
   * clientMessageId, or its action for a frame without one) rejects, as do the connection closing and the
   * timeout.
   */
  request<T extends E>(
    frame: Record<string, unknown>,
    match: (event: E) => event is T,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<T> {
    const { fail } = this.#options;
    const clientMessageId = frame.clientMessageId as string | undefined;
    const answers = (event: RelayEventLike): event is Extract<RelayEventLike, { type: 'error' }> =>
      event.type === 'error' &&
      'code' in event &&
      (clientMessageId === undefined
        ? event.clientMessageId === undefined && event.action === frame.action
        : event.clientMessageId === clientMessageId);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        off();
        return true;
      };
      const timer = setTimeout(() => {
        if (settle()) {
          reject(
            fail(
              `No answer to ${String(frame.action)} within ${timeoutMs / 1000} s.${this.#unreadableNote()}`,
            ),
          );
        }
      }, timeoutMs);
      void this.#closed.then(({ code, reason }) => {
        if (settle()) {
          const why = `${code}${reason ? ` ${reason}` : ''}`;
          reject(fail(`The stack closed the connection before answering ${String(frame.action)} (${why}).`));
        }
      });
      const off = this.on((event) => {
        if (answers(event)) {
          if (settle()) reject(fail(event.message, event.code));
        } else if (match(event)) {
          if (settle()) resolve(event);
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

/** What the CLI says when the upgrade is refused with `status`. */
export function refusalText(status: number, where: string, path: string, message?: string): string {
  const said = message === undefined ? '' : ` It says: ${message}`;
  if (status === 404) {
    return message === undefined
      ? `Wrong path: there is no WebSocket API at ${where} (HTTP 404). Use the stack's WebSocket URL, which ends with its stage: ws://127.0.0.1:3001/local locally, wss://…/live deployed.`
      : `Wrong path: there is no WebSocket API at ${where} (HTTP 404).${said}`;
  }
  if (status === 401 || status === 403) {
    // API Gateway refuses a path without the stage with an error of its own, which can look like this.
    const stageless = path === '' || path === '/';
    return (
      `The stack refused the token (HTTP ${status}): bad or expired token; mint a new one with "guest-relay token".` +
      (stageless ? ' Check the URL too: it must end with the stage (wss://…/live, ws://…/local).' : '')
    );
  }
  return `The stack answered HTTP ${status} to the WebSocket upgrade at ${where}.${said}`;
}

/** The `type` a frame claims, for a message (bounded, letters only), or '' when it claims none. */
function claimedType(text: string): string {
  try {
    const value = JSON.parse(text) as { type?: unknown };
    return typeof value?.type === 'string' ? value.type.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40) : '';
  } catch {
    return '';
  }
}

export const isType =
  <T extends ServerEvent['type']>(type: T) =>
  (event: ServerEvent): event is EventOf<T> =>
    event.type === type;
