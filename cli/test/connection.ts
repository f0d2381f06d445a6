/**
 * The scenario runner's connection to a stack: one WebSocket whose frames are read by events.ts, and
 * `request` = send a frame and wait for the event that answers it. cli/relay-client.ts does the same for
 * `chat` and `transcript` with the protocol's strict parser, which drops the event shapes the runner must
 * read from a newer stack (events.ts); hence a connection of its own.
 */
import { WebSocket } from 'ws';
import { refusalText } from '../relay-client.js';
import { type ErrorNotice, type RunnerEvent, readFrame } from './events.js';

/** A step cannot go on: the message says why, for the report. */
export class StepFailure extends Error {
  override readonly name = 'StepFailure';
}

const REQUEST_TIMEOUT_MS = 15_000;

export class RunnerConnection {
  readonly #ws: WebSocket;
  readonly #listeners = new Set<(event: RunnerEvent) => void>();
  readonly #closed: Promise<{ code: number; reason: string }>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data: Buffer) => {
      const event = readFrame(data.toString('utf8'));
      if (event === undefined) return;
      for (const listener of [...this.#listeners]) listener(event);
    });
  }

  /**
   * Opens the connection; a refusal says which it is (wrong path, bad or expired token) in the words of
   * `guest-relay chat`. The token never appears in a message.
   */
  static async open(url: string, token: string): Promise<RunnerConnection> {
    const target = new URL(url);
    target.searchParams.set('token', token);
    const where = `${target.origin}${target.pathname}`;
    const ws = new WebSocket(target);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) => {
        ws.terminate();
        reject(new StepFailure(refusalText(response.statusCode ?? 0, where, target.pathname)));
      });
      ws.once('error', (error) => reject(new StepFailure(`Cannot connect to ${where}: ${error.message}`)));
    });
    return new RunnerConnection(ws);
  }

  on(listener: (event: RunnerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  send(frame: Record<string, unknown>): void {
    this.#ws.send(JSON.stringify(frame));
  }

  /**
   * Sends `frame` and resolves with the first event `match` accepts. An error answering the frame (its
   * clientMessageId, or its action for a frame without one) rejects, as do the connection closing and the
   * timeout.
   */
  request<T extends RunnerEvent>(
    frame: Record<string, unknown>,
    match: (event: RunnerEvent) => event is T,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<T> {
    const clientMessageId = frame.clientMessageId as string | undefined;
    const answers = (event: ErrorNotice): boolean =>
      clientMessageId === undefined
        ? event.clientMessageId === undefined && event.action === frame.action
        : event.clientMessageId === clientMessageId;
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
        if (settle())
          reject(new StepFailure(`no answer to ${String(frame.action)} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      void this.#closed.then(({ code, reason }) => {
        if (settle())
          reject(
            new StepFailure(
              `the stack closed the connection before answering ${String(frame.action)} (${code}${reason ? ` ${reason}` : ''})`,
            ),
          );
      });
      const off = this.on((event) => {
        if (event.type === 'error' && answers(event)) {
          if (settle()) reject(new StepFailure(`${event.code}: ${event.message}`));
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
