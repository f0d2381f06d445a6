/**
 * Contract tests of the transcript store, on dynalite and DynamoDB Local: entries written at the number
 * the allocator gave them, idempotently (including a write whose response was lost), the markers of keyed
 * sends, status transitions, cursor paging and the item-size limit. Numbering itself, and readers that
 * never see a gap, are in commands.test.ts.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand } from '../../src/store/document.js';
import { StoreError } from '../../src/store/errors.js';
import { MAX_ITEM_BYTES } from '../../src/store/item-size.js';
import { createStoreContext, type StoreContext } from '../../src/store/store-context.js';
import { type TranscriptEntry, TranscriptStore } from '../../src/store/transcript.js';
import { describeOnEngines, separateClient, uniqueId } from './harness.js';

function contextOn(client: DynamoDBClient, base: StoreContext): StoreContext {
  return createStoreContext({ client, tables: base.tables, now: base.now });
}

async function allEntries(store: TranscriptStore, sessionId: string): Promise<TranscriptEntry[]> {
  const entries: TranscriptEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.page(sessionId, {
      limit: 100,
      direction: 'forward',
      ...(cursor === undefined ? {} : { cursor }),
    });
    entries.push(...page.entries);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return entries;
}

async function expectStoreError(promise: Promise<unknown>, code: StoreError['code']): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}

/** An entry at `seq` (a guest message, sent, unless `extra` says otherwise), written; returns it. */
async function put(
  store: TranscriptStore,
  sessionId: string,
  seq: number,
  extra: Partial<TranscriptEntry> = {},
): Promise<TranscriptEntry> {
  const entry: TranscriptEntry = {
    sessionId,
    seq,
    entryId: `e-${seq}`,
    direction: 'guest',
    text: `message ${seq}`,
    content: [],
    status: 'sent',
    time: '2026-11-24T12:00:00.000Z',
    storedAt: 1,
    ...extra,
  };
  await store.put(entry);
  return entry;
}

/** Entries 1..count, written by ten writers at once. */
async function putMany(store: TranscriptStore, sessionId: string, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: 10 }, async (_, w) => {
      for (let seq = w + 1; seq <= count; seq += 10) await put(store, sessionId, seq);
    }),
  );
}

