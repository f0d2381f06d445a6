import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Released, ReorderWindow } from '../../../src/domain/reorder-window.js';

const ids = (released: readonly Released<unknown>[]): string[] => released.map((entry) => entry.id);

describe('ReorderWindow options', () => {
  it('holds entries for 300 ms when no window is given', () => {
    const window = new ReorderWindow<string>();
    window.push({ id: 'a', value: 'A' }, 1000);
    expect(window.release(1299)).toEqual([]);
    expect(ids(window.release(1300))).toEqual(['a']);
  });

  it('throws a TypeError naming the key when an option is unknown', () => {
    expect(() => new ReorderWindow({ windowMS: 10 } as never)).toThrow(/"windowMS"/);
    expect(() => new ReorderWindow({ windowMS: 10 } as never)).toThrow(TypeError);
  });

  it('throws a RangeError when windowMs or maxTrackedIds is out of range', () => {
    expect(() => new ReorderWindow({ windowMs: -1 })).toThrow(RangeError);
    expect(() => new ReorderWindow({ windowMs: Number.NaN })).toThrow(RangeError);
    expect(() => new ReorderWindow({ maxTrackedIds: 0 })).toThrow(RangeError);
    expect(() => new ReorderWindow({ maxTrackedIds: 1.5 })).toThrow(RangeError);
  });
});

describe('ReorderWindow.push', () => {
  it('drops a repeated id while the first entry is still held', () => {
    const window = new ReorderWindow<string>();
    expect(window.push({ id: 'a', value: 'first' }, 0)).toBe(true);
    expect(window.push({ id: 'a', value: 'second' }, 10)).toBe(false);
    expect(window.size).toBe(1);
    expect(window.flush().map((entry) => entry.value)).toEqual(['first']);
  });

  it('drops a repeated id after the first entry was released', () => {
    const window = new ReorderWindow<string>({ windowMs: 0 });
    window.push({ id: 'a', value: 'A' }, 0);
    window.release(0);
    expect(window.push({ id: 'a', value: 'A again' }, 5)).toBe(false);
    expect(window.size).toBe(0);
  });

  it('forgets the oldest ids first when more than maxTrackedIds were seen', () => {
    const window = new ReorderWindow<string>({ windowMs: 0, maxTrackedIds: 2 });
    for (const id of ['a', 'b', 'c']) window.push({ id, value: id }, 0);
    window.release(0);
    expect(window.push({ id: 'b', value: 'b' }, 1)).toBe(false);
    expect(window.push({ id: 'c', value: 'c' }, 1)).toBe(false);
    expect(window.push({ id: 'a', value: 'a' }, 1)).toBe(true);
  });

  it('still drops a duplicate of a held entry whose id the FIFO has forgotten', () => {
    const window = new ReorderWindow<string>({ maxTrackedIds: 1 });
    window.push({ id: 'a', value: 'a' }, 0);
    window.push({ id: 'b', value: 'b' }, 0);
    expect(window.push({ id: 'a', value: 'a' }, 1)).toBe(false);
  });

  it('parses ISO-8601 strings with a zone and epoch-ms numbers as times', () => {
    const window = new ReorderWindow<string>({ windowMs: 0 });
    window.push({ id: 'iso', time: '2014-04-30T21:09:51.411Z', value: '' }, 0);
    window.push({ id: 'offset', time: '2014-04-30T23:09:51.400+02:00', value: '' }, 0);
    window.push({ id: 'ms', time: 1_398_892_191_405, value: '' }, 0);
    expect(window.release(0).map((entry) => [entry.id, entry.time])).toEqual([
      ['offset', 1_398_892_191_400],
      ['ms', 1_398_892_191_405],
      ['iso', 1_398_892_191_411],
    ]);
  });

  it('treats null, undefined, non-finite and unparseable times as untimed', () => {
    const window = new ReorderWindow<string>({ windowMs: 0 });
    const times = [null, undefined, Number.NaN, 'yesterday', '1', '2014-04-30T21:09:51', '2014-13-45T99:99Z'];
    times.forEach((time, index) => {
      window.push({ id: String(index), time, value: '' }, 0);
    });
    expect(window.release(0).map((entry) => entry.time)).toEqual(times.map(() => undefined));
  });
});

