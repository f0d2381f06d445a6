/**
 * Contract tests of the command queue and the transcript's allocator on the session item (src/commands),
 * on dynalite and DynamoDB Local: one write per guest send (admitted, numbered, stored whole), numbers
 * gap-free under any mix of Lambdas and the owner, idempotent keys, the queue's bounds, fencing, settling,
 * and readers that never see a gap wherever a writer stops (docs/store.md has the argument).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { expect, it, vi } from 'vitest';
import { CommandQueue, type NewSend } from '../../src/commands/queue.js';
import { entryOf, readTranscript, readWholeTranscript } from '../../src/commands/reader.js';
import { type NumberedCommand, type RecordCommand, settledName } from '../../src/commands/types.js';
import { DEFAULT_CONSTRAINTS } from '../../src/domain/constraints.js';
import { GetCommand, PutCommand, UpdateCommand } from '../../src/store/document.js';
import { itemSize } from '../../src/store/item-size.js';
import { type Fence, NO_OWNER, SessionStore } from '../../src/store/sessions.js';
import { fingerprintOf, TranscriptStore } from '../../src/store/transcript.js';
import { WorkerStore } from '../../src/store/workers.js';
import { codeOf, describeOnEngines, uniqueId } from './harness.js';

const STALE_AFTER_MS = 15_000;

describeOnEngines('CommandQueue', ({ store, clock }) => {
  const sessions = () => new SessionStore(store());
  const transcript = () => new TranscriptStore(store());
  const queue = (options: ConstructorParameters<typeof CommandQueue>[1] = {}) =>
    new CommandQueue(store(), options);

  async function newSession(): Promise<string> {
    const { sessionId } = await sessions().create({
      sessionId: uniqueId('s'),
      team: 'team-a',
      deploymentId: 'dep-1',
      guestToken: 'secret-guest-token',
      constraints: DEFAULT_CONSTRAINTS,
      start: true,
    });
    return sessionId;
  }

  /** A session claimed by a freshly heartbeating worker: its id and the owner's fence. */
  async function owned(): Promise<{ sessionId: string; fence: Fence }> {
    const sessionId = await newSession();
    const workerId = uniqueId('w');
    await new WorkerStore(store()).heartbeat({ workerId, load: 0 });
    const { epoch } = await sessions().claim(sessionId, workerId, { staleAfterMs: STALE_AFTER_MS });
    return { sessionId, fence: { workerId, epoch } };
  }

  function send(text: string, clientMessageId?: string): NewSend {
    const entryId = randomUUID();
    return {
      id: clientMessageId === undefined ? `s#${entryId}` : `c#${clientMessageId}`,
      entryId,
      text,
      content: [],
      ...(clientMessageId === undefined
        ? {}
        : { clientMessageId, fingerprint: fingerprintOf({ direction: 'guest', text, content: [] }) }),
    };
  }

  function record(text: string): RecordCommand {
    return {
      id: `r#${randomUUID()}`,
      type: 'record',
      createdAt: clock.now,
      entryId: randomUUID(),
      direction: 'agent',
      text,
      content: [],
      time: new Date(clock.now).toISOString(),
    };
  }

  async function session(sessionId: string) {
    const read = await sessions().get(sessionId);
    if (read === undefined) throw new Error(`no session ${sessionId}`);
    return read;
  }

  it('a guest send is one write: admitted, numbered and stored whole; the answer names its number', async () => {
    const sessionId = await newSession();
    const q = queue();
    const read = await session(sessionId);
    const spy = vi.spyOn(store().db, 'send');
    let outcome: Awaited<ReturnType<CommandQueue['submitSend']>>;
    try {
      outcome = await q.submitSend(read, send('hello', 'k-1'));
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0]?.[0]?.constructor.name).toBe('UpdateCommand');
    } finally {
      spy.mockRestore();
    }
    expect(outcome.kind).toBe('queued');
    if (outcome.kind !== 'queued') return;
    expect(outcome.command).toMatchObject({ type: 'send', seq: 1, text: 'hello', clientMessageId: 'k-1' });
    const after = await session(sessionId);
    expect(after.lastSeq).toBe(1);
    expect(after.pending['c#k-1']).toEqual(outcome.command);
    expect(after.pendingBytes).toBe(outcome.command.bytes);
    expect(outcome.session).toEqual(after);
    const second = await q.submitSend(after, send('again'));
    expect(second.kind === 'queued' && second.command.seq).toBe(2);
  });

  /** A new session whose item lacks `pendingBytes`, as items written before it existed do. */
  async function sessionWithoutPendingBytes(): Promise<string> {
    const sessionId = await newSession();
    await store().db.send(
      new UpdateCommand({
        TableName: store().tables.sessions,
        Key: { pk: sessionId, sk: 'session' },
        UpdateExpression: 'REMOVE pendingBytes',
      }),
    );
    return sessionId;
  }

  it('takes a send on an item written before pendingBytes existed (the first attempt assumes it)', async () => {
    const sessionId = await sessionWithoutPendingBytes();
    const legacy = await session(sessionId);
    const outcome = await queue().submitSend(legacy, send('hello', 'k-legacy'));
    expect(outcome.kind === 'queued' && outcome.command.seq).toBe(1);
    const after = await session(sessionId);
    expect(after.pendingBytes).toBe(outcome.kind === 'queued' ? outcome.command.bytes : -1);

    // The byte bound holds there too: refused as full, nothing written.
    const other = await sessionWithoutPendingBytes();
    const before = await session(other);
    const bounded = queue({ maxPendingBytes: 100 });
    expect(await codeOf(bounded.submitSend(before, send('z'.repeat(200))))).toBe('STORE_QUEUE_FULL');
    expect(await session(other)).toEqual(before);
  });

  it("numbers sends and the owner's records from one allocator: 1..N, no gaps, none twice", {
    timeout: 120_000,
  }, async () => {
    const { sessionId, fence } = await owned();
    const q = queue({ maxPending: 1000, maxPendingBytes: 400 * 1000 });
    const initial = await session(sessionId);
    const sends = Array.from({ length: 60 }, (_, i) => q.submitSend(initial, send(`g${i}`)));
    const records = (async () => {
      const seqs: number[] = [];
      for (let i = 0; i < 40; i++) seqs.push((await q.record(sessionId, fence, record(`a${i}`))) ?? -1);
      return seqs;
    })();
    const sent = await Promise.all(sends);
    const numbers = [...sent.map((o) => (o.kind === 'queued' ? o.command.seq : -1)), ...(await records)].sort(
      (a, b) => a - b,
    );
    expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Every number is readable at once, from the item, although nothing is in the table yet.
    const entries = await readWholeTranscript(transcript(), await session(sessionId));
    expect(entries.map((e) => e.seq)).toEqual(numbers);
  });

  it('a retried key finds the first send, pending or settled, and a different payload is a conflict', async () => {
    const { sessionId, fence } = await owned();
    const q = queue();
    const current = await session(sessionId);
    const results = await Promise.all(
      Array.from({ length: 12 }, () => q.submitSend(current, send('once', 'k-dup'))),
    );
    expect(results.filter((r) => r.kind === 'queued')).toHaveLength(1);
    expect(new Set(results.map((r) => (r.kind === 'settled' ? r.seq : r.command.seq)))).toEqual(new Set([1]));
    expect((await session(sessionId)).lastSeq).toBe(1);
    expect(await codeOf(q.submitSend(current, send('other text', 'k-dup')))).toBe(
      'STORE_IDEMPOTENCY_MISMATCH',
    );

    // Settled: the key stays on the item for the horizon, so a retry's write is still refused.
    await q.settle(sessionId, fence, { done: [{ id: 'c#k-dup', bytes: 1, keep: 1 }] });
    expect((await session(sessionId)).settled).toEqual({ [settledName('c#k-dup')]: 1 });
    const settled = await q.submitSend(await session(sessionId), send('once', 'k-dup'));
    expect(settled).toMatchObject({ kind: 'settled', seq: 1 });
    expect((await session(sessionId)).lastSeq).toBe(1);
    // Past the horizon the key goes; from then on the retry finds it by its marker (the Lambda reads it).
    await q.settle(sessionId, fence, { done: [], prune: [settledName('c#k-dup')] });
    expect((await session(sessionId)).settled).toEqual({});
  });

  it('keeps a settled key in a few bytes, whatever the length of the clientMessageId', async () => {
    const { sessionId, fence } = await owned();
    const q = queue();
    const storedSize = async () => {
      const { Item } = await store().db.send(
        new GetCommand({ TableName: store().tables.sessions, Key: { pk: sessionId, sk: 'session' } }),
      );
      return itemSize(Item ?? {});
    };
    const before = await storedSize();
    const keys = Array.from({ length: 60 }, (_, i) => `${randomUUID()}-${'x'.repeat(i)}`);
    for (const [i, key] of keys.entries()) {
      await q.settle(sessionId, fence, { done: [{ id: `c#${key}`, keep: i + 1 }] });
    }
    const after = await session(sessionId);
    expect(Object.keys(after.settled)).toHaveLength(60);
    for (const name of Object.keys(after.settled)) expect(name).toMatch(/^k[A-Za-z0-9_-]{12}$/);
    // 13 characters of name, a number and the map's bytes: a minute of keys at one send a second stays
    // under 1 KB (stored under the id with its time, the same took 3.2 KB and more with longer keys).
    expect(((await storedSize()) - before) / 60).toBeLessThan(17);
  });

  it('reads a key stored before names, under its id with its time, and prunes it by that id', async () => {
    const { sessionId, fence } = await owned();
    const q = queue();
    const unsent = await session(sessionId);
    const queued = await q.submitSend(unsent, send('once', 'k-old'));
    if (queued.kind !== 'queued') throw new Error('not queued');
    // As the code before names settled it.
    await store().db.send(
      new UpdateCommand({
        TableName: store().tables.sessions,
        Key: { pk: sessionId, sk: 'session' },
        UpdateExpression: 'REMOVE #p.#id, seqs.#id SET settled.#id = :key',
        ExpressionAttributeNames: { '#p': 'pending', '#id': 'c#k-old' },
        ExpressionAttributeValues: { ':key': { seq: queued.command.seq, at: clock.now } },
      }),
    );
    const stored = await session(sessionId);
    expect(stored.settled).toEqual({ 'c#k-old': 1 });
    expect(await q.submitSend(stored, send('once', 'k-old'))).toMatchObject({ kind: 'settled', seq: 1 });
    // A retry that read before the send was written: its write is refused by the key in the old form.
    expect(await q.submitSend(unsent, send('once', 'k-old'))).toMatchObject({ kind: 'settled', seq: 1 });
    expect((await session(sessionId)).lastSeq).toBe(1);
    await q.settle(sessionId, fence, { done: [], prune: ['c#k-old'] });
    expect((await session(sessionId)).settled).toEqual({});
  });

  it('refuses a send beyond the count or byte bound, or on an ended session, and changes nothing', async () => {
    const sessionId = await newSession();
    const q = queue({ maxPending: 4, maxPendingBytes: 2_000 });
    const results = await Promise.allSettled(
      Array.from({ length: 9 }, async () => q.submitSend(await session(sessionId), send('x'))),
    );
    // `start` is pending too: three sends fit.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'STORE_QUEUE_FULL' });
    const full = await session(sessionId);
    expect(full.lastSeq).toBe(3);

    const small = await newSession();
    const bounded = queue({ maxPendingBytes: 1_000 });
    await bounded.submitSend(await session(small), send('y'.repeat(500)));
    const before = await session(small);
    expect(await codeOf(bounded.submitSend(before, send('z'.repeat(600))))).toBe('STORE_QUEUE_FULL');
    expect(await session(small)).toEqual(before);

    await sessions().end(small, 'guest');
    expect(await codeOf(bounded.submitSend(before, send('late')))).toBe('STORE_CONFLICT');
    expect(await codeOf(bounded.submitSend({ ...before, sessionId: uniqueId('missing') }, send('?')))).toBe(
      'STORE_NOT_FOUND',
    );
  });

  it('numbers a Genesys message once: a record under an id already pending is refused, nothing written', async () => {
    const { sessionId, fence } = await owned();
    const q = queue();
    const first = record('once');
    expect(await q.record(sessionId, fence, first)).toBe(1);
    const before = await session(sessionId);
    expect(await q.record(sessionId, fence, { ...first, entryId: 'another' })).toBeUndefined();
    expect(await session(sessionId)).toEqual(before);
  });

  it('numbers a Genesys message once even after it was settled: a late retry of the numbering is refused', async () => {
    const { sessionId, fence } = await owned();
    const q = queue();
    const first = record('once');
    expect(await q.record(sessionId, fence, first)).toBe(1);
    // A drain wrote its entry and settled it before the retry of the first write landed.
    await q.settle(sessionId, fence, { done: [{ id: first.id, keep: 1 }] });
    const before = await session(sessionId);
    expect(before.pending[first.id]).toBeUndefined();
    expect(await q.record(sessionId, fence, { ...first, entryId: 'the retry' })).toBeUndefined();
    expect(await session(sessionId)).toEqual(before);
    // Past the horizon the owner prunes it, like a send's key.
    await q.settle(sessionId, fence, { done: [], prune: [settledName(first.id)] });
    expect((await session(sessionId)).settled).toEqual({});
  });

  it("fences the owner's numbering: a stale owner numbers nothing and changes nothing", async () => {
    const { sessionId, fence: old } = await owned();
    const q = queue();
    expect(await q.record(sessionId, old, record('first'))).toBe(1);
    clock.now += STALE_AFTER_MS + 1;
    const newOwner = uniqueId('w');
    await new WorkerStore(store()).heartbeat({ workerId: newOwner, load: 0 });
    const { epoch } = await sessions().claim(sessionId, newOwner, { staleAfterMs: STALE_AFTER_MS });
    const before = await session(sessionId);
    expect(await codeOf(q.record(sessionId, old, record('stale')))).toBe('STORE_FENCED');
    expect(await codeOf(q.settle(sessionId, old, { done: [{ id: 'start' }] }))).toBe('STORE_FENCED');
    expect(await session(sessionId)).toEqual(before);
    expect(await q.record(sessionId, { workerId: newOwner, epoch }, record('new owner'))).toBe(2);
  });

  it('settles what the owner carried out with the next write, and leaves the pending index when idle', async () => {
    const { sessionId, fence } = await owned();
    const q = queue();
    const queued = await q.submitSend(await session(sessionId), send('hi', 'k-s'));
    if (queued.kind !== 'queued') throw new Error('not queued');
    // The settlement of `start` and the send rides on the owner's next numbering write.
    const seq = await q.record(sessionId, fence, record('reply'), {
      done: [{ id: 'start' }, { id: 'c#k-s', bytes: queued.command.bytes, keep: queued.command.seq }],
      ownerConn: 'ctl-9',
    });
    expect(seq).toBe(2);
    const after = await session(sessionId);
    expect(Object.keys(after.pending)).toEqual([expect.stringMatching(/^r#/)]);
    expect(after).toMatchObject({
      pendingBytes: 0,
      ownerConn: 'ctl-9',
      settled: { [settledName('c#k-s')]: 1 },
    });
    // Not idle yet: a record is pending.
    expect(await q.clearIdle(sessionId, fence)).toBe(false);
    await q.settle(sessionId, fence, { done: Object.keys(after.pending).map((id) => ({ id })) });
    expect(await q.clearIdle(sessionId, fence)).toBe(true);
    expect((await session(sessionId)).pendingAt).toBeUndefined();
    expect((await q.listPending(fence.workerId)).map((w) => w.sessionId)).not.toContain(sessionId);
    // A command after that puts it back in the index.
    await q.submit(sessionId, { id: 'end', type: 'end', createdAt: clock.now });
    expect((await q.listPending(fence.workerId)).map((w) => w.sessionId)).toContain(sessionId);
  });

  it('never loses a command that comes in while the owner clears the idle session', async () => {
    for (let round = 0; round < 8; round++) {
      const { sessionId, fence } = await owned();
      const q = queue();
      await q.settle(sessionId, fence, { done: [{ id: 'start' }] });
      const [idle] = await Promise.all([
        q.clearIdle(sessionId, fence),
        q.submit(sessionId, { id: `context#${round}`, type: 'context', createdAt: clock.now }),
      ]);
      const after = await session(sessionId);
      expect(Object.keys(after.pending)).toEqual([`context#${round}`]);
      // Either the clear came first (and the command set pendingAt again) or it saw the command.
      expect(after.pendingAt).toBeDefined();
      expect(typeof idle).toBe('boolean');
    }
  });

  it("lists a worker's pending work with one Query", async () => {
    const { sessionId, fence } = await owned();
    const q = queue();
    const spy = vi.spyOn(store().db, 'send');
    try {
      const work = await q.listPending(fence.workerId);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(work).toEqual([
        { sessionId, epoch: fence.epoch, pendingAt: expect.any(Number), commandIds: ['start'] },
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it('turns a finished upload into its message in one write: one or the other, never both', async () => {
    const { sessionId, fence } = await owned();
    const q = queue();
    const upload = {
      id: 'upload#u1',
      type: 'upload',
      createdAt: clock.now,
      upload: { uploadId: 'u1', filename: 'a.png', contentType: 'image/png', size: 3 },
    } as const;
    await q.submit(sessionId, upload);
    const message = { ...send('caption', 'upload:u1'), content: [{ kind: 'attachment', id: 'att-1' }] };
    const first = await q.sendFromUpload(sessionId, fence, message, upload.id);
    expect(first).toMatchObject({ kind: 'queued', command: { seq: 1, text: 'caption' } });
    const after = await session(sessionId);
    expect(after.pending['upload#u1']).toBeUndefined();
    expect(after.pending['c#upload:u1']).toMatchObject({ type: 'send', seq: 1 });
    // Done again (a retry after a lost response): the same message, not a second one.
    expect(await q.sendFromUpload(sessionId, fence, message, upload.id)).toMatchObject({
      kind: 'pending',
      command: { seq: 1 },
    });
    expect((await session(sessionId)).lastSeq).toBe(1);
  });

  it('stores the context and its command in one write, optimistic on the revision', async () => {
    const sessionId = await newSession();
    const q = queue();
    const before = await session(sessionId);
    const { contextRev, session: after } = await q.submitContext(before, {
      attributes: { a: '1' },
      bytes: 2,
      flush: true,
    });
    expect(contextRev).toBe(1);
    expect(after).toMatchObject({ context: { a: '1' }, contextBytes: 2, contextRev: 1 });
    expect(after.pending['context#1']).toMatchObject({ type: 'context', flush: true });
    // Someone else wrote first: conflict, nothing changed.
    expect(await codeOf(q.submitContext(before, { attributes: { b: '2' }, bytes: 2 }))).toBe(
      'STORE_CONFLICT',
    );
    expect(await session(sessionId)).toEqual(after);
  });

  it('gives a session stored before the allocator a lastSeq from its transcript, once', async () => {
    const sessionId = uniqueId('legacy');
    const t = transcript();
    for (const seq of [1, 2, 3]) {
      await t.put({
        sessionId,
        seq,
        entryId: `e${seq}`,
        direction: 'agent',
        content: [],
        status: 'sent',
        time: '2026-11-01T00:00:00.000Z',
        storedAt: 1,
      });
    }
    // What an earlier version stored: no lastSeq, no maps, and a send command that names an entry.
    await store().db.send(
      new PutCommand({
        TableName: store().tables.sessions,
        Item: {
          pk: sessionId,
          sk: 'session',
          team: 'team-a',
          status: 'active',
          deploymentId: 'dep-1',
          guestToken: 't',
          constraints: DEFAULT_CONSTRAINTS,
          context: {},
          contextBytes: 0,
          contextRev: 0,
          ownerId: NO_OWNER,
          epoch: 0,
          pending: { e3: { id: 'e3', type: 'send', seq: 3, createdAt: 1 } },
          pendingRev: 1,
          pendingAt: 1,
          createdAt: 1,
          updatedAt: 1,
        },
      }),
    );
    const old = await session(sessionId);
    expect(old.lastSeq).toBeUndefined();
    expect(old.pending.e3).toMatchObject({ type: 'send', seq: 3, legacy: true, entryId: 'e3' });
    const q = queue();
    const migrated = await q.ensureAllocator(old, t);
    expect(migrated.lastSeq).toBe(3);
    expect(await q.ensureAllocator(migrated, t)).toBe(migrated);
    const next = await q.submitSend(migrated, send('after the upgrade'));
    expect(next.kind === 'queued' && next.command.seq).toBe(4);
    // A legacy send is not an unwritten entry: its entry is in the table already.
    expect((await readWholeTranscript(t, await session(sessionId))).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('readers never see a gap, wherever the Lambdas and the owner stop', { timeout: 120_000 }, async () => {
    // Steps in any order: Lambdas submit sends, the owner numbers records, writes entries (any subset,
    // any order) and settles what it wrote. After every step, a reader (item first, then the table)
    // sees 1..lastSeq exactly, each once, with the newest state of each entry.
    type Step = { kind: 'send' } | { kind: 'record' } | { kind: 'write'; pick: number } | { kind: 'settle' };
    const step = fc.oneof(
      fc.constant<Step>({ kind: 'send' }),
      fc.constant<Step>({ kind: 'record' }),
      fc.nat(50).map<Step>((pick) => ({ kind: 'write', pick })),
      fc.constant<Step>({ kind: 'settle' }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const { sessionId, fence } = await owned();
        const q = queue();
        const t = transcript();
        const written = new Set<string>();
        for (const s of steps) {
          const current = await session(sessionId);
          if (s.kind === 'send') await q.submitSend(current, send('g'));
          else if (s.kind === 'record') await q.record(sessionId, fence, record('a'));
          else if (s.kind === 'write') {
            const unwritten = Object.values(current.pending).filter(
              (c): c is NumberedCommand => (c.type === 'send' || c.type === 'record') && !written.has(c.id),
            );
            const chosen = unwritten[s.pick % Math.max(1, unwritten.length)];
            if (chosen !== undefined) {
              const entry = entryOf(sessionId, chosen);
              if (entry !== undefined) await t.put({ ...entry, status: 'sent' });
              written.add(chosen.id);
            }
          } else {
            const done = Object.keys(current.pending).filter((id) => written.has(id));
            await q.settle(sessionId, fence, { done: done.map((id) => ({ id })) });
          }
          const reader = await session(sessionId);
          const seen = await readWholeTranscript(t, reader);
          expect(seen.map((e) => e.seq)).toEqual(
            Array.from({ length: reader.lastSeq ?? 0 }, (_, i) => i + 1),
          );
        }
      }),
      { numRuns: 12, seed: 15 },
    );
  });

  it('pages merge unwritten entries in place, forward and backward, with cursors', async () => {
    const { sessionId, fence } = await owned();
    const q = queue();
    const t = transcript();
    // 1..9, where 3, 5 and 8 are still only on the item.
    for (let i = 1; i <= 9; i++) {
      const r = record(`m${i}`);
      const seq = (await q.record(sessionId, fence, r)) ?? -1;
      if (![3, 5, 8].includes(seq)) {
        const entry = entryOf(sessionId, { ...r, seq });
        if (entry !== undefined) await t.put(entry);
        await q.settle(sessionId, fence, { done: [{ id: r.id }] });
      }
    }
    const current = await session(sessionId);
    for (const direction of ['forward', 'backward'] as const) {
      const seen: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await readTranscript(t, current, { limit: 2, direction, ...(cursor ? { cursor } : {}) });
        seen.push(...page.entries.map((e) => e.seq));
        cursor = page.cursor;
      } while (cursor !== undefined);
      const all = [1, 2, 3, 4, 5, 6, 7, 8, 9];
      expect(seen).toEqual(direction === 'forward' ? all : all.reverse());
    }
    const window = await readTranscript(t, current, { after: 2, before: 6, limit: 10, direction: 'forward' });
    expect(window.entries.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(window.cursor).toBeUndefined();
  });
});
