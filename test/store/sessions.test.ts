import { expect, it, vi } from 'vitest';
import { DEFAULT_CONSTRAINTS } from '../../src/domain/constraints.js';
import type { StoreError } from '../../src/store/errors.js';
import {
  AdmissionError,
  type CreateSessionInput,
  type Fence,
  NO_OWNER,
  type PendingCommand,
  SessionStore,
} from '../../src/store/sessions.js';
import { WorkerStore } from '../../src/store/workers.js';
import { codeOf, describeOnEngines, uniqueId } from './harness.js';

const STALE_AFTER_MS = 15_000;

function input(overrides: Partial<CreateSessionInput> = {}): CreateSessionInput {
  return {
    sessionId: uniqueId('s'),
    team: 'team-a',
    deploymentId: 'dep-1',
    guestToken: 'secret-guest-token',
    constraints: DEFAULT_CONSTRAINTS,
    region: 'mypurecloud.ie',
    endpoint: { wsUrl: 'wss://example.test/v1', apiUrl: 'https://api.example.test' },
    guestInfo: { firstName: 'Ada' },
    metadata: { run: 'ci-1', attempt: 2 },
    ...overrides,
  };
}

function command(id: string, createdAt: number, extra: Partial<PendingCommand> = {}): PendingCommand {
  return { id, type: 'send', createdAt, seq: 1, ...extra };
}

