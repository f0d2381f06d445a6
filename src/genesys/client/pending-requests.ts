/**
 * Requests that expect one answer (getJwt, onAttachment, getAttachment, deleteAttachment,
 * closeSession), matched by the envelope `tracingId` Genesys echoes, or, for an answer without one, by
 * attachment id and then by age (the oldest pending request of a fitting kind). Each has a timeout on
 * the injected clock.
 */
import type { Clock } from '../../domain/clock.js';
import { GenesysError } from '../errors.js';

export type RequestKind = 'getJwt' | 'onAttachment' | 'getAttachment' | 'deleteAttachment' | 'closeSession';

export interface PendingRequest {
  readonly kind: RequestKind;
  readonly tracingId: string;
  readonly attachmentId: string | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface Entry extends PendingRequest {
  readonly timer: unknown;
}

export class PendingRequests {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Registers a request; the promise settles when {@link take} hands it out, or on timeout. */
  add<T>(
    kind: RequestKind,
    tracingId: string,
    timeoutMs: number,
    attachmentId: string | undefined = undefined,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#entries.delete(tracingId);
        reject(new GenesysError('GENESYS_TIMEOUT', `No answer to ${kind} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#entries.set(tracingId, {
        kind,
        tracingId,
        attachmentId,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer,
      });
    });
  }

  /** Removes and returns the request with this tracingId. */
  take(tracingId: string | undefined): PendingRequest | undefined {
    if (tracingId === undefined) return undefined;
    const entry = this.#entries.get(tracingId);
    if (entry === undefined) return undefined;
    return this.#remove(entry);
  }

  /**
   * For an answer without a (known) tracingId: the pending request of one of `kinds` for this
   * attachment id, else the oldest pending one of those kinds.
   */
  takeMatching(kinds: readonly RequestKind[], attachmentId?: string): PendingRequest | undefined {
    let oldest: Entry | undefined;
    for (const entry of this.#entries.values()) {
      if (!kinds.includes(entry.kind)) continue;
      if (attachmentId !== undefined && entry.attachmentId === attachmentId) return this.#remove(entry);
      oldest ??= entry;
    }
    return oldest === undefined ? undefined : this.#remove(oldest);
  }

  /** Rejects every pending request (socket lost, session finished). */
  rejectAll(error: Error): void {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) {
      this.#clock.clearTimeout(entry.timer);
      entry.reject(error);
    }
  }

  #remove(entry: Entry): PendingRequest {
    this.#entries.delete(entry.tracingId);
    this.#clock.clearTimeout(entry.timer);
    return entry;
  }
}
