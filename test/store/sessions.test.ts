import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect, it } from 'vitest';
import { CommandQueue } from '../../src/commands/queue.js';
import { DEFAULT_CONSTRAINTS } from '../../src/domain/constraints.js';
import type { StoreError } from '../../src/store/errors.js';
import { type CreateSessionInput, type Fence, NO_OWNER, SessionStore } from '../../src/store/sessions.js';
import { createStoreContext } from '../../src/store/store-context.js';
import { TranscriptStore } from '../../src/store/transcript.js';
import { WorkerStore } from '../../src/store/workers.js';
import { codeOf, describeOnEngines, separateClient, uniqueId } from './harness.js';

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

/**
 * A client on the same engine whose BatchGetItem requests the engine answers only after `throttled` of
 * them were answered "all keys unprocessed" here: what DynamoDB does under throttling and no local engine
 * does. Counts the requests.
 */
async function throttlingClient(
  shared: DynamoDBClient,
  throttled: number,
): Promise<{ client: DynamoDBClient; asked: () => number }> {
  let asked = 0;
  const client = await separateClient(shared, (next, context) => async (args) => {
    if (context.commandName !== 'BatchGetItemCommand' || ++asked > throttled) return next(args);
    const requestItems = args.input.RequestItems as Record<string, unknown>;
    return { output: { $metadata: {}, Responses: {}, UnprocessedKeys: requestItems }, response: {} };
  });
  return { client, asked: () => asked };
}

