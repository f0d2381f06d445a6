/**
 * Re-ordering of Genesys pushes. Web messaging promises no ordering ("no guarantee to ordering is
 * provided") and has no sequence numbers, so pushes are held for a short window, de-duplicated by
 * `body.id` and released sorted by `channel.time`, tie-broken by arrival order. Pushes without a time
 * (a SessionResponse, an event) keep their place in the arrival order, as in ovotech's message delayer.
 */
import { withDefaults } from './options.js';

/** Options of a {@link ReorderWindow}. */
export interface ReorderWindowOptions {
  /** How long each push is held before it may be released, in ms. */
  readonly windowMs: number;
  /** How many ids are remembered for de-duplication; the oldest are forgotten first. */
  readonly maxTrackedIds: number;
}

const DEFAULTS: ReorderWindowOptions = Object.freeze({ windowMs: 300, maxTrackedIds: 10_000 });

/** One push offered to the window. */
export interface ReorderEntry<T> {
  /** Genesys message id (`body.id`): the de-duplication key. */
  readonly id: string;
  /** `channel.time` (ISO-8601 with a zone) or epoch ms; null, undefined or unparseable means untimed. */
  readonly time?: string | number | null | undefined;
  readonly value: T;
}

/** One push let out of the window. */
export interface Released<T> {
  readonly id: string;
  /** Epoch ms parsed from the entry's time, or undefined for an untimed entry. */
  readonly time: number | undefined;
  readonly value: T;
  /** The `now` passed to `push`. */
  readonly arrivedAt: number;
  /** True when a push with a later time had already been released: it came after its window. */
  readonly late: boolean;
}

interface Held<T> {
  readonly id: string;
  readonly time: number | undefined;
  readonly value: T;
  readonly arrivedAt: number;
  /** Arrival rank, the tie-break between equal times. */
  readonly seq: number;
}

// A zone designator is required: without one Date.parse reads local time, which would make the result
// depend on the host's TZ. Date.parse alone is also too lenient ("1" parses as the year 2001).
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

function parseTime(time: string | number | null | undefined): number | undefined {
  if (typeof time === 'number') return Number.isFinite(time) ? time : undefined;
  if (typeof time !== 'string' || !ISO_DATE_TIME.test(time)) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}

function validOptions(options: Partial<ReorderWindowOptions>): ReorderWindowOptions {
  const merged = withDefaults('ReorderWindow', DEFAULTS, options);
  if (!Number.isFinite(merged.windowMs) || merged.windowMs < 0) {
    throw new RangeError(
      `ReorderWindow option "windowMs" must be a finite number >= 0, got ${merged.windowMs}`,
    );
  }
  if (!Number.isSafeInteger(merged.maxTrackedIds) || merged.maxTrackedIds < 1) {
    throw new RangeError(
      `ReorderWindow option "maxTrackedIds" must be an integer >= 1, got ${merged.maxTrackedIds}`,
    );
  }
  return merged;
}

/**
 * Holds pushes for `windowMs`, drops repeated ids, and releases them in `channel.time` order.
 *
 * Held entries stay in arrival order and an entry is due once `arrivedAt + windowMs <= now`; a batch is
 * the longest due prefix plus every held timed entry whose time is no later than the batch's latest time,
 * so nothing still held can later come out before what was already released. Only a push that arrives
 * after a later-timed push went out can be out of order; it is released anyway with `late: true`.
 *
 * Pure: the caller passes `now` and owns the timer (see {@link ReorderWindow.nextDueAt}).
 */
export class ReorderWindow<T> {
  readonly #options: ReorderWindowOptions;
  #held: Held<T>[] = [];
  readonly #heldIds = new Set<string>();
  // A Set iterates in insertion order, which makes it a FIFO of remembered ids.
  readonly #seen = new Set<string>();
  #seq = 0;
  #maxReleasedTime = Number.NEGATIVE_INFINITY;

  constructor(options: Partial<ReorderWindowOptions> = {}) {
    this.#options = validOptions(options);
  }

  /** Number of entries held. */
  get size(): number {
    return this.#held.length;
  }

  /**
   * Offers a push received at `now`. Returns false, and drops it, when its id was pushed before,
   * whether that entry is still held or already released (within the last `maxTrackedIds` ids).
   */
  push(entry: ReorderEntry<T>, now: number): boolean {
    // Held ids are checked apart from the FIFO so that a small maxTrackedIds cannot let a duplicate of
    // an entry still in the buffer through.
    if (this.#seen.has(entry.id) || this.#heldIds.has(entry.id)) return false;
    this.#remember(entry.id);
    this.#heldIds.add(entry.id);
    this.#held.push({
      id: entry.id,
      time: parseTime(entry.time),
      value: entry.value,
      arrivedAt: now,
      seq: this.#seq++,
    });
    return true;
  }

  /** The entries that may go out at `now`, in release order; empty when none is due. */
  release(now: number): Released<T>[] {
    let due = 0;
    while (due < this.#held.length && this.#isDue(this.#held[due], now)) due++;
    if (due === 0) return [];
    let maxDueTime = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < due; i++) {
      const time = this.#held[i]?.time;
      if (time !== undefined && time > maxDueTime) maxDueTime = time;
    }
    const batch: Held<T>[] = [];
    const kept: Held<T>[] = [];
    this.#held.forEach((entry, index) => {
      const pulledForward = entry.time !== undefined && entry.time <= maxDueTime;
      (index < due || pulledForward ? batch : kept).push(entry);
    });
    this.#held = kept;
    return this.#emit(batch);
  }

  /** Releases everything held, with the same ordering rules, whether due or not. */
  flush(): Released<T>[] {
    const batch = this.#held;
    this.#held = [];
    return this.#emit(batch);
  }

  /** When {@link ReorderWindow.release} will next return something; undefined when nothing is held. */
  nextDueAt(): number | undefined {
    const first = this.#held[0];
    return first === undefined ? undefined : first.arrivedAt + this.#options.windowMs;
  }

  #isDue(entry: Held<T> | undefined, now: number): boolean {
    return entry !== undefined && entry.arrivedAt + this.#options.windowMs <= now;
  }

  #remember(id: string): void {
    this.#seen.add(id);
    if (this.#seen.size <= this.#options.maxTrackedIds) return;
    const oldest = this.#seen.values().next();
    if (!oldest.done) this.#seen.delete(oldest.value);
  }

  /** Orders a batch (given in arrival order), marks late entries and forgets their held ids. */
  #emit(batch: Held<T>[]): Released<T>[] {
    const timed = batch
      .filter((entry) => entry.time !== undefined)
      .sort((a, b) => (a.time ?? 0) - (b.time ?? 0) || a.seq - b.seq);
    let nextTimed = 0;
    const released: Released<T>[] = [];
    for (const slot of batch) {
      const entry = slot.time === undefined ? slot : timed[nextTimed++];
      if (entry === undefined) continue;
      this.#heldIds.delete(entry.id);
      let late = false;
      if (entry.time !== undefined) {
        late = entry.time < this.#maxReleasedTime;
        if (!late) this.#maxReleasedTime = entry.time;
      }
      released.push({ id: entry.id, time: entry.time, value: entry.value, arrivedAt: entry.arrivedAt, late });
    }
    return released;
  }
}
