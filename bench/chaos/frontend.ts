/**
 * A frontend as a careful client writes one (docs/protocol.md): one WebSocket to the public API that it
 * re-opens whenever it drops, resuming the session with `connect {sessionId, afterSequenceId}` where
 * `afterSequenceId` is the highest sequence number up to which it has seen everything; sends one message
 * at a time and, when the answer does not come (the socket dropped mid-send, a timeout) or is a retryable
 * error, sends it again with the same `clientMessageId`. It keeps every `message` event it receives, on
 * every socket, for the chaos run's frontend check (bench/chaos/compare.ts). Used by bench/chaos/run.ts.
 */
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { parseServerEvent, type ServerEvent } from '../../src/protocol/index.js';
import { sleep } from '../support/stats.js';
import type { SeenMessage } from './compare.js';

/** How long an answer (to `send` or `connect`) may take before the frame is sent again. */
const ANSWER_TIMEOUT_MS = 10_000;
/** Attempts of one send, and of one resume, before the frontend gives up (the run then fails). */
const MAX_ATTEMPTS = 25;
const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 1_000;
/** Longest pause a retryable error's `retryAfterMs` is honoured for. */
const MAX_RETRY_AFTER_MS = 2_000;

type Outcome<T> = T | 'closed' | 'timeout';

/** One WebSocket and the events that arrived on it. */
class Link {
  readonly ws: WebSocket;
  readonly events: ServerEvent[] = [];
  closed = false;
  readonly #waiters = new Set<() => void>();

  constructor(ws: WebSocket) {
    this.ws = ws;
  }

  wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** The first event from index `from` on that matches; 'closed' once the socket closed; or 'timeout'. */
  async waitFor<T extends ServerEvent>(
    match: (event: ServerEvent) => event is T,
    from: number,
    timeoutMs: number,
  ): Promise<Outcome<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found !== undefined) return found;
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }
}

type ConnectEvent = Extract<ServerEvent, { type: 'connect' }>;
type MessageEvent = Extract<ServerEvent, { type: 'message' }>;
type ErrorEvent = Extract<ServerEvent, { type: 'error' }>;

const isConnect = (e: ServerEvent): e is ConnectEvent => e.type === 'connect';

function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export interface FrontendOptions {
  /** The public API URL with the access token. */
  readonly url: string;
  /** Sent as User-Agent: the gateway emulator's dropConnections filter picks this frontend by it. */
  readonly label: string;
  /** Called right after each `send` frame went out (the chaos run may cut the socket there). */
  readonly onTransmit?: (frontend: ChaosFrontend) => void;
}

export class ChaosFrontend {
  readonly label: string;
  sessionId = '';
  /** Every `message` event received, on every socket, in arrival order. */
  readonly seen: SeenMessage[] = [];
  /** Sockets that closed without the frontend asking, resumes that succeeded, sends sent again. */
  readonly counters = { drops: 0, resumes: 0, resentSends: 0, retryableErrors: 0 };
  /** When the socket dropped and what each resume asked for and got (for a failing run's message). */
  readonly history: string[] = [];
  readonly #options: FrontendOptions;
  readonly #seqs = new Set<number>();
  #contiguous = 0;
  #link: Link | undefined;
  #reconnecting: Promise<Link> | undefined;
  #stopped = false;

  constructor(options: FrontendOptions) {
    this.#options = options;
    this.label = options.label;
  }

  /** Everything up to this sequence number has arrived (what a resume asks to skip). */
  get contiguous(): number {
    return this.#contiguous;
  }

  /** Opens the socket and starts a new session; resolves once Genesys is up (`status: active`). */
  async start(timeoutMs = 20_000): Promise<string> {
    const link = await this.#open();
    this.#link = link;
    link.ws.send(JSON.stringify({ action: 'connect', clientMessageId: randomUUID() }));
    const answer = await link.waitFor(isConnect, 0, timeoutMs);
    if (typeof answer === 'string') throw new Error(`${this.label}: no answer to connect (${answer})`);
    this.sessionId = answer.sessionId;
    const active = await link.waitFor(
      (e): e is ConnectEvent => isConnect(e) && e.status === 'active',
      0,
      timeoutMs,
    );
    if (typeof active === 'string')
      throw new Error(`${this.label}: the session never became active (${active})`);
    return this.sessionId;
  }

