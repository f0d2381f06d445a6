/**
 * A small run of `npm run chaos` inside the suite (bench/chaos/run.ts): eight sessions talking both ways
 * through the whole local system while upstream sockets drop, 429s are forced, pushes are reordered and
 * duplicated, frontend connections are cut (also right after a send) and one of two workers is SIGKILLed.
 * Every count of lost, duplicated and out-of-order messages must be 0, and every kind of fault must
 * really have fired, so that the run cannot pass by doing nothing. Nothing here is timed.
 */
import { describe, expect, it } from 'vitest';
import { ZERO } from '../../bench/chaos/compare.js';
import { FAULT_KINDS } from '../../bench/chaos/faults.js';
import { runChaos } from '../../bench/chaos/run.js';

describe('chaos (small run)', () => {
  it('loses, duplicates and reorders nothing while every kind of fault fires', async () => {
    const result = await runChaos({
      sessions: 8,
      rounds: 6,
      workers: 2,
      seed: 3,
      faults: 8,
      settleTimeoutMs: 30_000,
      deadlineMs: 75_000,
    });
    expect(result.problems).toEqual([]);
    expect(result.settled).toBe(true);
    expect(result.checks).toEqual({ stored: ZERO, upstream: ZERO, frontend: ZERO });
    expect(result.total).toEqual(ZERO);
    expect(result.failedSends).toBe(0);
    expect(result.messages).toEqual({ guestToAgent: 48, agentToGuest: 48 });
    for (const kind of FAULT_KINDS) expect(result.faults[kind].fired, kind).toBeGreaterThan(0);
    // Frontends came back after their drops, and sends cut off before their answer went again.
    expect(result.frontends.resumes).toBeGreaterThanOrEqual(result.faults.frontendDrop.fired);
    expect(result.frontends.resentSends).toBeGreaterThan(0);
    expect(result.killedWorker?.sessions).toBeGreaterThan(0);
    expect(result.killedWorker?.takeoverMs).toBeDefined();
  }, 90_000);
});
