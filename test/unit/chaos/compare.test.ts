/**
 * The chaos run's verdict (bench/chaos/compare.ts) on hand-made inputs: a clean run counts nothing, and a
 * lost, duplicated, reordered or invented message is counted where it happened, so `npm run chaos` cannot
 * pass because its comparison looks away.
 */
import { describe, expect, it } from 'vitest';
import {
  addCounts,
  checkFrontend,
  checkStored,
  checkUpstream,
  compareSequence,
  isClean,
  longestIncreasing,
  type SeenMessage,
  type StoredEntry,
  type Truth,
  ZERO,
} from '../../../bench/chaos/compare.js';

const truth: Truth = { guestSaid: ['g1', 'g2', 'g3'], agentSaid: ['a1', 'a2'] };

/** A clean transcript of `truth`: g1 a1 g2 a2 g3. */
function stored(): StoredEntry[] {
  return [
    { seq: 1, direction: 'guest', text: 'g1' },
    { seq: 2, direction: 'agent', text: 'a1' },
    { seq: 3, direction: 'guest', text: 'g2' },
    { seq: 4, direction: 'agent', text: 'a2' },
    { seq: 5, direction: 'guest', text: 'g3' },
  ];
}

function seen(entries: readonly StoredEntry[]): SeenMessage[] {
  return entries.map((e) => ({
    sequenceId: e.seq,
    entryId: `e${e.seq}`,
    direction: e.direction,
    text: e.text,
    ...(e.direction === 'guest' ? { clientMessageId: `c-${e.text}` } : {}),
  }));
}

describe('compareSequence', () => {
  it('counts nothing when every item came once, in order', () => {
    expect(compareSequence(['a', 'b', 'c'], ['a', 'b', 'c'])).toEqual(ZERO);
  });

  it('counts a missing item as lost', () => {
    expect(compareSequence(['a', 'b', 'c'], ['a', 'c'])).toEqual({ ...ZERO, lost: 1 });
  });

  it('counts each repeat as duplicated, wherever it comes', () => {
    expect(compareSequence(['a', 'b'], ['a', 'b', 'a', 'a'])).toEqual({ ...ZERO, duplicated: 2 });
  });

  it('counts the fewest items that would have to move as out of order', () => {
    expect(compareSequence(['a', 'b', 'c', 'd'], ['b', 'a', 'c', 'd'])).toEqual({ ...ZERO, outOfOrder: 1 });
    expect(compareSequence(['a', 'b', 'c', 'd'], ['d', 'c', 'b', 'a'])).toEqual({ ...ZERO, outOfOrder: 3 });
    // One item moved far is one move, not many.
    expect(compareSequence(['a', 'b', 'c', 'd', 'e'], ['b', 'c', 'd', 'e', 'a'])).toEqual({
      ...ZERO,
      outOfOrder: 1,
    });
  });

  it('counts an item nobody sent as unexpected', () => {
    expect(compareSequence(['a'], ['a', 'z'])).toEqual({ ...ZERO, unexpected: 1 });
  });

  it('refuses a ground truth that repeats a text (the counts would be ambiguous)', () => {
    expect(() => compareSequence(['a', 'a'], ['a'])).toThrow(/unique/);
  });
});

describe('longestIncreasing', () => {
  it('finds the longest strictly increasing subsequence', () => {
    expect(longestIncreasing([])).toBe(0);
    expect(longestIncreasing([3, 1, 2, 5, 4, 6])).toBe(4);
    expect(longestIncreasing([5, 4, 3])).toBe(1);
  });
});

describe('checkStored (a: the stored transcript)', () => {
  it('counts nothing for a clean transcript, in whatever order the entries were read', () => {
    expect(checkStored(truth, stored().reverse())).toEqual(ZERO);
  });

  it('detects a lost agent message and the gap it leaves in the sequence numbers', () => {
    const entries = stored().filter((e) => e.text !== 'a1');
    expect(checkStored(truth, entries)).toEqual({ ...ZERO, lost: 2 });
  });

  it('detects a guest message stored twice', () => {
    const entries = [...stored(), { seq: 6, direction: 'guest', text: 'g2' }];
    expect(checkStored(truth, entries)).toEqual({ ...ZERO, duplicated: 1 });
  });

  it('detects agent messages stored out of order', () => {
    const entries = stored().map((e) =>
      e.text === 'a1' ? { ...e, text: 'a2' } : e.text === 'a2' ? { ...e, text: 'a1' } : e,
    );
    expect(checkStored(truth, entries)).toEqual({ ...ZERO, outOfOrder: 1 });
  });

  it('detects a sequence number used twice, and an entry of another direction', () => {
    const entries = [...stored(), { seq: 5, direction: 'system', text: 'hello' }];
    expect(checkStored(truth, entries)).toEqual({ ...ZERO, duplicated: 1, unexpected: 1 });
  });
});

describe('checkUpstream (b: what Genesys received)', () => {
  it('wants each guest text exactly once, in order', () => {
    expect(checkUpstream(truth, ['g1', 'g2', 'g3'])).toEqual(ZERO);
    expect(checkUpstream(truth, ['g1', 'g3'])).toEqual({ ...ZERO, lost: 1 });
    expect(checkUpstream(truth, ['g1', 'g2', 'g2', 'g3'])).toEqual({ ...ZERO, duplicated: 1 });
    expect(checkUpstream(truth, ['g2', 'g1', 'g3'])).toEqual({ ...ZERO, outOfOrder: 1 });
  });
});

describe('checkFrontend (c: what the frontend received across resumes)', () => {
  it('drops a replay of an entry it already has (status is not part of the comparison)', () => {
    const all = seen(stored());
    const replay = all.slice(2).map((m) => ({ ...m }));
    expect(checkFrontend(truth, [...all, ...replay])).toEqual(ZERO);
  });

  it('reads entries in sequence order, not arrival order', () => {
    expect(checkFrontend(truth, seen(stored()).reverse())).toEqual(ZERO);
  });

  it('detects an agent message that never arrived on any socket', () => {
    const all = seen(stored()).filter((m) => m.text !== 'a2');
    expect(checkFrontend(truth, all)).toEqual({ ...ZERO, lost: 1 });
  });

  it('detects a message delivered under two sequence numbers (a duplicate entry)', () => {
    const all = [...seen(stored()), { sequenceId: 6, entryId: 'e6', direction: 'agent', text: 'a2' }];
    expect(checkFrontend(truth, all)).toEqual({ ...ZERO, duplicated: 1 });
  });

  it('detects a different entry under a sequenceId already seen (misnumbered)', () => {
    const all = [...seen(stored()), { sequenceId: 2, entryId: 'other', direction: 'agent', text: 'a1' }];
    expect(checkFrontend(truth, all)).toEqual({ ...ZERO, outOfOrder: 1 });
  });

  it('detects agent messages numbered against the order they were said', () => {
    const all = seen(stored()).map((m) =>
      m.text === 'a1' ? { ...m, text: 'a2' } : m.text === 'a2' ? { ...m, text: 'a1' } : m,
    );
    expect(checkFrontend(truth, all)).toEqual({ ...ZERO, outOfOrder: 1 });
  });
});

describe('addCounts and isClean', () => {
  it('adds per field, and only all zeros is clean', () => {
    const sum = addCounts({ ...ZERO, lost: 1 }, { ...ZERO, lost: 2, unexpected: 1 });
    expect(sum).toEqual({ lost: 3, duplicated: 0, outOfOrder: 0, unexpected: 1 });
    expect(isClean(sum)).toBe(false);
    expect(isClean(addCounts())).toBe(true);
  });
});
