/**
 * The benchmark helpers every figure goes through: quantiles (nearest rank), summaries, targets and the
 * printed table. A wrong quantile would make every p99 in docs/performance.md wrong.
 */
import { describe, expect, it } from 'vitest';
import { longestChain } from '../../../bench/relay.js';
import { type Figure, formatTable, meetsTarget } from '../../../bench/support/report.js';
import { quantile, summarise } from '../../../bench/support/stats.js';

describe('quantile and summarise', () => {
  it('take the nearest rank: the median of 1..100 is 50, the p99 is 99, the max 100', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(summarise([...values].reverse())).toEqual({ count: 100, median: 50, p99: 99, max: 100 });
  });

  it('give the only value of a one-sample run, and NaN for no samples', () => {
    expect(summarise([7])).toEqual({ count: 1, median: 7, p99: 7, max: 7 });
    const none = summarise([]);
    expect(none.count).toBe(0);
    expect(Number.isNaN(none.median)).toBe(true);
  });
});

describe('targets and the table', () => {
  const figure = (value: number, target?: Figure['target']): Figure => ({
    section: 'relay latency',
    measure: 'p99',
    value,
    unit: 'ms',
    ...(target === undefined ? {} : { target }),
  });

  it('meet a max or a min target, and miss on NaN', () => {
    expect(meetsTarget(figure(25, { max: 25 }))).toBe(true);
    expect(meetsTarget(figure(25.1, { max: 25 }))).toBe(false);
    expect(meetsTarget(figure(99, { min: 100 }))).toBe(false);
    expect(meetsTarget(figure(Number.NaN, { max: 25 }))).toBe(false);
    expect(meetsTarget(figure(3))).toBeUndefined();
  });

  it('prints one row per figure with its unit and whether its target is met', () => {
    const table = formatTable([figure(12.345, { max: 25 }), figure(40, { max: 25 })]).split('\n');
    expect(table).toHaveLength(4);
    expect(table[2]).toMatch(/relay latency\s+p99\s+12\.3 ms\s+≤ 25 ok/);
    expect(table[3]).toMatch(/40 ms\s+≤ 25 MISSED/);
  });
});

describe('longestChain (store requests in sequence)', () => {
  const r = (start: number, end: number) => ({ operation: 'GetItem', start, end });
  it('counts requests that ran one after another, not those beside them, inside the window', () => {
    // A read, two reads side by side, a write: three in sequence.
    const requests = [r(1, 2), r(3, 4), r(3, 5), r(6, 7), r(20, 21)];
    expect(longestChain(requests, 0, 10)).toBe(3);
    expect(longestChain(requests, 2.5, 10)).toBe(2);
    expect(longestChain([], 0, 10)).toBe(0);
  });
});