describeOnEngines('SessionStore', ({ store, clock }) => {
  const sessions = () => new SessionStore(store());
  const workers = () => new WorkerStore(store());

  /** A session owned by a freshly heartbeating worker: returns its fence. */
  async function owned(s: SessionStore): Promise<{ sessionId: string; fence: Fence }> {
    const { sessionId } = await s.create(input());
    const workerId = uniqueId('w');
    await workers().heartbeat({ workerId, load: 0 });
    const { epoch } = await s.claim(sessionId, workerId, { staleAfterMs: STALE_AFTER_MS });
    return { sessionId, fence: { workerId, epoch } };
  }

  it('creates a session as starting, unowned, epoch 0, and refuses a second create', async () => {
    const s = sessions();
    const created = await s.create(input());
    const read = await s.get(created.sessionId);
    expect(read).toEqual(created);
    expect(read).toMatchObject({
      status: 'starting',
      ownerId: NO_OWNER,
      epoch: 0,
      pendingRev: 0,
      contextRev: 0,
    });
    expect(read?.pendingAt).toBeUndefined();
    expect(await codeOf(s.create(input({ sessionId: created.sessionId })))).toBe('STORE_CONFLICT');
    expect(await s.get(uniqueId('missing'))).toBeUndefined();
  });

  it('never puts the guest token into an error message', async () => {
    const s = sessions();
    const created = await s.create(input());
    try {
      await s.create(input({ sessionId: created.sessionId }));
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('secret-guest-token');
    }
  });

  it('updates the status, fenced or not, and refuses once ended', async () => {
    const s = sessions();
    const { sessionId, fence } = await owned(s);
    expect((await s.updateStatus(sessionId, 'active', fence)).status).toBe('active');
    expect((await s.updateStatus(sessionId, 'readOnly')).status).toBe('readOnly');
    await s.end(sessionId, 'guest');
    expect(await codeOf(s.updateStatus(sessionId, 'active'))).toBe('STORE_CONFLICT');
    expect(await codeOf(s.updateStatus(uniqueId('missing'), 'active'))).toBe('STORE_NOT_FOUND');
  });

  it('stores the deployment constraints with a status change, in one fenced write', async () => {
    const s = sessions();
    const { sessionId, fence } = await owned(s);
    const constraints = {
      ...DEFAULT_CONSTRAINTS,
      attachments: { ...DEFAULT_CONSTRAINTS.attachments, enabled: true, fileTypes: ['image/*'] },
    };
    const updated = await s.updateStatus(sessionId, 'active', fence, { constraints });
    expect(updated.constraints).toEqual(constraints);
    expect((await s.get(sessionId))?.constraints).toEqual(constraints);
    // A stale fence changes nothing.
    const stale = { ...fence, epoch: fence.epoch - 1 };
    expect(
      await codeOf(s.updateStatus(sessionId, 'readOnly', stale, { constraints: DEFAULT_CONSTRAINTS })),
    ).toBe('STORE_FENCED');
    expect(await s.get(sessionId)).toMatchObject({ status: 'active', constraints });
  });

  it('sets and clears the context with optimistic revisions', async () => {
    const s = sessions();
    const { sessionId } = await s.create(input());
    expect(await s.setContext(sessionId, { a: '1' }, 2)).toEqual({ contextRev: 1 });
    expect(await s.setContext(sessionId, { a: '2', b: '3' }, 4, { expectedRev: 1 })).toEqual({
      contextRev: 2,
    });
    expect(await codeOf(s.setContext(sessionId, { c: '4' }, 2, { expectedRev: 1 }))).toBe('STORE_CONFLICT');
    expect(await s.get(sessionId)).toMatchObject({
      context: { a: '2', b: '3' },
      contextBytes: 4,
      contextRev: 2,
    });
    expect(await s.clearContext(sessionId, { expectedRev: 2 })).toEqual({ contextRev: 3 });
    expect(await s.get(sessionId)).toMatchObject({ context: {}, contextBytes: 0, contextRev: 3 });
    expect(await codeOf(s.setContext(uniqueId('missing'), {}, 0))).toBe('STORE_NOT_FOUND');
  });

  it('ends a session: leaves both owner indexes, sets endedAt and a TTL, and is idempotent', async () => {
    const s = sessions();
    const { sessionId, fence } = await owned(s);
    await s.addPending(sessionId, command('c1', clock.now));
    const ended = await s.end(sessionId, 'agent', fence);
    expect(ended).toMatchObject({ status: 'ended', endedAt: clock.now, endReason: 'agent' });
    expect(ended.ownerId).toBeUndefined();
    expect(ended.pendingAt).toBeUndefined();
    expect(ended.expiresAt).toBe(Math.ceil((clock.now + 30 * 24 * 3600 * 1000) / 1000));
    expect(await s.end(sessionId, 'again', fence)).toEqual(ended);
    expect((await s.listOwned(fence.workerId)).map((o) => o.sessionId)).not.toContain(sessionId);
    expect((await s.listPending(fence.workerId)).map((p) => p.sessionId)).not.toContain(sessionId);
    expect(await codeOf(s.addPending(sessionId, command('c2', clock.now)))).toBe('STORE_CONFLICT');
    expect(await codeOf(s.claim(sessionId, uniqueId('w'), { staleAfterMs: STALE_AFTER_MS }))).toBe(
      'STORE_CONFLICT',
    );
  });

  it('treats a session past its TTL as gone', async () => {
    const s = sessions();
    const { sessionId } = await s.create(input());
    await s.end(sessionId, 'guest');
    const saved = clock.now;
    clock.now += 31 * 24 * 3600 * 1000;
    try {
      expect(await s.get(sessionId)).toBeUndefined();
    } finally {
      clock.now = saved;
    }
  });

  it('adds pending commands durably, idempotently by id, and indexes the session by its owner', async () => {
    const s = sessions();
    const { sessionId, fence } = await owned(s);
    const first = await s.addPending(sessionId, command('c1', clock.now));
    expect(first).toEqual({
      added: true,
      ownerId: fence.workerId,
      epoch: fence.epoch,
      pendingRev: 1,
      pendingCount: 1,
    });
    expect(await s.addPending(sessionId, command('c1', clock.now))).toMatchObject({
      added: false,
      pendingRev: 1,
    });
    await s.addPending(sessionId, { id: 'c2', type: 'context', createdAt: clock.now + 1, flush: true });
    const read = await s.get(sessionId);
    expect(read?.pendingAt).toBe(clock.now);
    expect(Object.keys(read?.pending ?? {}).sort()).toEqual(['c1', 'c2']);
    const work = await s.listPending(fence.workerId);
    expect(work).toEqual([
      {
        sessionId,
        epoch: fence.epoch,
        pendingAt: clock.now,
        commands: [
          command('c1', clock.now),
          { id: 'c2', type: 'context', createdAt: clock.now + 1, flush: true },
        ],
      },
    ]);
  });

  it('lists all pending work of a worker with one Query, and nothing of other workers', async () => {
    const s = sessions();
    const workerId = uniqueId('w');
    await workers().heartbeat({ workerId, load: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { sessionId } = await s.create(input());
      await s.claim(sessionId, workerId, { staleAfterMs: STALE_AFTER_MS });
      if (i < 3) await s.addPending(sessionId, command(`c${i}`, clock.now + i));
      ids.push(sessionId);
    }
    const other = await owned(s);
    await s.addPending(other.sessionId, command('x', clock.now));

    const send = vi.spyOn(store().db, 'send');
    try {
      const work = await s.listPending(workerId);
      expect(send).toHaveBeenCalledTimes(1);
      expect(send.mock.calls[0]?.[0]?.constructor.name).toBe('QueryCommand');
      expect(work.map((w) => w.sessionId).sort()).toEqual(ids.slice(0, 3).sort());
    } finally {
      send.mockRestore();
    }
    expect((await s.listOwned(workerId)).map((o) => o.sessionId).sort()).toEqual([...ids].sort());
  });

  it('completes commands and leaves byOwnerPending when the map is empty', async () => {
    const s = sessions();
    const { sessionId, fence } = await owned(s);
    await s.addPending(sessionId, command('c1', clock.now));
    await s.addPending(sessionId, command('c2', clock.now));
    expect(await s.completePending(sessionId, ['c1'], fence)).toEqual({ remaining: 1 });
    expect((await s.get(sessionId))?.pendingAt).toBe(clock.now);
    expect(await s.completePending(sessionId, ['c2', 'unknown'], fence)).toEqual({ remaining: 0 });
    const read = await s.get(sessionId);
    expect(read?.pending).toEqual({});
    expect(read?.pendingAt).toBeUndefined();
    expect(await s.listPending(fence.workerId)).toEqual([]);
    // A retried completion is harmless.
    expect(await s.completePending(sessionId, ['c2'], fence)).toEqual({ remaining: 0 });
  });

  it('never loses a command added while the last one is being completed', async () => {
    const s = sessions();
    for (let round = 0; round < 10; round++) {
      const { sessionId, fence } = await owned(s);
      await s.addPending(sessionId, command('old', clock.now));
      await Promise.all([
        s.completePending(sessionId, ['old'], fence),
        s.addPending(sessionId, command('new', clock.now + 1)),
      ]);
      const read = await s.get(sessionId);
      expect(Object.keys(read?.pending ?? {})).toEqual(['new']);
      expect(read?.pendingAt).toBeDefined();
      const work = await s.listPending(fence.workerId);
      expect(work.find((w) => w.sessionId === sessionId)?.commands.map((c) => c.id)).toEqual(['new']);
    }
  });

  it('refuses a command over maxPending with STORE_QUEUE_FULL and changes nothing', async () => {
    const s = new SessionStore(store(), { maxPending: 3 });
    const { sessionId } = await s.create(input());
    for (let i = 0; i < 3; i++) await s.addPending(sessionId, command(`c${i}`, clock.now));
    const before = await s.get(sessionId);
    expect(await codeOf(s.addPending(sessionId, command('c3', clock.now)))).toBe('STORE_QUEUE_FULL');
    expect(await s.get(sessionId)).toEqual(before);
  });

  it('holds the queue bound under concurrent adds', async () => {
    const s = new SessionStore(store(), { maxPending: 5 });
    const { sessionId } = await s.create(input());
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => s.addPending(sessionId, command(`c${i}`, clock.now))),
    );
    const added = results.filter((r) => r.status === 'fulfilled' && r.value.added).length;
    expect(added).toBe(5);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as StoreError).code).toBe('STORE_QUEUE_FULL');
    }
    expect(Object.keys((await s.get(sessionId))?.pending ?? {})).toHaveLength(5);
  });

  it('admits sends up to maxAdmitting at once, even when they race, and refuses the rest', async () => {
    const s = new SessionStore(store(), { maxAdmitting: 4 });
    const { sessionId } = await s.create(input());
    const before = await s.get(sessionId);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => s.admitSend(sessionId)));
    const tickets = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(tickets).toHaveLength(4);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(r.reason).toBeInstanceOf(AdmissionError);
        expect(r.reason).toMatchObject({ code: 'STORE_QUEUE_FULL', refusal: 'admitting' });
      }
    }
    // Tickets are not part of the session record, and a released one makes room again.
    expect(await s.get(sessionId)).toEqual(before);
    await s.releaseSend(sessionId, tickets[0] as string);
    const next = await s.admitSend(sessionId);
    expect(await codeOf(s.admitSend(sessionId))).toBe('STORE_QUEUE_FULL');
    for (const ticket of [...tickets.slice(1), next]) await s.releaseSend(sessionId, ticket);
    await s.releaseSend(sessionId, next); // twice: harmless
    expect(await s.admitSend(sessionId)).toEqual(expect.any(String));
  });

  it('gives an admission back with the write that queues the command', async () => {
    const s = new SessionStore(store(), { maxAdmitting: 1 });
    const { sessionId } = await s.create(input());
    const ticket = await s.admitSend(sessionId);
    expect(await codeOf(s.admitSend(sessionId))).toBe('STORE_QUEUE_FULL');
    await s.addPending(sessionId, command('c0', clock.now), { releaseTicket: ticket });
    expect(Object.keys((await s.get(sessionId))?.pending ?? {})).toEqual(['c0']);
    await expect(s.admitSend(sessionId)).resolves.toEqual(expect.any(String));
  });

  it('forgets an admission its handler never released once it has expired', async () => {
    const s = new SessionStore(store(), { maxAdmitting: 2, admissionTtlMs: 30_000 });
    const { sessionId } = await s.create(input());
    await s.admitSend(sessionId);
    await s.admitSend(sessionId);
    expect(await codeOf(s.admitSend(sessionId))).toBe('STORE_QUEUE_FULL');
    clock.now += 30_000;
    await expect(s.admitSend(sessionId)).resolves.toEqual(expect.any(String));
    await expect(s.admitSend(sessionId)).resolves.toEqual(expect.any(String));
    expect(await codeOf(s.admitSend(sessionId))).toBe('STORE_QUEUE_FULL');
  });

  it('refuses admission on a full queue, an ended session and a missing one', async () => {
    const s = new SessionStore(store(), { maxPending: 2 });
    const { sessionId } = await s.create(input());
    for (let i = 0; i < 2; i++) await s.addPending(sessionId, command(`c${i}`, clock.now));
    await expect(s.admitSend(sessionId)).rejects.toMatchObject({ refusal: 'queue' });
    const { sessionId: ended } = await s.create(input());
    await s.end(ended, 'test');
    expect(await codeOf(s.admitSend(ended))).toBe('STORE_CONFLICT');
    expect(await codeOf(s.admitSend('no-such-session'))).toBe('STORE_NOT_FOUND');
    await s.releaseSend('no-such-session', '1:x'); // best effort, never throws
  });

  it('rejects unknown options', () => {
    expect(() => new SessionStore(store(), { maxPendin: 3 } as never)).toThrow(TypeError);
  });

  it('refuses items over 400 KB with STORE_ITEM_TOO_LARGE and writes nothing', async () => {
    const s = sessions();
    const big = 'x'.repeat(401 * 1024);
    const tooBig = input({ metadata: { blob: big } });
    expect(await codeOf(s.create(tooBig))).toBe('STORE_ITEM_TOO_LARGE');
    expect(await s.get(tooBig.sessionId)).toBeUndefined();

    const { sessionId } = await s.create(input());
    const before = await s.get(sessionId);
    expect(await codeOf(s.setContext(sessionId, { blob: big }, big.length))).toBe('STORE_ITEM_TOO_LARGE');
    expect(await codeOf(s.addPending(sessionId, command('c', clock.now, { reason: 'y'.repeat(5000) })))).toBe(
      'STORE_ITEM_TOO_LARGE',
    );
    expect(await s.get(sessionId)).toEqual(before);
  });

  it('refuses a command when the item with it would exceed 400 KB', async () => {
    const s = sessions();
    const { sessionId } = await s.create(input());
    await s.setContext(sessionId, { blob: 'z'.repeat(398 * 1024) }, 398 * 1024);
    const before = await s.get(sessionId);
    const commands = Array.from({ length: 3 }, (_, i) =>
      command(`c${i}`, clock.now, { reason: 'r'.repeat(3000) }),
    );
    let code = 'resolved';
    for (const c of commands) {
      code = await codeOf(s.addPending(sessionId, c));
      if (code !== 'resolved') break;
    }
    expect(code).toBe('STORE_ITEM_TOO_LARGE');
    const after = await s.get(sessionId);
    expect(Object.keys(after?.pending ?? {}).length).toBeLessThan(3);
    expect(after?.context).toEqual(before?.context);
  });

  it('claims an unowned session: epoch 1; claiming again returns the same epoch without a write', async () => {
    const s = sessions();
    const { sessionId } = await s.create(input());
    const workerId = uniqueId('w');
    expect(await s.claim(sessionId, workerId, { staleAfterMs: STALE_AFTER_MS })).toEqual({
      epoch: 1,
      claimed: true,
    });
    expect(await s.claim(sessionId, workerId, { staleAfterMs: STALE_AFTER_MS })).toEqual({
      epoch: 1,
      claimed: false,
    });
    expect(await s.get(sessionId)).toMatchObject({ ownerId: workerId, epoch: 1 });
    expect(await codeOf(s.claim(uniqueId('missing'), workerId, { staleAfterMs: STALE_AFTER_MS }))).toBe(
      'STORE_NOT_FOUND',
    );
  });

  it("refuses to steal a live owner's session (STORE_CLAIM_REFUSED)", async () => {
    const s = sessions();
    const { sessionId, fence } = await owned(s);
    clock.now += STALE_AFTER_MS - 1;
    expect(await codeOf(s.claim(sessionId, uniqueId('w'), { staleAfterMs: STALE_AFTER_MS }))).toBe(
      'STORE_CLAIM_REFUSED',
    );
    expect(await s.get(sessionId)).toMatchObject({ ownerId: fence.workerId, epoch: fence.epoch });
  });

  it("takes over a stale owner's session; the old fence then fails everywhere and changes nothing", async () => {
    const s = sessions();
    const { sessionId, fence: old } = await owned(s);
    await s.addPending(sessionId, command('c1', clock.now));
    clock.now += STALE_AFTER_MS + 1;
    const newOwner = uniqueId('w');
    await workers().heartbeat({ workerId: newOwner, load: 0 });
    const { epoch } = await s.claim(sessionId, newOwner, { staleAfterMs: STALE_AFTER_MS });
    expect(epoch).toBe(old.epoch + 1);
    // The pending work moved with the session: the new owner's sweep sees it, the old owner's does not.
    expect((await s.listPending(newOwner)).map((w) => w.sessionId)).toEqual([sessionId]);
    expect((await s.listPending(old.workerId)).map((w) => w.sessionId)).not.toContain(sessionId);

    const before = await s.get(sessionId);
    expect(await codeOf(s.updateStatus(sessionId, 'active', old))).toBe('STORE_FENCED');
    expect(await codeOf(s.completePending(sessionId, ['c1'], old))).toBe('STORE_FENCED');
    expect(await codeOf(s.completePending(sessionId, [], old))).toBe('STORE_FENCED');
    expect(await codeOf(s.release(sessionId, old))).toBe('STORE_FENCED');
    expect(await codeOf(s.end(sessionId, 'stale', old))).toBe('STORE_FENCED');
    expect(await s.get(sessionId)).toEqual(before);
    // Same worker, lower epoch: still fenced.
    expect(await codeOf(s.updateStatus(sessionId, 'active', { workerId: newOwner, epoch: epoch - 1 }))).toBe(
      'STORE_FENCED',
    );
    expect(await codeOf(s.release(uniqueId('missing'), old))).toBe('STORE_NOT_FOUND');
  });

  it('treats an owner without a worker row as stale', async () => {
    const s = sessions();
    const { sessionId } = await s.create(input());
    const ghost = uniqueId('w');
    await s.claim(sessionId, ghost, { staleAfterMs: STALE_AFTER_MS });
    expect(await s.claim(sessionId, uniqueId('w'), { staleAfterMs: STALE_AFTER_MS })).toMatchObject({
      epoch: 2,
    });
  });

  it('lets exactly one of 5 concurrent claimers win an orphaned session', async () => {
    const s = sessions();
    for (let round = 0; round < 5; round++) {
      const { sessionId, fence: dead } = await owned(s);
      clock.now += STALE_AFTER_MS + 1;
      const claimers = Array.from({ length: 5 }, () => uniqueId('w'));
      await Promise.all(claimers.map((workerId) => workers().heartbeat({ workerId, load: 0 })));
      const results = await Promise.allSettled(
        claimers.map((workerId) => s.claim(sessionId, workerId, { staleAfterMs: STALE_AFTER_MS })),
      );
      const winners = claimers.filter((_, i) => results[i]?.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected')
          expect(['STORE_CONFLICT', 'STORE_CLAIM_REFUSED']).toContain((r.reason as StoreError).code);
      }
      expect(await s.get(sessionId)).toMatchObject({ ownerId: winners[0], epoch: dead.epoch + 1 });
    }
  });

  it('releases a session (fenced): unowned, and the released fence is dead even after a re-claim', async () => {
    const s = sessions();
    const { sessionId, fence } = await owned(s);
    await s.release(sessionId, fence);
    expect(await s.get(sessionId)).toMatchObject({ ownerId: NO_OWNER, epoch: fence.epoch });
    expect((await s.listOwned(fence.workerId)).map((o) => o.sessionId)).not.toContain(sessionId);
    const again = await s.claim(sessionId, fence.workerId, { staleAfterMs: STALE_AFTER_MS });
    expect(again.epoch).toBe(fence.epoch + 1);
    expect(await codeOf(s.updateStatus(sessionId, 'active', fence))).toBe('STORE_FENCED');
  });

  it('lists unowned sessions with pending work under NO_OWNER', async () => {
    const s = sessions();
    const { sessionId } = await s.create(input());
    expect(await s.addPending(sessionId, command('c1', clock.now))).toMatchObject({ ownerId: NO_OWNER });
    expect((await s.listPending(NO_OWNER)).map((w) => w.sessionId)).toContain(sessionId);
  });
});