  /**
   * Sends one guest message and resolves with its sequenceId once the relay answered with the stored
   * entry, re-sending it (same clientMessageId) after a drop, a timeout or a retryable error.
   */
  async send(text: string, clientMessageId: string): Promise<number> {
    const frame = JSON.stringify({ action: 'send', text, clientMessageId });
    const answers = (e: ServerEvent): e is MessageEvent | ErrorEvent =>
      (e.type === 'message' || e.type === 'error') && e.clientMessageId === clientMessageId;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const link = await this.#current();
      const from = link.events.length;
      if (attempt > 0) this.counters.resentSends++;
      link.ws.send(frame);
      this.#options.onTransmit?.(this);
      const outcome = await link.waitFor(answers, from, ANSWER_TIMEOUT_MS);
      if (outcome === 'closed' || outcome === 'timeout') continue;
      if (outcome.type === 'message') return outcome.sequenceId;
      if (!outcome.retryable) {
        throw new Error(`${this.label}: send ${clientMessageId} refused: ${outcome.code} ${outcome.message}`);
      }
      this.counters.retryableErrors++;
      await sleep(Math.min(MAX_RETRY_AFTER_MS, outcome.retryAfterMs ?? backoff(attempt)));
    }
    throw new Error(`${this.label}: send ${clientMessageId} got no answer in ${MAX_ATTEMPTS} attempts`);
  }

  /** Stops reconnecting and closes the socket. */
  close(): void {
    this.#stopped = true;
    this.#link?.ws.terminate();
  }

  /** The open link, or the one a resume is bringing up. */
  #current(): Promise<Link> {
    if (this.#stopped) return Promise.reject(new Error(`${this.label}: closed`));
    const link = this.#link;
    if (link !== undefined && !link.closed) return Promise.resolve(link);
    return this.#resume();
  }

  #resume(): Promise<Link> {
    this.#reconnecting ??= this.#resumeLoop().finally(() => {
      this.#reconnecting = undefined;
    });
    return this.#reconnecting;
  }

  async #resumeLoop(): Promise<Link> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS && !this.#stopped; attempt++) {
      if (attempt > 0) await sleep(backoff(attempt));
      const link = await this.#open().catch(() => undefined);
      if (link === undefined) continue;
      const frame = { action: 'connect', sessionId: this.sessionId, afterSequenceId: this.#contiguous };
      link.ws.send(JSON.stringify(frame));
      const answer = await link.waitFor(
        (e): e is ConnectEvent | ErrorEvent => isConnect(e) || e.type === 'error',
        0,
        ANSWER_TIMEOUT_MS,
      );
      if (typeof answer !== 'string' && answer.type === 'connect') {
        this.#link = link;
        this.counters.resumes++;
        this.#note(`resumed after #${frame.afterSequenceId}; the relay's last was #${answer.lastSequenceId}`);
        return link;
      }
      link.ws.terminate();
    }
    throw new Error(`${this.label}: could not resume session ${this.sessionId}`);
  }

  #open(): Promise<Link> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.#options.url, { headers: { 'User-Agent': this.label } });
      const link = new Link(ws);
      ws.once('open', () => resolve(link));
      // A refused handshake is an 'error' too ("Unexpected server response"), then a close.
      ws.on('error', (error) => reject(error));
      ws.on('message', (data: Buffer) => this.#receive(link, data));
      ws.on('close', () => this.#closed(link));
    });
  }

  #receive(link: Link, data: Buffer): void {
    const parsed = parseServerEvent(data.toString('utf8'));
    if (!parsed.ok) return;
    const { event } = parsed;
    link.events.push(event);
    if (event.type === 'message') this.#record(event);
    link.wake();
  }

  #record(event: MessageEvent): void {
    this.seen.push({
      sequenceId: event.sequenceId,
      entryId: event.entryId,
      direction: event.direction,
      text: event.text,
      clientMessageId: event.clientMessageId,
    });
    this.#seqs.add(event.sequenceId);
    while (this.#seqs.has(this.#contiguous + 1)) this.#contiguous++;
  }

  #note(what: string): void {
    if (this.history.length < 50) this.history.push(`${new Date().toISOString()} ${what}`);
  }

  #closed(link: Link): void {
    link.closed = true;
    link.wake();
    if (link !== this.#link || this.#stopped) return;
    this.counters.drops++;
    this.#note('dropped');
    // A real client reconnects at once rather than when it next sends: it may have missed events.
    this.#resume().catch(() => {
      // The next send (or the run's final check) reports a frontend that could not come back.
    });
  }
}
