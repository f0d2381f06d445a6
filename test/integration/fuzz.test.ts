/**
 * A small run of `npm run fuzz` inside the suite: hostile frames against the local stack's public API
 * each get their documented answer (an error answer never over MAX_ERROR_ANSWER_BYTES), a flood is
 * stored or refused with rate_limited (nothing else), and the stack still holds a conversation afterwards.
 */
import { describe, expect, it } from 'vitest';
import { CASES, failed, runFuzz } from '../../bench/fuzz/run.js';

describe('fuzzing the public API (small run)', () => {
  it('answers every hostile frame as documented and keeps working', async () => {
    const report = await runFuzz({ perCase: 4, flood: 200, seed: 7 });
    for (const c of report.cases) {
      expect(c.unexpected, c.name).toEqual([]);
      expect(c.expected, c.name).toBe(4);
    }
    expect(report.cases.map((c) => c.name)).toEqual(CASES.map((c) => c.name));
    // The hostile-input review's cases are part of every run.
    expect(CASES.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'sequence id out of range',
        'control or bidi character in text',
        'spoofing file name',
        'malformed content type',
        'script-capable type by wildcard',
        'inline bytes not of their type',
        'many unknown fields',
        'long key in an error',
      ]),
    );
    // Every send is stored or refused with rate_limited: none is dropped silently, none times out
    // (admission before the append keeps the work of a burst bounded), none gets another answer.
    expect(report.flood.other).toBe(0);
    expect(report.flood.busy).toBe(0);
    expect(report.flood.accepted).toBeGreaterThan(0);
    expect(report.flood.rateLimited).toBeGreaterThan(0);
    expect(report.flood.accepted + report.flood.rateLimited).toBe(200);
    expect(report.afterwards).toBe('conversation held');
    expect(failed(report)).toBe(false);
  }, 90_000);
});
