/**
 * The chaos run's verdict, as pure functions: for one session, the ground truth (what the guest sent and
 * what the agent said, each in its order) against (a) the stored transcript, (b) what Genesys received
 * and (c) what the frontend received over all its sockets. Each check yields the same four counts, so a
 * run can print them per check and in total. Unit-tested on hand-made inputs
 * (test/unit/chaos/compare.test.ts); used by bench/chaos/run.ts.
 */

/** What each side sent, in the order it sent it. Every text is unique within a session. */
export interface Truth {
  readonly guestSaid: readonly string[];
  readonly agentSaid: readonly string[];
}

export interface Counts {
  /** Sent but never found (or, in the stored transcript, a sequence number with no entry). */
  readonly lost: number;
  /** Found more than once (or a sequence number used by two stored entries). */
  readonly duplicated: number;
  /** Found, but not in the order sent: the fewest entries that would have to move (n − LIS). */
  readonly outOfOrder: number;
  /** Found but never sent by anyone (a text from nowhere, or an entry of another kind). */
  readonly unexpected: number;
}

export const ZERO: Counts = Object.freeze({ lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0 });

export function addCounts(...counts: readonly Counts[]): Counts {
  return counts.reduce<Counts>(
    (sum, c) => ({
      lost: sum.lost + c.lost,
      duplicated: sum.duplicated + c.duplicated,
      outOfOrder: sum.outOfOrder + c.outOfOrder,
      unexpected: sum.unexpected + c.unexpected,
    }),
    ZERO,
  );
}

export function isClean(counts: Counts): boolean {
  return counts.lost + counts.duplicated + counts.outOfOrder + counts.unexpected === 0;
}

/** Length of the longest strictly increasing subsequence (patience sorting, O(n log n)). */
export function longestIncreasing(values: readonly number[]): number {
  const tails: number[] = [];
  for (const value of values) {
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((tails[mid] as number) < value) low = mid + 1;
      else high = mid;
    }
    tails[low] = value;
  }
  return tails.length;
}

/**
 * One ordered list against what was sent: each expected item should appear exactly once, in order. A
 * repeat counts as duplicated (only its first occurrence takes part in the order), an item never sent as
 * unexpected.
 */
export function compareSequence(expected: readonly string[], actual: readonly string[]): Counts {
  const position = new Map<string, number>();
  for (const [index, item] of expected.entries()) {
    if (position.has(item)) throw new Error(`the ground truth repeats "${item}": texts must be unique`);
    position.set(item, index);
  }
  const seen = new Set<string>();
  const order: number[] = [];
  let duplicated = 0;
  let unexpected = 0;
  for (const item of actual) {
    const index = position.get(item);
    if (index === undefined) unexpected++;
    else if (seen.has(item)) duplicated++;
    else {
      seen.add(item);
      order.push(index);
    }
  }
  return {
    lost: expected.length - seen.size,
    duplicated,
    outOfOrder: order.length - longestIncreasing(order),
    unexpected,
  };
}

/** The fields of a stored transcript entry the checks read. */
export interface StoredEntry {
  readonly seq: number;
  readonly direction: string;
  readonly text?: string | undefined;
}

/** Guest and agent texts, each side in sequence order; entries of other directions are unexpected. */
function bySide(entries: readonly StoredEntry[], truth: Truth): Counts {
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  const texts = (direction: string) =>
    sorted.filter((e) => e.direction === direction).map((e) => e.text ?? '');
  const others = sorted.filter((e) => e.direction !== 'guest' && e.direction !== 'agent').length;
  return addCounts(
    compareSequence(truth.guestSaid, texts('guest')),
    compareSequence(truth.agentSaid, texts('agent')),
    { ...ZERO, unexpected: others },
  );
}

/**
 * (a) The stored transcript: sequence numbers 1..n with no gap (a missing number counts as lost) and no
 * number twice (duplicated), and each side's texts once each, in the order sent.
 */
export function checkStored(truth: Truth, entries: readonly StoredEntry[]): Counts {
  const seqs = new Set<number>();
  let reused = 0;
  for (const entry of entries) {
    if (seqs.has(entry.seq)) reused++;
    seqs.add(entry.seq);
  }
  const highest = Math.max(0, ...seqs);
  let gaps = 0;
  for (let seq = 1; seq <= highest; seq++) if (!seqs.has(seq)) gaps++;
  return addCounts(bySide(entries, truth), { ...ZERO, lost: gaps, duplicated: reused });
}

/** (b) What Genesys received from the guest (the emulator's Inbound messages): each text once, in order. */
export function checkUpstream(truth: Truth, inboundTexts: readonly string[]): Counts {
  return compareSequence(truth.guestSaid, inboundTexts);
}

/** A `message` event as a frontend received it (the fields that identify the entry). */
export interface SeenMessage {
  readonly sequenceId: number;
  readonly entryId: string;
  readonly direction: string;
  readonly text?: string | undefined;
  readonly clientMessageId?: string | undefined;
}

function sameEntry(a: SeenMessage, b: SeenMessage): boolean {
  return (
    a.entryId === b.entryId &&
    a.direction === b.direction &&
    a.text === b.text &&
    a.clientMessageId === b.clientMessageId
  );
}

/**
 * (c) What one frontend received over all its sockets, in arrival order. An event repeating a sequenceId
 * is dropped as a replay only when it is the same entry (its status may have moved on); a different entry
 * under a known sequenceId is misnumbered and counts as out of order. The rest is read in sequence order,
 * as a frontend shows it: each side's texts once each, in the order sent.
 */
export function checkFrontend(truth: Truth, seen: readonly SeenMessage[]): Counts {
  const bySeq = new Map<number, SeenMessage>();
  let misnumbered = 0;
  for (const message of seen) {
    const first = bySeq.get(message.sequenceId);
    if (first === undefined) bySeq.set(message.sequenceId, message);
    else if (!sameEntry(first, message)) misnumbered++;
  }
  const entries = [...bySeq.values()].map((m) => ({
    seq: m.sequenceId,
    direction: m.direction,
    text: m.text,
  }));
  return addCounts(bySide(entries, truth), { ...ZERO, outOfOrder: misnumbered });
}
