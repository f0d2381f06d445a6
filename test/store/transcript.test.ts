/**
 * Contract tests of the transcript store, on dynalite and DynamoDB Local: gap-free ordering under
 * concurrent writers, idempotent appends without transactions (including a write whose response was
 * lost), status transitions, cursor paging and the item-size limit.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/store/errors.js';
import { MAX_ITEM_BYTES } from '../../src/store/item-size.js';
import { createStoreContext, type StoreContext } from '../../src/store/store-context.js';
import { type AppendResult, type TranscriptEntry, TranscriptStore } from '../../src/store/transcript.js';
import { describeOnEngines, uniqueId } from './harness.js';

/** The part of the SDK's middleware contract these tests use (the full types live in @smithy/types). */
type Handler = (args: { input: object }) => Promise<unknown>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;

/** A second client on the same engine, so that a test's middleware cannot touch the shared one. */
async function separateClient(shared: DynamoDBClient, middleware: Middleware): Promise<DynamoDBClient> {
  const endpoint = await shared.config.endpoint?.();
  if (!endpoint) throw new Error('the shared client has no endpoint');
  const client = new DynamoDBClient({
    endpoint: `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  // 'initialize' wraps the SDK's retries: what it throws reaches the caller as is.
  // `as never`: our narrower Middleware type is structurally what the SDK calls; its overloads cannot
  // be named without importing a transitive package.
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'testTamper' });
  return client;
}

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

/** Appends `count` entries with `writers` concurrent writers; returns the seqs each writer got. */
async function concurrentAppends(
  store: TranscriptStore,
  sessionId: string,
  writers: number,
  perWriter: number,
): Promise<number[]> {
  const seqs = await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const got: number[] = [];
      for (let i = 0; i < perWriter; i++) {
        const { entry } = await store.append(sessionId, { direction: 'agent', text: `w${w} #${i}` });
        got.push(entry.seq);
      }
      return got;
    }),
  );
  return seqs.flat();
}

