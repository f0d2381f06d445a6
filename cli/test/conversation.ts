/**
 * One scripted guest, as `guest-relay test` drives it: the transcript it has seen (by sequenceId), a
 * cursor (the last reply a step consumed), and `until`: wait for a condition on what has arrived,
 * re-checked on every event, never by sleeping.
 */
import { randomUUID } from 'node:crypto';
import type { ServerEvent } from '../../src/protocol/index.js';
import { type EventOf, RelayClient } from '../relay-client.js';

export type Entry = Omit<EventOf<'message'>, 'type' | 'replay' | 'queued'>;

export class StepFailure extends Error {
  override readonly name = 'StepFailure';
}

export interface ConnectOptions {
  readonly deploymentId?: string;
  readonly region?: string;
  readonly guestInfo?: Readonly<Record<string, string>>;
}

export class Conversation {
  readonly #url: string;
  readonly #token: string;
  #client: RelayClient | undefined;
  #waiters = new Set<() => void>();
  readonly entries = new Map<number, Entry>();
  /** Typing notices from the agent or bot, with how many entries had arrived at the time. */
  readonly typing: { readonly at: number; readonly after: number }[] = [];
  readonly uploads = new Map<string, ServerEvent>();
  readonly errors: EventOf<'error'>[] = [];
  contextApplied = 0;
  sessionId: string | undefined;
  /** The newest sequenceId a step consumed: replies are looked for after it. */
  cursor = 0;
  /** The newest sequenceId seen. */
  lastSeq = 0;
  ended: string | undefined;

  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  async start(options: ConnectOptions): Promise<string> {
    const client = await this.#open();
    const event = await client.request(
      {
        action: 'connect',
        clientMessageId: randomUUID(),
        ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
        ...(options.region === undefined ? {} : { region: options.region }),
        ...(options.guestInfo === undefined ? {} : { guestInfo: options.guestInfo }),
      },
      (e: ServerEvent): e is EventOf<'connect'> => e.type === 'connect',
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
    await client.request(
      { action: 'connect', sessionId: this.sessionId, afterSequenceId: this.lastSeq },
      (e: ServerEvent): e is EventOf<'connect'> => e.type === 'connect',
    );
  }

  /** The newest page of the stored transcript (it carries what events do not, such as Genesys' ids). */
  async newestEntries(): Promise<Entry[]> {
    if (this.#client === undefined)
      throw new StepFailure('not connected (a "disconnect" step without "reconnect")');
    const page = await this.#client.request(
      { action: 'history', limit: 100 },
      (e: ServerEvent): e is EventOf<'history'> => e.type === 'history',
    );
    return page.entries;
  }

  send(frame: Record<string, unknown>): void {
    if (this.#client === undefined)
      throw new StepFailure('not connected (a "disconnect" step without "reconnect")');
    this.#client.send(frame);
  }

  /** Resolves with `check()`'s first non-undefined answer, re-checked after every event; StepFailure after `ms`. */
  until<T>(check: () => T | undefined, ms: number, what: string | (() => string)): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // `check` may throw (a refusal arrived): that ends the wait with its error.
      let first: T | undefined;
      try {
        first = check();
      } catch (error) {
        reject(error);
        return;
      }
      if (first !== undefined) {
        resolve(first);
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
      };
      const wake = (): void => {
        try {
          const answer = check();
          if (answer !== undefined) {
            done();
            resolve(answer);
          }
        } catch (error) {
          done();
          reject(error);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new StepFailure(`${typeof what === 'string' ? what : what()} within ${(ms / 1000).toFixed(1)} s`),
        );
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

  async #open(): Promise<RelayClient> {
    const client = await RelayClient.open(this.#url, this.#token);
    this.#client = client;
    client.on((event) => this.#record(event));
    void client.closed().then(() => {
      if (this.#client === client) this.#client = undefined;
      this.#wake();
    });
    return client;
  }

  #record(event: ServerEvent): void {
    switch (event.type) {
      case 'message': {
        const { type: _type, replay: _replay, queued: _queued, ...entry } = event;
        this.entries.set(entry.sequenceId, { ...this.entries.get(entry.sequenceId), ...entry });
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
      case 'error':
        this.errors.push(event);
        break;
      default:
        break;
    }
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
