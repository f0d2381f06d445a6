import { expect, it } from 'vitest';
import { StoreError } from '../../src/store/errors.js';
import { WorkerStore } from '../../src/store/workers.js';
import { describeOnEngines, uniqueId } from './harness.js';

const STALE_AFTER_MS = 15_000;

describeOnEngines('WorkerStore', ({ store, clock }) => {
  const workers = () => new WorkerStore(store());

  it('records a heartbeat and keeps startedAt across beats', async () => {
    const w = workers();
    const workerId = uniqueId('w');
    const started = clock.now;
    const first = await w.heartbeat({ workerId, load: 3, controlConnectionId: 'ctl-1' });
    expect(first).toMatchObject({
      workerId,
      load: 3,
      controlConnectionId: 'ctl-1',
      heartbeatAt: started,
      startedAt: started,
    });
    clock.now += 1000;
    const second = await w.heartbeat({ workerId, load: 4, controlConnectionId: 'ctl-2', startedAt: 1 });
    expect(second).toMatchObject({
      load: 4,
      controlConnectionId: 'ctl-2',
      heartbeatAt: clock.now,
      startedAt: started,
    });
    expect(await w.get(workerId)).toEqual(second);
    // No control connection right now: the stale one must not be rung.
    const third = await w.heartbeat({ workerId, load: 4 });
    expect(third.controlConnectionId).toBeUndefined();
    expect((await w.get(workerId))?.controlConnectionId).toBeUndefined();
  });

  it('never moves heartbeatAt back: an older beat that lands after a newer one changes nothing', async () => {
    const w = workers();
    const workerId = uniqueId('w');
    const sentFirst = clock.now;
    clock.now += 400;
    const newer = await w.heartbeat({ workerId, load: 5, controlConnectionId: 'ctl-new' });
    // The beat sent 400 ms earlier arrives now.
    const later = clock.now;
    clock.now = sentFirst;
    const older = await w.heartbeat({ workerId, load: 4, controlConnectionId: 'ctl-old' });
    clock.now = later;
    expect(older).toEqual(newer);
    expect(await w.get(workerId)).toMatchObject({
      heartbeatAt: later,
      load: 5,
      controlConnectionId: 'ctl-new',
    });
  });

  it('tells live from stale workers by heartbeat age; a missing row is not live', async () => {
    const w = workers();
    const workerId = uniqueId('w');
    await w.heartbeat({ workerId, load: 0 });
    expect(await w.isLive(workerId, STALE_AFTER_MS)).toBe(true);
    clock.now += STALE_AFTER_MS;
    expect(await w.isLive(workerId, STALE_AFTER_MS)).toBe(false);
    expect(await w.isLive(uniqueId('w'), STALE_AFTER_MS)).toBe(false);
  });

  it('lists live workers sorted by load with their control connection, skipping stale ones', async () => {
    const w = workers();
    const stale = uniqueId('w');
    await w.heartbeat({ workerId: stale, load: 0 });
    clock.now += STALE_AFTER_MS + 1;
    const busy = uniqueId('w');
    const idle = uniqueId('w');
    const mid = uniqueId('w');
    await w.heartbeat({ workerId: busy, load: 9, controlConnectionId: 'c-busy' });
    await w.heartbeat({ workerId: idle, load: 1, controlConnectionId: 'c-idle' });
    await w.heartbeat({ workerId: mid, load: 5 });
    const mine = new Set([stale, busy, idle, mid]);
    const live = (await w.listLive({ staleAfterMs: STALE_AFTER_MS })).filter((x) => mine.has(x.workerId));
    expect(live.map((x) => [x.workerId, x.load, x.controlConnectionId])).toEqual([
      [idle, 1, 'c-idle'],
      [mid, 5, undefined],
      [busy, 9, 'c-busy'],
    ]);
  });

  it('removes a worker idempotently', async () => {
    const w = workers();
    const workerId = uniqueId('w');
    await w.heartbeat({ workerId, load: 0 });
    await w.remove(workerId);
    await w.remove(workerId);
    expect(await w.get(workerId)).toBeUndefined();
    expect((await w.listLive({ staleAfterMs: STALE_AFTER_MS })).map((x) => x.workerId)).not.toContain(
      workerId,
    );
  });

  it('refuses a row over 400 KB with STORE_ITEM_TOO_LARGE and writes nothing', async () => {
    const w = workers();
    const workerId = uniqueId('w');
    await expect(
      w.heartbeat({ workerId, load: 0, controlConnectionId: 'x'.repeat(401 * 1024) }),
    ).rejects.toSatisfy((e: unknown) => e instanceof StoreError && e.code === 'STORE_ITEM_TOO_LARGE');
    expect(await w.get(workerId)).toBeUndefined();
  });

  it('lists every worker row, live or stale, and removes a stale one only if it did not beat again', async () => {
    const w = workers();
    const dead = uniqueId('w');
    const stalled = uniqueId('w');
    const live = uniqueId('w');
    const deadRow = await w.heartbeat({ workerId: dead, load: 2 });
    const stalledRow = await w.heartbeat({ workerId: stalled, load: 1 });
    clock.now += STALE_AFTER_MS + 1;
    await w.heartbeat({ workerId: live, load: 0 });
    const mine = new Set([dead, stalled, live]);
    const all = (await w.listAll()).filter((x) => mine.has(x.workerId));
    expect(all.map((x) => x.workerId)).toEqual([dead, stalled, live].sort());
    // The stalled worker beats again before the sweeper acts on what it read.
    await w.heartbeat({ workerId: stalled, load: 1 });
    expect(await w.removeIfStale(stalled, stalledRow.heartbeatAt)).toBe(false);
    expect(await w.get(stalled)).toBeDefined();
    expect(await w.removeIfStale(dead, deadRow.heartbeatAt)).toBe(true);
    expect(await w.get(dead)).toBeUndefined();
    expect(await w.removeIfStale(dead, deadRow.heartbeatAt)).toBe(false);
  });
});