describeOnEngines('SessionStore', ({ store, clock, client }) => {
  const sessions = () => new SessionStore(store());
  const workers = () => new WorkerStore(store());
  const queue = () => new CommandQueue(store());

  /** A session owned by a freshly heartbeating worker: returns its fence. */
  async function owned(s: SessionStore): Promise<{ sessionId: string; fence: Fence }> {
    const { sessionId } = await s.create(input());
    const workerId = uniqueId('w');
    await workers().heartbeat({ workerId, load: 0 });
    const { epoch } = await s.claim(sessionId, workerId, { staleAfterMs: STALE_AFTER_MS });
    return { sessionId, fence: { workerId, epoch } };
  }

  it('reads the owners of many sessions at once, over 100 in several requests', async () => {
    const s = sessions();
    const mine = await owned(s);
    const ended = await owned(s);
    await s.end(ended.sessionId, 'guest', ended.fence);
    const unowned = await Promise.all(
      Array.from({ length: 101 }, async () => (await s.create(input())).sessionId),
    );
    const absent = uniqueId('s');
    const owners = await s.ownersOf([mine.sessionId, ended.sessionId, absent, ...unowned]);
    expect(owners.get(mine.sessionId)).toEqual({
      ownerId: mine.fence.workerId,
      epoch: mine.fence.epoch,
      status: 'starting',
    });
    expect(owners.get(ended.sessionId)?.status).toBe('ended');
    expect(owners.get(ended.sessionId)?.ownerId).toBeUndefined();
    expect(owners.has(absent)).toBe(false);
    for (const sessionId of unowned)
      expect(owners.get(sessionId)).toEqual({ ownerId: NO_OWNER, epoch: 0, status: 'starting' });
    expect(owners.size).toBe(2 + unowned.length);
  });

  it('creates a session as starting, unowned, epoch 0, and refuses a second create', async () => {
    const s = sessions();
    const created = await s.create(input());
    const read = await s.get(created.sessionId);
    expect(read).toEqual(created);
    expect(read).toMatchObject({
      status: 'starting',
      ownerId: NO_OWNER,
      epoch: 0,
      lastSeq: 0,
      pending: {},
      pendingBytes: 0,
      pendingRev: 0,
      settled: {},
      contextRev: 0,
    });
    expect(read?.pendingAt).toBeUndefined();
    expect(await codeOf(s.create(input({ sessionId: created.sessionId })))).toBe('STORE_CONFLICT');
    expect(await s.get(uniqueId('missing'))).toBeUndefined();
  });

  it('creates a session with its start command in the same write, in the pending index at once', async () => {
    const s = sessions();
    const workerId = uniqueId('w');
    const created = await s.create(input({ start: true }));
    expect(created.pending).toEqual({ start: { id: 'start', type: 'start', createdAt: clock.now } });
    expect(created).toMatchObject({ pendingAt: clock.now, pendingRev: 1 });
    expect(await s.get(created.sessionId)).toEqual(created);
    const unowned = await queue().listPending(NO_OWNER);
    expect(unowned.find((w) => w.sessionId === created.sessionId)?.commandIds).toEqual(['start']);
    await workers().heartbeat({ workerId, load: 0 });
    await s.claim(created.sessionId, workerId, { staleAfterMs: STALE_AFTER_MS });
    expect((await queue().listPending(workerId)).map((w) => w.sessionId)).toEqual([created.sessionId]);
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

  it('ends a session: leaves both owner indexes, sets endedAt and a TTL, and is idempotent', async () => {
    const s = sessions();
    const { sessionId, fence } = await owned(s);
    await queue().submit(sessionId, { id: 'c1', type: 'context', createdAt: clock.now });
    const ended = await s.end(sessionId, 'agent', fence);
    expect(ended).toMatchObject({ status: 'ended', endedAt: clock.now, endReason: 'agent' });
    expect(ended.ownerId).toBeUndefined();
    expect(ended.pendingAt).toBeUndefined();
    expect(ended.expiresAt).toBe(Math.ceil((clock.now + 30 * 24 * 3600 * 1000) / 1000));
    expect(await s.end(sessionId, 'again', fence)).toEqual(ended);
    expect((await s.listOwned(fence.workerId)).map((o) => o.sessionId)).not.toContain(sessionId);
    expect((await queue().listPending(fence.workerId)).map((p) => p.sessionId)).not.toContain(sessionId);
    // The commands stay on the item as a record (nobody cleared them), and no more come in.
    expect(Object.keys(ended.pending)).toEqual(['c1']);
    expect(await codeOf(queue().submit(sessionId, { id: 'c2', type: 'end', createdAt: clock.now }))).toBe(
      'STORE_CONFLICT',
    );
    expect(await codeOf(s.claim(sessionId, uniqueId('w'), { staleAfterMs: STALE_AFTER_MS }))).toBe(
      'STORE_CONFLICT',
    );
  });

  it('clears the queue when ending only if no command came in since the caller wrote them out', async () => {
    const s = sessions();
    const q = queue();
    const { sessionId, fence } = await owned(s);
    await q.submit(sessionId, { id: 'c1', type: 'context', createdAt: clock.now });
    const seen = await s.get(sessionId);
    await q.submit(sessionId, { id: 'c2', type: 'context', createdAt: clock.now });
    expect(await codeOf(s.end(sessionId, 'guest', fence, { writtenRev: seen?.pendingRev ?? -1 }))).toBe(
      'STORE_CONFLICT',
    );
    expect((await s.get(sessionId))?.status).not.toBe('ended');
    const now = await s.get(sessionId);
    const ended = await s.end(sessionId, 'guest', fence, { writtenRev: now?.pendingRev ?? -1 });
    expect(ended).toMatchObject({ status: 'ended', pending: {}, pendingBytes: 0 });
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

  it('reads the session and a send key in one request: both, either, or neither', async () => {
    const s = sessions();
    const transcript = new TranscriptStore(store());
    const created = await s.create(input());
    expect(await s.getWithSendKey(created.sessionId, 'k-1')).toEqual({ session: created, key: undefined });
    await transcript.putKey(created.sessionId, 'k-1', { seq: 4, fingerprint: 'f' });
    expect(await s.getWithSendKey(created.sessionId, 'k-1')).toEqual({
      session: created,
      key: { seq: 4, fingerprint: 'f' },
    });
    expect((await s.getWithSendKey(created.sessionId, 'k-2')).key).toBeUndefined();
    const missing = uniqueId('missing');
    await transcript.putKey(missing, 'k-1', { seq: 1, fingerprint: 'f' });
    expect(await s.getWithSendKey(missing, 'k-1')).toEqual({
      session: undefined,
      key: { seq: 1, fingerprint: 'f' },
    });
    // Past the session's TTL it is gone, as for get().
    const ended = await s.end(created.sessionId, 'guest');
    const later = new SessionStore({ ...store(), now: () => ((ended.expiresAt ?? 0) + 1) * 1000 });
    expect((await later.getWithSendKey(created.sessionId, 'k-1')).session).toBeUndefined();
  });

  it('asks again for keys left unprocessed, and says STORE_UNAVAILABLE when they stay so', async () => {
    const created = await sessions().create(input());
    await new TranscriptStore(store()).putKey(created.sessionId, 'k-1', { seq: 2, fingerprint: 'f' });
    const once = await throttlingClient(client(), 1);
    const s = new SessionStore(
      createStoreContext({ client: once.client, tables: store().tables, now: store().now }),
    );
    expect(await s.getWithSendKey(created.sessionId, 'k-1')).toEqual({
      session: created,
      key: { seq: 2, fingerprint: 'f' },
    });
    expect(once.asked()).toBe(2);
    const always = await throttlingClient(client(), Number.POSITIVE_INFINITY);
    const t = new SessionStore(
      createStoreContext({ client: always.client, tables: store().tables, now: store().now }),
    );
    expect(await codeOf(t.getWithSendKey(created.sessionId, 'k-1'))).toBe('STORE_UNAVAILABLE');
    expect(always.asked()).toBe(3);
    once.client.destroy();
    always.client.destroy();
  });

  it('rejects unknown options', () => {
    expect(() => new SessionStore(store(), { maxPending: 3 } as never)).toThrow(TypeError);
  });

  it('refuses items over 400 KB with STORE_ITEM_TOO_LARGE and writes nothing', async () => {
    const s = sessions();
    const big = 'x'.repeat(401 * 1024);
    const tooBig = input({ metadata: { blob: big } });
    expect(await codeOf(s.create(tooBig))).toBe('STORE_ITEM_TOO_LARGE');
    expect(await s.get(tooBig.sessionId)).toBeUndefined();
  });

  it("records the owner's control connection with its claim, and forgets it on release", async () => {
    const s = sessions();
    const { sessionId } = await s.create(input());
    const workerId = uniqueId('w');
    await workers().heartbeat({ workerId, load: 0, controlConnectionId: 'ctl-1' });
    const { epoch } = await s.claim(sessionId, workerId, {
      staleAfterMs: STALE_AFTER_MS,
      controlConnectionId: 'ctl-1',
    });
    expect((await s.get(sessionId))?.ownerConn).toBe('ctl-1');
    await s.release(sessionId, { workerId, epoch });
    expect((await s.get(sessionId))?.ownerConn).toBeUndefined();
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
    const q = queue();
    const { sessionId, fence: old } = await owned(s);
    await q.submit(sessionId, { id: 'c1', type: 'context', createdAt: clock.now });
    clock.now += STALE_AFTER_MS + 1;
    const newOwner = uniqueId('w');
    await workers().heartbeat({ workerId: newOwner, load: 0 });
    const { epoch } = await s.claim(sessionId, newOwner, { staleAfterMs: STALE_AFTER_MS });
    expect(epoch).toBe(old.epoch + 1);
    // The pending work moved with the session: the new owner's sweep sees it, the old owner's does not.
    expect((await q.listPending(newOwner)).map((w) => w.sessionId)).toEqual([sessionId]);
    expect((await q.listPending(old.workerId)).map((w) => w.sessionId)).not.toContain(sessionId);

    const before = await s.get(sessionId);
    expect(await codeOf(s.updateStatus(sessionId, 'active', old))).toBe('STORE_FENCED');
    expect(await codeOf(q.settle(sessionId, old, { done: [{ id: 'c1' }] }))).toBe('STORE_FENCED');
    expect(await codeOf(q.clearIdle(sessionId, old))).toBe('STORE_FENCED');
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
    const { session } = await queue().submit(sessionId, { id: 'c1', type: 'end', createdAt: clock.now });
    expect(session.ownerId).toBe(NO_OWNER);
    expect((await queue().listPending(NO_OWNER)).map((w) => w.sessionId)).toContain(sessionId);
  });
});
