/**
 * One scripted guest, as `guest-relay test` drives it: the transcript it has seen (by sequenceId), a
 * cursor (the last reply a step consumed), and `until`: wait for a condition on what has arrived,
 * re-checked on every event, never by sleeping. An upstream failure (events.ts `fatalReason`) ends every
 * wait at once with its reason; Genesys' connection progress goes to `onUpstream`, one line per change.
 */
import { randomUUID } from 'node:crypto';
import type { EventOf } from '../relay-client.js';
import { openRunnerConnection, type RunnerConnection, StepFailure } from './connection.js';
import {
  describeUpstream,
  type ErrorNotice,
  fatalReason,
  type RunnerEvent,
  type UpstreamState,
} from './events.js';

export { StepFailure } from './connection.js';

export type Entry = Omit<EventOf<'message'>, 'type' | 'replay' | 'queued'>;

export interface ConnectOptions {
  readonly deploymentId?: string;
  readonly region?: string;
  readonly guestInfo?: Readonly<Record<string, string>>;
}

export class Conversation {
  readonly #url: string;
  readonly #token: string;
  readonly #onUpstream: (line: string) => void;
  #client: RunnerConnection | undefined;
  #waiters = new Set<() => void>();
  readonly #sentIds = new Set<string>();
  readonly #sentActions = new Set<string>();
  /** The last upstream progress shown ("state/reason"), so that a retry loop prints one line, not one per attempt. */
  #upstreamShown: string | undefined;
  readonly entries = new Map<number, Entry>();
  /** When each entry first arrived (epoch ms): what `guest-relay load` times replies by. */
  readonly arrivedAt = new Map<number, number>();
  /** When each frame with a clientMessageId was sent (epoch ms), by that id. */
  readonly sentAt = new Map<string, number>();
  /** Typing notices from the agent or bot, with how many entries had arrived at the time. */
  readonly typing: { readonly at: number; readonly after: number }[] = [];
  readonly uploads = new Map<string, RunnerEvent>();
  readonly errors: ErrorNotice[] = [];
  contextApplied = 0;
  sessionId: string | undefined;
  /** The newest sequenceId a step consumed: replies are looked for after it. */
  cursor = 0;
  /** The newest sequenceId seen. */
  lastSeq = 0;
  ended: string | undefined;
  /** Who closed the conversation (a Presence Disconnect from the bot or agent), if someone did. */
  closedBy: string | undefined;
  /** Why the conversation cannot go on (Genesys unavailable, the session ended by an error, …). */
  fatal: StepFailure | undefined;

  constructor(url: string, token: string, onUpstream: (line: string) => void = () => {}) {
    this.#url = url;
    this.#token = token;
    this.#onUpstream = onUpstream;
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  async start(options: ConnectOptions): Promise<string> {
    const client = await this.#open();
    const clientMessageId = randomUUID();
    this.#sentIds.add(clientMessageId);
    const event = await client.request(
      {
        action: 'connect',
        clientMessageId,
        ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
        ...(options.region === undefined ? {} : { region: options.region }),
        ...(options.guestInfo === undefined ? {} : { guestInfo: options.guestInfo }),
      },
      (e: RunnerEvent): e is EventOf<'connect'> => e.type === 'connect',
    );
    this.sessionId = event.sessionId;
    return event.sessionId;
  }

  /** Drops the frontend connection (the session lives on). */
  disconnect(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  /** A new connection that resumes the session; what was missed is replayed. */
  async reconnect(): Promise<void> {
    if (this.sessionId === undefined)
      throw new StepFailure('reconnect: no session to resume (no earlier step started one)');
    this.disconnect();
    const client = await this.#open();
    this.#sentActions.add('connect');
    await client.request(
      { action: 'connect', sessionId: this.sessionId, afterSequenceId: this.lastSeq },
      (e: RunnerEvent): e is EventOf<'connect'> => e.type === 'connect',
    );
  }

  /** The newest page of the stored transcript (it carries what events do not, such as Genesys' ids). */
  async newestEntries(): Promise<Entry[]> {
    if (this.#client === undefined)
      throw new StepFailure('not connected (a "disconnect" step without "reconnect")');
    this.#sentActions.add('history');
    const page = await this.#client.request(
      { action: 'history', limit: 100 },
      (e: RunnerEvent): e is EventOf<'history'> => e.type === 'history',
    );
    return page.entries;
  }

  send(frame: Record<string, unknown>): void {
    if (this.#client === undefined)
      throw new StepFailure('not connected (a "disconnect" step without "reconnect")');
    if (typeof frame.clientMessageId === 'string') {
      this.#sentIds.add(frame.clientMessageId);
      this.sentAt.set(frame.clientMessageId, Date.now());
    } else if (typeof frame.action === 'string') this.#sentActions.add(frame.action);
    this.#client.send(frame);
  }

  /**
   * Resolves with `check()`'s first non-undefined answer, re-checked after every event; StepFailure after
   * `ms`, or at once when the conversation cannot go on (`fatal`). `check` may throw (a refusal arrived):
   * that ends the wait with its error.
   */
  until<T>(check: () => T | undefined, ms: number, what: string | (() => string)): Promise<T> {
    return this.#wait(ms, check, () => {
      throw new StepFailure(
        `${typeof what === 'string' ? what : what()} within ${(ms / 1000).toFixed(1)} s`,
        'timeout',
      );
    });
  }

  /** Waits `ms`; ends early with the error of `check` (re-run on every event) or of `fatal`. */
  hold(ms: number, check: () => void = () => {}): Promise<void> {
    return this.#wait<void>(
      ms,
      () => {
        check();
        return undefined;
      },
      () => undefined,
    );
  }

