import { describe, expect, it, vi } from 'vitest';
import { ringDoorbell } from '../../../src/relay/doorbell.js';
import type { WorkerRecord } from '../../../src/store/workers.js';

function worker(workerId: string, load: number, controlConnectionId?: string): WorkerRecord {
  return {
    workerId,
    load,
    heartbeatAt: 1,
    startedAt: 1,
    expiresAt: 9e9,
    ...(controlConnectionId === undefined ? {} : { controlConnectionId }),
  };
}

function deps(live: WorkerRecord[], gone: string[] = [], fail = false) {
  const posted: [string, unknown][] = [];
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const reads = { scans: 0 };
  return {
    posted,
    logger,
    reads,
    deps: {
      workers: {
        listLive: async () => {
          if (fail) throw new Error('store down');
          reads.scans++;
          return live;
        },
        getLive: async (workerId: string) => {
          if (fail) throw new Error('store down');
          return live.find((w) => w.workerId === workerId);
        },
      },
      controlGateway: {
        post: async (id: string, data: string) => {
          posted.push([id, JSON.parse(data)]);
          return gone.includes(id) ? { gone: true as const } : { gone: false as const };
        },
      },
      workerStaleAfterMs: 15_000,
      logger,
    } as unknown as Parameters<typeof ringDoorbell>[0],
  };
}

describe('ringDoorbell', () => {
  it('rings a live owner with reason command, reading its row alone (no scan of the workers)', async () => {
    const { deps: d, posted, reads } = deps([worker('a', 0, 'ca'), worker('b', 1, 'cb')]);
    expect(await ringDoorbell(d, { sessionId: 's', ownerId: 'b' })).toEqual({
      queued: false,
      workerId: 'b',
      sent: 'command',
    });
    expect(posted).toEqual([['cb', { type: 'doorbell', sessionId: 's', reason: 'command' }]]);
    expect(reads.scans).toBe(0);
  });

  it('asks the least-loaded live worker to claim an unowned session or one whose owner is not live', async () => {
    const { deps: d, posted } = deps([worker('a', 0, 'ca'), worker('b', 1, 'cb')]);
    expect(await ringDoorbell(d, { sessionId: 's', ownerId: 'none' })).toMatchObject({
      workerId: 'a',
      sent: 'claim',
    });
    expect(await ringDoorbell(d, { sessionId: 's', ownerId: 'dead' })).toMatchObject({
      workerId: 'a',
      sent: 'claim',
    });
    expect(posted.map(([id]) => id)).toEqual(['ca', 'ca']);
  });

  it('moves on after a 410: from the owner to a claimer, and from claimer to claimer', async () => {
    const { deps: d, posted } = deps(
      [worker('a', 0, 'ca'), worker('b', 1, 'cb'), worker('c', 2, 'cc')],
      ['ca', 'cb'],
    );
    expect(await ringDoorbell(d, { sessionId: 's', ownerId: 'a' })).toMatchObject({
      workerId: 'c',
      sent: 'claim',
    });
    expect(posted.map(([id, body]) => [id, (body as { reason: string }).reason])).toEqual([
      ['ca', 'command'],
      ['cb', 'claim'],
      ['cc', 'claim'],
    ]);
  });

  it('skips workers without a control connection; none left means queued', async () => {
    const { deps: d, posted } = deps([worker('a', 0)]);
    expect(await ringDoorbell(d, { sessionId: 's', ownerId: 'none' })).toEqual({ queued: true });
    expect(posted).toEqual([]);
    const all410 = deps([worker('a', 0, 'ca')], ['ca']);
    expect(await ringDoorbell(all410.deps, { sessionId: 's', ownerId: 'none' })).toEqual({ queued: true });
  });

  it('sends typing to a live owner only, never as a claim', async () => {
    const { deps: d, posted } = deps([worker('a', 0, 'ca')]);
    expect(await ringDoorbell(d, { sessionId: 's', ownerId: 'none', reason: 'typing' })).toEqual({
      queued: false,
    });
    expect(posted).toEqual([]);
    expect(await ringDoorbell(d, { sessionId: 's', ownerId: 'a', reason: 'typing' })).toMatchObject({
      sent: 'typing',
    });
  });

  it('never throws: a failure is logged and the command waits for the sweep', async () => {
    const { deps: d, logger } = deps([], [], true);
    expect(await ringDoorbell(d, { sessionId: 's', ownerId: 'a' })).toEqual({ queued: false });
    expect(logger.warn).toHaveBeenCalledOnce();
  });
});