describeOnEngines('TranscriptStore', ({ store: ctx, client }) => {
  const transcript = () => new TranscriptStore(ctx());

  describe('ordering', () => {
    it('numbers entries 1, 2, 3… and reads them back', async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      expect(await store.lastSeq(sessionId)).toBe(0);
      const a = await store.append(sessionId, { direction: 'guest', text: 'hello' });
      const b = await store.append(sessionId, {
        direction: 'agent',
        text: 'hi',
        sender: { nickname: 'Ann' },
        content: [{ type: 'quickReply', text: 'Yes' }],
        time: '2026-11-24T12:00:01.000Z',
      });
      const c = await store.append(sessionId, { direction: 'system', status: 'delivered' });
      expect([a.entry.seq, b.entry.seq, c.entry.seq]).toEqual([1, 2, 3]);
      expect(a).toMatchObject({ created: true, entry: { status: 'pending', content: [] } });
      expect(b.entry.status).toBe('sent');
      expect(a.entry.time).toBe('2026-11-24T12:00:00.000Z');
      expect(a.entry.storedAt).toBe(ctx().now());
      expect(await store.lastSeq(sessionId)).toBe(3);
      expect(await store.get(sessionId, 2)).toEqual(b.entry);
      expect(await store.get(sessionId, 4)).toBeUndefined();
      expect(await store.get(sessionId, 1)).not.toHaveProperty('idemKey');
    });

    it('10 concurrent writers × 100 appends give exactly 1..1000', { timeout: 180_000 }, async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      const seqs = await concurrentAppends(store, sessionId, 10, 100);
      expect(new Set(seqs).size).toBe(1000);
      const stored = await allEntries(store, sessionId);
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      expect(new Set(stored.map((e) => e.text)).size).toBe(1000);
      expect(await store.lastSeq(sessionId)).toBe(1000);
    });
  });

  describe('idempotency', () => {
    it('20 concurrent appends with one clientMessageId store one entry, among other writers', async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      const send = () =>
        store.append(sessionId, { direction: 'guest', text: 'once', clientMessageId: 'c-1' });
      const others = concurrentAppends(store, sessionId, 3, 10);
      const results: AppendResult[] = await Promise.all(Array.from({ length: 20 }, send));
      await others;
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const first = results.find((r) => r.created)?.entry;
      for (const r of results) expect(r.entry).toEqual(first);
      const stored = await allEntries(store, sessionId);
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
      expect(stored.filter((e) => e.clientMessageId === 'c-1')).toEqual([first]);
      expect(await store.findByKey(sessionId, { clientMessageId: 'c-1' })).toEqual(first);
    });

    it('a retry after a lost response (TimeoutError) returns the first entry', async () => {
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
        const payload = { direction: 'guest', text: 'are you there?', clientMessageId: 'c-timeout' } as const;
        await expectStoreError(flaky.append(sessionId, payload), 'STORE_UNAVAILABLE');
        expect(armed).toBe(false);
        const retry = await transcript().append(sessionId, payload);
        expect(retry.created).toBe(false);
        expect(retry.entry.seq).toBe(1);
        expect(await transcript().lastSeq(sessionId)).toBe(1);
        expect(await allEntries(transcript(), sessionId)).toEqual([retry.entry]);
      } finally {
        timeoutClient.destroy();
      }
    });

    it('moves the key past a seq another writer took after a crash between marker and entry', async () => {
      const sessionId = uniqueId('s');
      const crashingClient = await separateClient(client(), (next, context) => async (args) => {
        const input = args.input as { TableName?: string };
        if (context.commandName === 'PutItemCommand' && input.TableName === ctx().tables.transcript) {
          // The process dies after the marker and before the entry: the entry Put is never sent.
          throw Object.assign(new Error('connection reset'), { name: 'ECONNRESET' });
        }
        return next(args);
      });
      try {
        const payload = { direction: 'guest', text: 'after crash', clientMessageId: 'c-crash' } as const;
        const crashing = new TranscriptStore(contextOn(crashingClient, ctx()));
        await expectStoreError(crashing.append(sessionId, payload), 'STORE_UNAVAILABLE');
        // The marker points at seq 1; another writer takes it.
        const other = await transcript().append(sessionId, { direction: 'agent', text: 'meanwhile' });
        expect(other.entry.seq).toBe(1);
        expect(await transcript().findByKey(sessionId, { clientMessageId: 'c-crash' })).toBeUndefined();
        const retry = await transcript().append(sessionId, payload);
        expect(retry).toMatchObject({ created: true, entry: { seq: 2, text: 'after crash' } });
        const again = await transcript().append(sessionId, payload);
        expect(again).toEqual({ created: false, entry: retry.entry });
        expect(await transcript().findByKey(sessionId, { clientMessageId: 'c-crash' })).toEqual(retry.entry);
        expect((await allEntries(transcript(), sessionId)).map((e) => e.seq)).toEqual([1, 2]);
      } finally {
        crashingClient.destroy();
      }
    });

    it('stores a Genesys id once', async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      const message = { direction: 'agent', text: 'from Genesys', genesysId: 'g-1' } as const;
      const first = await store.append(sessionId, message);
      await store.append(sessionId, { direction: 'agent', text: 'other' });
      const second = await store.append(sessionId, message);
      expect(first.created).toBe(true);
      expect(second).toEqual({ created: false, entry: first.entry });
      expect(await store.lastSeq(sessionId)).toBe(2);
      expect(await store.findByKey(sessionId, { genesysId: 'g-1' })).toEqual(first.entry);
      expect(await store.findByKey(sessionId, { genesysId: 'g-unknown' })).toBeUndefined();
    });

    it('refuses a different payload under a used clientMessageId and changes nothing', async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      const first = await store.append(sessionId, {
        direction: 'guest',
        text: 'one',
        clientMessageId: 'c-2',
      });
      const marker = () =>
        ctx().db.send(
          new GetCommand({ TableName: ctx().tables.sessions, Key: { pk: sessionId, sk: 'key#c#c-2' } }),
        );
      const before = (await marker()).Item;
      const error = await expectStoreError(
        store.append(sessionId, { direction: 'guest', text: 'two', clientMessageId: 'c-2' }),
        'STORE_IDEMPOTENCY_MISMATCH',
      );
      expect(error.message).not.toContain('two');
      expect((await marker()).Item).toEqual(before);
      expect(await allEntries(store, sessionId)).toEqual([first.entry]);
      // The same payload with other ids and times is the same send.
      const same = await store.append(sessionId, {
        direction: 'guest',
        text: 'one',
        clientMessageId: 'c-2',
        entryId: 'another',
        time: '2030-01-01T00:00:00.000Z',
      });
      expect(same).toEqual({ created: false, entry: first.entry });
    });
  });

  describe('status', () => {
    it('follows the legal transitions and refuses the others', async () => {
      const store = transcript();
      const sessionId = uniqueId('s');
      const { entry } = await store.append(sessionId, { direction: 'guest', text: 'x' });
      const sent = await store.updateStatus(sessionId, entry.seq, { to: 'sent', genesysId: 'g-echo' });
      expect(sent).toEqual({ ...entry, status: 'sent', genesysId: 'g-echo' });
      expect(await store.findByKey(sessionId, { genesysId: 'g-echo' })).toEqual(sent);
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
      const { entry } = await store.append(sessionId, { direction: 'guest', text: 'x' });
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
      await concurrentAppends(store, sessionId, 10, total / 10);
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
        for (const clientMessageId of [undefined, 'c-big']) {
          const error = await expectStoreError(
            store.append(sessionId, {
              direction: 'guest',
              text,
              ...(clientMessageId ? { clientMessageId } : {}),
            }),
            'STORE_ITEM_TOO_LARGE',
          );
          expect(error.message).not.toContain('secret');
        }
        await expectStoreError(
          store.updateStatus(sessionId, 1, {
            to: 'failed',
            failure: { code: 'X', message: 'y'.repeat(MAX_ITEM_BYTES) },
          }),
          'STORE_ITEM_TOO_LARGE',
        );
        expect(requests).toBe(0);
        // A large entry that fits is stored.
        const fits = await store.append(sessionId, {
          direction: 'guest',
          text: 'x'.repeat(MAX_ITEM_BYTES - 500),
        });
        expect(fits.entry.seq).toBe(1);
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