  /**
   * Ends every wait at once with `failure` (the run is stopping); later steps fail with it too. `end()`
   * still works.
   */
  interrupt(failure: StepFailure): void {
    if (this.fatal === undefined) this.fatal = failure;
    this.#wake();
  }

  /**
   * Ends the session (`end`, then its `sessionEnded`), reconnecting first if a step left it disconnected.
   * True when the stack confirmed within `ms`; false otherwise (no session, the stack gone, no answer).
   */
  async end(ms: number): Promise<boolean> {
    if (this.sessionId === undefined) return false;
    if (this.ended !== undefined) return true;
    try {
      if (this.#client === undefined) await this.reconnect();
      this.send({ action: 'end' });
      return await this.#wait(
        ms,
        () => (this.ended === undefined ? undefined : true),
        () => false,
        false,
      );
    } catch {
      return false;
    }
  }

  #wait<T>(ms: number, check: () => T | undefined, onTimeout: () => T, failOnFatal = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        try {
          const answer = check();
          if (answer !== undefined) {
            resolve(answer);
            return true;
          }
          if (failOnFatal && this.fatal !== undefined) throw this.fatal;
          return false;
        } catch (error) {
          reject(error);
          return true;
        }
      };
      if (attempt()) return;
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
      };
      const wake = (): void => {
        if (attempt()) done();
      };
      const timer = setTimeout(() => {
        done();
        try {
          resolve(onTimeout());
        } catch (error) {
          reject(error);
        }
      }, ms);
      this.#waiters.add(wake);
    });
  }

  /** Agent and bot entries after the cursor, in sequenceId order. */
  repliesAfter(seq: number): Entry[] {
    return [...this.entries.values()]
      .filter((entry) => entry.sequenceId > seq && entry.direction !== 'guest')
      .sort((a, b) => a.sequenceId - b.sequenceId);
  }

  ordered(): Entry[] {
    return [...this.entries.values()].sort((a, b) => a.sequenceId - b.sequenceId);
  }

  close(): void {
    this.disconnect();
  }

  async #open(): Promise<RunnerConnection> {
    const client = await openRunnerConnection(this.#url, this.#token);
    this.#client = client;
    client.on((event) => this.#record(event));
    void client.closed().then(() => {
      if (this.#client === client) this.#client = undefined;
      this.#wake();
    });
    return client;
  }

  #record(event: RunnerEvent): void {
    switch (event.type) {
      case 'message': {
        const { type: _type, replay: _replay, queued: _queued, ...entry } = event;
        this.entries.set(entry.sequenceId, { ...this.entries.get(entry.sequenceId), ...entry });
        if (!this.arrivedAt.has(entry.sequenceId)) this.arrivedAt.set(entry.sequenceId, Date.now());
        this.lastSeq = Math.max(this.lastSeq, entry.sequenceId);
        break;
      }
      case 'status':
      case 'readReceipt': {
        const entry = this.entries.get(event.sequenceId);
        if (entry) {
          this.entries.set(event.sequenceId, {
            ...entry,
            status: event.status,
            ...(event.type === 'status' && event.failure ? { failure: event.failure } : {}),
          });
        }
        break;
      }
      case 'typing':
        if (event.state === 'on') this.typing.push({ at: Date.now(), after: this.lastSeq });
        break;
      case 'upload':
      case 'uploaded':
      case 'uploadFailed':
        this.uploads.set(`${event.type}:${event.uploadId}`, event);
        break;
      case 'context':
        if (event.state === 'applied') this.contextApplied++;
        break;
      case 'sessionEnded':
        this.ended = event.reason;
        break;
      case 'presence':
        if (event.presence === 'disconnect' && event.from !== 'guest') this.closedBy = event.from;
        break;
      case 'error':
        this.errors.push(event);
        break;
      case 'upstream':
        this.#showUpstream(event.upstream);
        break;
      default:
        break;
    }
    const reason = fatalReason(event, { clientMessageIds: this.#sentIds, actions: this.#sentActions });
    if (reason !== undefined && this.fatal === undefined) this.fatal = new StepFailure(reason, 'upstream');
    this.#wake();
  }

  /**
   * One line per change of state or reason, not per attempt. `connected` is news only after trouble;
   * `unavailable` is the step's failure, which says it.
   */
  #showUpstream(upstream: UpstreamState): void {
    const key = `${upstream.state}/${upstream.reason ?? ''}`;
    if (key === this.#upstreamShown) return;
    const quiet =
      upstream.state === 'unavailable' ||
      (upstream.state === 'connected' && this.#upstreamShown === undefined);
    if (quiet) return;
    this.#upstreamShown = key;
    this.#onUpstream(describeUpstream(upstream));
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