describeOnEngines('TranscriptStore', ({ store: ctx, client }) => {
  const transcript = () => new TranscriptStore(ctx());

  describe('writing entries at their numbers', () => {
    it('writes an entry at its number and reads it back; the tail query finds the newest', async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      expect(await store.lastSeq(sessionId)).toBe(0);
      const a = await put(store, sessionId, 1);
      const b = await put(store, sessionId, 2, {
        direction: 'agent',
        sender: { nickname: 'Ann' },
        content: [{ type: 'quickReply', text: 'Yes' }],
      });
      expect(await store.get(sessionId, 1)).toEqual(a);
      expect(await store.get(sessionId, 2)).toEqual(b);
      expect(await store.get(sessionId, 3)).toBeUndefined();
      expect(await store.lastSeq(sessionId)).toBe(2);
    });

    it('the same entry again changes nothing; another entry at a taken number is a conflict', async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      const first = await put(store, sessionId, 1, { status: 'failed' });
      // A new owner finishing an old owner's work writes what it has: the first write stands.
      expect(await store.put({ ...first, status: 'sent' })).toEqual({ written: false });
      await expectStoreError(store.put({ ...first, entryId: 'someone-else' }), 'STORE_CONFLICT');
      expect(await allEntries(store, sessionId)).toEqual([first]);
    });

    it('a write whose response was lost (TimeoutError) is found written when it is tried again', async () => {
      const sessionId = uniqueId('s');
      let armed = true;
      const timeoutClient = await separateClient(client(), (next, context) => async (args) => {
        const out = await next(args);
        if (armed && context.commandName === 'PutItemCommand') {
          const input = args.input as { TableName?: string };
          if (input.TableName === ctx().tables.transcript) {
            armed = false;
            // The Put was applied; only its response is lost, as a real network timeout can do.
            throw Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
          }
        }
        return out;
      });
      try {
        const flaky = new TranscriptStore(contextOn(timeoutClient, ctx()));
        const entry = {
          sessionId,
          seq: 1,
          entryId: 'e-lost',
          direction: 'guest',
          text: 'are you there?',
          content: [],
          status: 'sent',
          time: '2026-11-24T12:00:00.000Z',
          storedAt: 1,
        } as const;
        await expectStoreError(flaky.put(entry), 'STORE_UNAVAILABLE');
        expect(armed).toBe(false);
        expect(await transcript().put(entry)).toEqual({ written: false });
        expect(await allEntries(transcript(), sessionId)).toEqual([entry]);
      } finally {
        timeoutClient.destroy();
      }
    });
  });

  describe('the markers of keyed sends', () => {
    it('records which entry a key became, keeps the first marker, and reads nothing once expired', async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      expect(await store.getKey(sessionId, 'k-1')).toBeUndefined();
      await store.putKey(sessionId, 'k-1', { seq: 3, fingerprint: 'f1' });
      await store.putKey(sessionId, 'k-1', { seq: 9, fingerprint: 'f2' });
      expect(await store.getKey(sessionId, 'k-1')).toEqual({ seq: 3, fingerprint: 'f1' });
      const later = new TranscriptStore({ ...ctx(), now: () => ctx().now() + 31 * 24 * 3600 * 1000 });
      expect(await later.getKey(sessionId, 'k-1')).toBeUndefined();
      // The marker lives beside the session item, never on it, and not in the owner indexes.
      const raw = await ctx().db.send(
        new GetCommand({ TableName: ctx().tables.sessions, Key: { pk: sessionId, sk: 'key#c#k-1' } }),
      );
      expect(raw.Item).toMatchObject({ seq: 3, fingerprint: 'f1' });
      expect(raw.Item).not.toHaveProperty('ownerId');
    });
  });

  describe('status', () => {
    it('follows the legal transitions and refuses the others', async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      const entry = await put(store, sessionId, 1, { status: 'pending' });
      const sent = await store.updateStatus(sessionId, entry.seq, { to: 'sent', genesysId: 'g-echo' });
      expect(sent).toEqual({ ...entry, status: 'sent', genesysId: 'g-echo' });
      await expectStoreError(store.updateStatus(sessionId, entry.seq, { to: 'failed' }), 'STORE_CONFLICT');
      await expectStoreError(
        store.updateStatus(sessionId, entry.seq, { to: 'pending' }),
        'STORE_INVALID_REQUEST',
      );
      expect((await store.updateStatus(sessionId, entry.seq, { to: 'delivered' })).status).toBe('delivered');
      expect((await store.updateStatus(sessionId, entry.seq, { to: 'read' })).status).toBe('read');
      await expectStoreError(store.updateStatus(sessionId, entry.seq, { to: 'delivered' }), 'STORE_CONFLICT');
      await expectStoreError(store.updateStatus(sessionId, 99, { to: 'sent' }), 'STORE_NOT_FOUND');
      // A Genesys id is never replaced by another.
      await expectStoreError(
        store.updateStatus(sessionId, entry.seq, { to: 'read', from: ['read'], genesysId: 'g-other' }),
        'STORE_CONFLICT',
      );
      expect((await store.get(sessionId, entry.seq))?.status).toBe('read');
    });

    it('records a failure, and clears it when the entry is resent', async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      const entry = await put(store, sessionId, 1, { status: 'pending' });
      const failure = { code: 'GENESYS_REJECTED', message: 'Message too long' };
      const failed = await store.updateStatus(sessionId, entry.seq, { to: 'failed', failure });
      expect(failed).toMatchObject({ status: 'failed', failure });
      const resent = await store.updateStatus(sessionId, entry.seq, { to: 'pending', from: ['failed'] });
      expect(resent.status).toBe('pending');
      expect(resent).not.toHaveProperty('failure');
    });
  });

  describe('paging', () => {
    const sessionId = uniqueId('paged');
    const total = 1000;
    const seqs = (entries: readonly TranscriptEntry[]) => entries.map((e) => e.seq);
    const ascending = Array.from({ length: total }, (_, i) => i + 1);

    it('pages forward and backward over 1,000 entries', { timeout: 180_000 }, async () => {
      const store = transcript();
      await putMany(store, sessionId, total);
      for (const direction of ['forward', 'backward'] as const) {
        for (const limit of [7, 50, 100]) {
          const seen: number[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.page(sessionId, { limit, direction, ...(cursor ? { cursor } : {}) });
            pages++;
            expect(page.entries.length).toBe(Math.min(limit, total - seen.length));
            seen.push(...seqs(page.entries));
            cursor = page.cursor;
          } while (cursor !== undefined);
          // Exact: no cursor on the last page, and the last page is never empty.
          expect(pages).toBe(Math.ceil(total / limit));
          expect(seen).toEqual(direction === 'forward' ? ascending : [...ascending].reverse());
        }
      }
    });

    it('honours after and before, with and without a cursor', async () => {
      const store = transcript();
      const fwd = await store.page(sessionId, { after: 990, limit: 5, direction: 'forward' });
      expect(seqs(fwd.entries)).toEqual([991, 992, 993, 994, 995]);
      const fwd2 = await store.page(sessionId, {
        after: 990,
        limit: 5,
        direction: 'forward',
        ...(fwd.cursor ? { cursor: fwd.cursor } : {}),
      });
      expect(seqs(fwd2.entries)).toEqual([996, 997, 998, 999, 1000]);
      expect(fwd2.cursor).toBeUndefined();
      const back = await store.page(sessionId, { before: 4, limit: 2, direction: 'backward' });
      expect(seqs(back.entries)).toEqual([3, 2]);
      const back2 = await store.page(sessionId, {
        before: 4,
        limit: 2,
        direction: 'backward',
        ...(back.cursor ? { cursor: back.cursor } : {}),
      });
      expect(seqs(back2.entries)).toEqual([1]);
      expect(back2.cursor).toBeUndefined();
      const window = await store.page(sessionId, {
        after: 10,
        before: 14,
        limit: 100,
        direction: 'backward',
      });
      expect(seqs(window.entries)).toEqual([13, 12, 11]);
      expect(window.cursor).toBeUndefined();
      expect(await store.page(sessionId, { after: 10, before: 11, limit: 5, direction: 'forward' })).toEqual({
        entries: [],
      });
      expect(await store.page(sessionId, { after: 1000, limit: 5, direction: 'forward' })).toEqual({
        entries: [],
      });
      expect(await store.page(uniqueId('empty'), { limit: 5, direction: 'backward' })).toEqual({
        entries: [],
      });
    });

    it('refuses cursors of another session or direction, tampered ones and bad limits', async () => {
      const store = transcript();
      const { cursor } = await store.page(sessionId, { limit: 3, direction: 'forward' });
      if (cursor === undefined) throw new Error('expected a cursor');
      const other = uniqueId('other');
      await expectStoreError(
        store.page(other, { limit: 3, direction: 'forward', cursor }),
        'STORE_INVALID_CURSOR',
      );
      await expectStoreError(
        store.page(sessionId, { limit: 3, direction: 'backward', cursor }),
        'STORE_INVALID_CURSOR',
      );
      const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p: { seq: number } };
      const tampered = Buffer.from(JSON.stringify({ ...decoded, p: { seq: 500 } })).toString('base64url');
      for (const bad of [tampered, `${cursor}x`, 'not a cursor', '', 'e30', 'x'.repeat(5000)]) {
        const error = await expectStoreError(
          store.page(sessionId, { limit: 3, direction: 'forward', cursor: bad }),
          'STORE_INVALID_CURSOR',
        );
        expect(error.message).not.toContain(bad || '\u0000');
      }
      for (const limit of [0, 101, 1.5]) {
        await expectStoreError(
          store.page(sessionId, { limit, direction: 'forward' }),
          'STORE_INVALID_REQUEST',
        );
      }
    });
  });

  describe('item size', () => {
    it('refuses an entry over 400 KB before any request reaches the engine', async () => {
      let requests = 0;
      const counting = await separateClient(client(), (next) => async (args) => {
        requests++;
        return next(args);
      });
      try {
        const store = new TranscriptStore(contextOn(counting, ctx()));
        const sessionId = uniqueId('s');
        const text = `secret-${'x'.repeat(MAX_ITEM_BYTES)}`;
        const error = await expectStoreError(put(store, sessionId, 1, { text }), 'STORE_ITEM_TOO_LARGE');
        expect(error.message).not.toContain('secret');
        await expectStoreError(
          store.updateStatus(sessionId, 1, {
            to: 'failed',
            failure: { code: 'X', message: 'y'.repeat(MAX_ITEM_BYTES) },
          }),
          'STORE_ITEM_TOO_LARGE',
        );
        expect(requests).toBe(0);
        // A large entry that fits is stored.
        await put(store, sessionId, 1, { text: 'x'.repeat(MAX_ITEM_BYTES - 500) });
        expect(requests).toBeGreaterThan(0);
        const raw = await ctx().db.send(
          new QueryCommand({
            TableName: ctx().tables.sessions,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': sessionId },
          }),
        );
        expect(raw.Items ?? []).toEqual([]);
      } finally {
        counting.destroy();
      }
    });
  });
});
