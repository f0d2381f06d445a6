/**
 * The FIFO of a session's outgoing onMessage sends. An entry is either waiting (for the pacer, the
 * socket or a retryAfter) or in flight (on the wire, its echo not seen yet). An entry that must go again
 * (a 429, or a send whose fate a dropped socket hid and history did not settle) goes back among the
 * waiting ones in its original place, ahead of everything queued after it, so Genesys sees our order.
 *
 * Pure bookkeeping: no timers, no sockets, no promises.
 */

export interface QueueItem {
  /** Enqueue rank: the order Genesys must see. */
  readonly seq: number;
  /** The idempotency key, echoed back by Genesys. */
  readonly tracingId: string;
}

export class SendQueue<T extends QueueItem> {
  readonly #capacity: number;
  #waiting: T[] = [];
  // A Map keeps insertion order: its first entry is the oldest send in flight.
  readonly #inFlight = new Map<string, T>();
  readonly #all = new Map<string, T>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Entries waiting or in flight. */
  get size(): number {
    return this.#all.size;
  }

  get waitingCount(): number {
    return this.#waiting.length;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  get isFull(): boolean {
    return this.#all.size >= this.#capacity;
  }

  /** The outstanding entry with this tracingId, waiting or in flight. */
  get(tracingId: string): T | undefined {
    return this.#all.get(tracingId);
  }

  isInFlight(tracingId: string): boolean {
    return this.#inFlight.has(tracingId);
  }

  /**
   * Adds an entry at the back. Returns false (and keeps nothing) when the queue is full or an entry
   * with the same tracingId is outstanding.
   */
  enqueue(entry: T): boolean {
    if (this.isFull || this.#all.has(entry.tracingId)) return false;
    this.#all.set(entry.tracingId, entry);
    this.#insertWaiting(entry);
    return true;
  }

  /** The next entry to send, without taking it. */
  peek(): T | undefined {
    return this.#waiting[0];
  }

  /** Takes the next entry and marks it in flight. */
  take(): T | undefined {
    const entry = this.#waiting.shift();
    if (entry !== undefined) this.#inFlight.set(entry.tracingId, entry);
    return entry;
  }

  /** Puts an in-flight entry back among the waiting ones, in its enqueue place. */
  requeue(tracingId: string): T | undefined {
    const entry = this.#inFlight.get(tracingId);
    if (entry === undefined) return undefined;
    this.#inFlight.delete(tracingId);
    this.#insertWaiting(entry);
    return entry;
  }

  /** Removes an entry for good (acknowledged or failed), wherever it is. */
  settle(tracingId: string): T | undefined {
    const entry = this.#all.get(tracingId);
    if (entry === undefined) return undefined;
    this.#all.delete(tracingId);
    if (!this.#inFlight.delete(tracingId)) {
      this.#waiting = this.#waiting.filter((item) => item !== entry);
    }
    return entry;
  }

  /** The in-flight entry sent first, the owner of an error that names no tracingId. */
  oldestInFlight(): T | undefined {
    return this.#inFlight.values().next().value;
  }

  /** In-flight entries, oldest first. */
  inFlight(): T[] {
    return [...this.#inFlight.values()];
  }

  /** Waiting entries, in send order. */
  waiting(): T[] {
    return [...this.#waiting];
  }

  /** Removes and returns every entry (in flight first, then waiting), e.g. to reject them all. */
  drain(): T[] {
    const all = [...this.#inFlight.values(), ...this.#waiting];
    this.#inFlight.clear();
    this.#waiting = [];
    this.#all.clear();
    return all;
  }

  #insertWaiting(entry: T): void {
    // Entries are nearly always appended, or re-inserted near the front; a scan from the back is cheap.
    let index = this.#waiting.length;
    while (index > 0 && (this.#waiting[index - 1]?.seq ?? Number.NEGATIVE_INFINITY) > entry.seq) index--;
    this.#waiting.splice(index, 0, entry);
  }
}
