import { describe, expect, it, vi } from 'vitest';
import { type DoorbellRequest, doorbellSchema, ringDoorbell } from '../../../src/commands/doorbell.js';
import type { SendCommand } from '../../../src/commands/types.js';
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

/** The session as a write left it: its owner, epoch, owner's connection and pending commands. */
function session(ownerId: string, ownerConn?: string, pending: string[] = []): DoorbellRequest['session'] {
  return {
    sessionId: 's',
    ownerId,
    epoch: 3,
    ...(ownerConn === undefined ? {} : { ownerConn }),
    pending: Object.fromEntries(pending.map((id) => [id, { id, type: 'start', createdAt: 1 }])),
  };
}

const SEND: SendCommand & { seq: number } = {
  id: 'c#k1',
  type: 'send',
  createdAt: 1,
  seq: 7,
  entryId: 'e1',
  text: 'hi',
  content: [],
  clientMessageId: 'k1',
  bytes: 60,
};

function deps(live: WorkerRecord[], gone: string[] = [], fail = false) {
  const posted: [string, unknown][] = [];
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const reads = { scans: 0, rows: 0 };
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
          reads.rows++;
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
  it('rings the connection the session names, with the commands, and reads nothing', async () => {
    const { deps: d, posted, reads } = deps([worker('a', 0, 'ca'), worker('b', 1, 'cb')]);
    const result = await ringDoorbell(d, {
      session: session('b', 'cb', ['start', SEND.id]),
      commands: [SEND],
    });
    expect(result).toEqual({ queued: false, workerId: 'b', sent: 'command' });
    expect(posted).toEqual([
      [
        'cb',
        {
          type: 'doorbell',
          sessionId: 's',
          reason: 'command',
          epoch: 3,
          commands: [SEND],
          pending: ['start', SEND.id],
        },
      ],
    ]);
    expect(reads).toEqual({ scans: 0, rows: 0 });
    // What the worker parses is what the Lambda sent.
    expect(doorbellSchema.parse(posted[0]?.[1])).toEqual(posted[0]?.[1]);
  });

  it("on a 410 at the named connection, finds the owner's current one in its row", async () => {
    const { deps: d, posted, reads } = deps([worker('b', 1, 'cb-new')], ['cb-old']);
    expect(await ringDoorbell(d, { session: session('b', 'cb-old'), commands: [SEND] })).toEqual({
      queued: false,
      workerId: 'b',
      sent: 'command',
    });
    expect(posted.map(([id]) => id)).toEqual(['cb-old', 'cb-new']);
    expect(reads).toEqual({ scans: 0, rows: 1 });
  });

  it('asks the least-loaded live worker to claim an unowned session or one whose owner is not live', async () => {
    const { deps: d, posted } = deps([worker('a', 0, 'ca'), worker('b', 1, 'cb')]);
    expect(await ringDoorbell(d, { session: session('none') })).toMatchObject({
      workerId: 'a',
      sent: 'claim',
    });
    expect(await ringDoorbell(d, { session: session('dead') })).toMatchObject({
      workerId: 'a',
      sent: 'claim',
    });
    expect(posted.map(([id]) => id)).toEqual(['ca', 'ca']);
  });

  it('names the connection of a start in the claim, so the claimer posts to it at once', async () => {
    const { deps: d, posted } = deps([worker('a', 0, 'ca')]);
    await ringDoorbell(d, { session: session('none', undefined, ['start']), connectionId: 'front-1' });
    expect(posted).toEqual([
      ['ca', { type: 'doorbell', sessionId: 's', reason: 'claim', connectionId: 'front-1' }],
    ]);
  });

  it('moves on after a 410: from the owner to a claimer, and from claimer to claimer', async () => {
    const { deps: d, posted } = deps(
      [worker('a', 0, 'ca'), worker('b', 1, 'cb'), worker('c', 2, 'cc')],
      ['ca', 'cb'],
    );
    expect(await ringDoorbell(d, { session: session('a', 'ca') })).toMatchObject({
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
    expect(await ringDoorbell(d, { session: session('none') })).toEqual({ queued: true });
    expect(posted).toEqual([]);
    const all410 = deps([worker('a', 0, 'ca')], ['ca']);
    expect(await ringDoorbell(all410.deps, { session: session('none') })).toEqual({ queued: true });
  });

  it('sends typing and attach to a live owner only, never as a claim', async () => {
    const { deps: d, posted } = deps([worker('a', 0, 'ca')]);
    expect(await ringDoorbell(d, { session: session('none'), reason: 'typing' })).toEqual({
      queued: false,
    });
    expect(await ringDoorbell(d, { session: session('none'), reason: 'attach', connectionId: 'f' })).toEqual({
      queued: false,
    });
    expect(posted).toEqual([]);
    expect(await ringDoorbell(d, { session: session('a', 'ca'), reason: 'typing' })).toMatchObject({
      sent: 'typing',
    });
    expect(posted).toEqual([['ca', { type: 'doorbell', sessionId: 's', reason: 'typing', epoch: 3 }]]);
  });

  it('never throws: a failure is logged and the command waits for the sweep', async () => {
    const { deps: d, logger } = deps([], [], true);
    expect(await ringDoorbell(d, { session: session('a') })).toEqual({ queued: false });
    expect(logger.warn).toHaveBeenCalledOnce();
  });
});

describe('doorbellSchema', () => {
  it('refuses a doorbell whose command is not one of the stored shapes', () => {
    const bad = {
      type: 'doorbell',
      sessionId: 's',
      reason: 'command',
      commands: [{ id: 'x', type: 'send' }],
    };
    expect(doorbellSchema.safeParse(bad).success).toBe(false);
    expect(doorbellSchema.safeParse({ type: 'doorbell', sessionId: 's', reason: 'later' }).success).toBe(
      false,
    );
  });
});
