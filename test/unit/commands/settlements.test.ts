import { describe, expect, it } from 'vitest';
import { Settlements } from '../../../src/commands/settlements.js';
import { settledName } from '../../../src/commands/types.js';

const HORIZON = 60_000;

describe('Settlements', () => {
  it('has nothing to take until a command is carried out or a name is due', () => {
    const s = new Settlements(HORIZON);
    expect(s.take(0)).toBeUndefined();
    s.found(['kOld'], 1_000);
    expect(s.take(1_000 + HORIZON)).toBeUndefined();
    expect(s.take(1_001 + HORIZON)).toEqual({ done: [], prune: ['kOld'] });
  });

  it('takes what waits once, at most `limit` at a time, in the order carried out', () => {
    const s = new Settlements(HORIZON);
    for (const id of ['a', 'b', 'c']) s.add({ id });
    expect(s.take(0, 2)).toEqual({ done: [{ id: 'a' }, { id: 'b' }], prune: [] });
    expect(s.waiting).toBe(1);
    expect(s.take(0)).toEqual({ done: [{ id: 'c' }], prune: [] });
    expect(s.waiting).toBe(0);
    expect(s.take(0)).toBeUndefined();
  });

  it('puts back what a failed write took, without repeating what waits already', () => {
    const s = new Settlements(HORIZON);
    s.add({ id: 'a', bytes: 10 });
    const taken = s.take(0);
    s.add({ id: 'b' });
    s.restore(taken);
    s.restore(undefined);
    expect(
      s
        .take(0)
        ?.done.map((d) => d.id)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it("keeps a kept name a whole horizon from its write's answer, and forgets a pruned one", () => {
    const s = new Settlements(HORIZON);
    s.add({ id: 'c#key', keep: 7 });
    s.add({ id: 'r#gone' });
    const settlement = s.take(0);
    if (settlement === undefined) throw new Error('nothing taken');
    // The write answered late: the horizon counts from its answer, not from when it was taken.
    s.written(settlement, 5_000);
    expect(s.take(5_000 + HORIZON)).toBeUndefined();
    const due = s.take(5_001 + HORIZON);
    expect(due).toEqual({ done: [], prune: [settledName('c#key')] });
    s.written(due as NonNullable<typeof due>, 5_001 + HORIZON);
    expect(s.take(10 * HORIZON)).toBeUndefined();
  });

  it('does not restart the horizon of a name found again on a later read', () => {
    const s = new Settlements(HORIZON);
    s.found(['kA'], 0);
    s.found(['kA', 'kB'], 30_000);
    expect(s.take(HORIZON + 1)).toEqual({ done: [], prune: ['kA'] });
    expect(s.take(30_000 + HORIZON + 1)).toEqual({ done: [], prune: ['kA', 'kB'] });
  });
});