describe('ReorderWindow.release', () => {
  it('returns nothing before the first entry is due', () => {
    const window = new ReorderWindow<string>({ windowMs: 100 });
    window.push({ id: 'a', time: 5, value: '' }, 0);
    expect(window.release(99)).toEqual([]);
    expect(window.size).toBe(1);
  });

  it('sorts timed entries by time and ties by arrival order', () => {
    const window = new ReorderWindow<string>({ windowMs: 100 });
    window.push({ id: 'c', time: 30, value: '' }, 0);
    window.push({ id: 'a1', time: 10, value: '' }, 1);
    window.push({ id: 'b', time: 20, value: '' }, 2);
    window.push({ id: 'a2', time: 10, value: '' }, 3);
    expect(ids(window.release(103))).toEqual(['a1', 'a2', 'b', 'c']);
  });

  it('keeps untimed entries in their arrival slots and sorts timed ones around them', () => {
    const window = new ReorderWindow<string>({ windowMs: 100 });
    window.push({ id: 't30', time: 30, value: '' }, 0);
    window.push({ id: 'session', value: '' }, 1);
    window.push({ id: 't10', time: 10, value: '' }, 2);
    window.push({ id: 't20', time: 20, value: '' }, 3);
    expect(ids(window.release(103))).toEqual(['t10', 'session', 't20', 't30']);
  });

  it('releases only the due prefix and leaves later arrivals held', () => {
    const window = new ReorderWindow<string>({ windowMs: 100 });
    window.push({ id: 'a', time: 10, value: '' }, 0);
    window.push({ id: 'b', time: 20, value: '' }, 50);
    expect(ids(window.release(100))).toEqual(['a']);
    expect(window.size).toBe(1);
    expect(ids(window.release(150))).toEqual(['b']);
  });

  it('pulls forward a held entry that is older than the batch so it cannot come out later', () => {
    const window = new ReorderWindow<string>({ windowMs: 300 });
    window.push({ id: 'new', time: 100, value: '' }, 0);
    window.push({ id: 'old', time: 50, value: '' }, 200);
    window.push({ id: 'newer', time: 150, value: '' }, 200);
    const batch = window.release(300);
    expect(ids(batch)).toEqual(['old', 'new']);
    expect(batch.every((entry) => !entry.late)).toBe(true);
    expect(ids(window.release(500))).toEqual(['newer']);
  });

  it('never pulls forward untimed entries', () => {
    const window = new ReorderWindow<string>({ windowMs: 300 });
    window.push({ id: 'a', time: 100, value: '' }, 0);
    window.push({ id: 'event', value: '' }, 200);
    expect(ids(window.release(300))).toEqual(['a']);
    expect(ids(window.release(500))).toEqual(['event']);
  });

  it('releases an entry that arrives after a later one went out, marked late', () => {
    const window = new ReorderWindow<string>({ windowMs: 300 });
    window.push({ id: 'a', time: 100, value: '' }, 0);
    window.release(300);
    window.push({ id: 'b', time: 50, value: '' }, 310);
    window.push({ id: 'c', time: 100, value: '' }, 310);
    window.push({ id: 'd', time: 80, value: '' }, 310);
    const batch = window.release(610);
    expect(batch.map((entry) => [entry.id, entry.late])).toEqual([
      ['b', true],
      ['d', true],
      ['c', false],
    ]);
  });

  it('reports arrivedAt as the now given to push', () => {
    const window = new ReorderWindow<number>({ windowMs: 10 });
    window.push({ id: 'a', time: '2024-01-01T00:00:00Z', value: 7 }, 42);
    expect(window.release(52)).toEqual([
      { id: 'a', time: Date.UTC(2024, 0, 1), value: 7, arrivedAt: 42, late: false },
    ]);
  });
});

describe('ReorderWindow.nextDueAt and flush', () => {
  it('is undefined when nothing is held and the first arrival plus the window otherwise', () => {
    const window = new ReorderWindow<string>({ windowMs: 100 });
    expect(window.nextDueAt()).toBeUndefined();
    window.push({ id: 'a', value: '' }, 10);
    window.push({ id: 'b', value: '' }, 40);
    expect(window.nextDueAt()).toBe(110);
    window.release(110);
    expect(window.nextDueAt()).toBe(140);
    window.release(140);
    expect(window.nextDueAt()).toBeUndefined();
  });

  it('flushes everything held with the same ordering rules, due or not', () => {
    const window = new ReorderWindow<string>({ windowMs: 1000 });
    window.push({ id: 'b', time: 2, value: '' }, 0);
    window.push({ id: 'event', value: '' }, 1);
    window.push({ id: 'a', time: 1, value: '' }, 2);
    expect(ids(window.flush())).toEqual(['a', 'event', 'b']);
    expect(window.size).toBe(0);
    expect(window.nextDueAt()).toBeUndefined();
  });
});

describe('ReorderWindow properties', () => {
  const windowMs = 300;

  it('releases any permutation pushed within the window in time order, without duplicates', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.array(fc.integer({ min: 0, max: windowMs - 1 }), { minLength: 50, maxLength: 50 }),
        (times, duplicatePicks, arrivals) => {
          const pushes = times.map((time, index) => ({ id: `m${index}`, time, value: 'original' }));
          for (const pick of duplicatePicks) {
            const original = pushes[pick % times.length];
            if (original) pushes.splice(pick % (pushes.length + 1), 0, { ...original, value: 'duplicate' });
          }
          const sortedArrivals = arrivals.slice(0, pushes.length).sort((a, b) => a - b);
          const window = new ReorderWindow<string>({ windowMs });
          // A duplicate may be spliced in before its original; whichever arrives first wins.
          const firstSeen = new Set<string>();
          pushes.forEach((entry, index) => {
            const accepted = window.push(entry, sortedArrivals[index] ?? 0);
            expect(accepted).toBe(!firstSeen.has(entry.id));
            firstSeen.add(entry.id);
          });
          const released = window.release(windowMs + Math.max(...sortedArrivals));
          const expected = times
            .map((time, index) => ({ time, id: `m${index}` }))
            .sort((a, b) => a.time - b.time)
            .map((entry) => entry.id);
          expect(ids(released)).toEqual(expected);
          expect(released.some((entry) => entry.late)).toBe(false);
          expect(window.size).toBe(0);
        },
      ),
    );
  });

  it('keeps untimed entries at their arrival positions within a batch', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 50 })), { minLength: 1, maxLength: 30 }),
        (times) => {
          const window = new ReorderWindow<number | null>({ windowMs });
          times.forEach((time, index) => {
            window.push({ id: String(index), time, value: time }, index);
          });
          const released = window.release(windowMs + times.length);
          released.forEach((entry, position) => {
            if (times[position] === null) expect(entry.id).toBe(String(position));
            else expect(entry.time).not.toBeUndefined();
          });
          const timed = released.flatMap((entry) => (entry.time === undefined ? [] : [entry.time]));
          expect(timed).toEqual([...timed].sort((a, b) => a - b));
        },
      ),
    );
  });

  type Op = { kind: 'push'; gap: number; time: number | null; id: number } | { kind: 'release'; gap: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('push' as const),
      gap: fc.integer({ min: 0, max: 200 }),
      time: fc.option(fc.integer({ min: 0, max: 100 }), { freq: 5 }),
      id: fc.integer({ min: 0, max: 40 }),
    }),
    fc.record({ kind: fc.constant('release' as const), gap: fc.integer({ min: 0, max: 600 }) }),
  );

  it('never lets a non-late entry out of order across batches and flags exactly the late arrivals', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const window = new ReorderWindow<null>({ windowMs });
        let now = 0;
        let maxReleased = Number.NEGATIVE_INFINITY;
        let lastNonLate = Number.NEGATIVE_INFINITY;
        const accepted = new Set<string>();
        const expectLate = new Map<string, boolean>();
        const out: Released<null>[] = [];
        const take = (batch: Released<null>[]): void => {
          for (const entry of batch) {
            expect(entry.late).toBe(expectLate.get(entry.id));
            if (entry.time !== undefined && !entry.late) {
              expect(entry.time).toBeGreaterThanOrEqual(lastNonLate);
              lastNonLate = entry.time;
            }
            if (entry.time !== undefined) maxReleased = Math.max(maxReleased, entry.time);
            out.push(entry);
          }
        };
        for (const step of ops) {
          now += step.gap;
          if (step.kind === 'push') {
            const id = String(step.id);
            if (window.push({ id, time: step.time, value: null }, now)) {
              accepted.add(id);
              // The oracle: late exactly when a later time had already gone out when it arrived.
              expectLate.set(id, step.time !== null && step.time < maxReleased);
            }
          } else {
            take(window.release(now));
          }
        }
        take(window.flush());
        expect(ids(out).sort()).toEqual([...accepted].sort());
      }),
    );
  });

  it('reports in nextDueAt the first moment release returns something', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const window = new ReorderWindow<null>({ windowMs });
        let now = 0;
        for (const step of ops) {
          now += step.gap;
          if (step.kind === 'push') {
            window.push({ id: String(step.id), time: step.time, value: null }, now);
            continue;
          }
          const due = window.nextDueAt();
          if (due === undefined) {
            expect(window.size).toBe(0);
            continue;
          }
          expect(window.release(due - 1)).toEqual([]);
          now = Math.max(due, now);
          expect(window.release(now).length).toBeGreaterThan(0);
        }
      }),
    );
  });
});
