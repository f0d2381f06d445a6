/**
 * The indexes' projections (src/store/tables.ts): no index holds the session's Genesys guest token, and
 * every query on an index gets every attribute it reads. The queries are the store's own (listOwned,
 * listPending, listBySession), recorded as they go to the engine: what they name in ProjectionExpression
 * and FilterExpression must be projected, and what they return must be what the item holds.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { expect, it } from 'vitest';
import { CommandQueue } from '../../src/commands/queue.js';
import { ConnectionStore } from '../../src/store/connections.js';
import { PutCommand, QueryCommand } from '../../src/store/document.js';
import { SESSION_SK, SessionStore } from '../../src/store/sessions.js';
import { createStoreContext, type StoreContext } from '../../src/store/store-context.js';
import { type IndexDefinition, TABLES, type TableKey } from '../../src/store/tables.js';
import { describeOnEngines, separateClient, uniqueId } from './harness.js';

const SECRET_TOKEN = 'guest-token-that-must-stay-on-the-item';

interface RecordedQuery {
  readonly IndexName?: string;
  readonly TableName?: string;
  readonly ProjectionExpression?: string;
  readonly FilterExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
}

const INDEXES = (Object.keys(TABLES) as TableKey[]).flatMap((table) =>
  TABLES[table].indexes.map((index) => ({ table, index })),
);

/** Attribute names an index item has: the table's keys, the index's keys, and what it includes. */
function projected(table: TableKey, index: IndexDefinition): Set<string> {
  const definition = TABLES[table];
  return new Set([
    definition.partitionKey.name,
    ...(definition.sortKey ? [definition.sortKey.name] : []),
    index.partitionKey.name,
    ...(index.sortKey ? [index.sortKey.name] : []),
    ...(index.projection.type === 'INCLUDE' ? index.projection.attributes : []),
  ]);
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'attribute_exists', 'attribute_not_exists']);

/** The top-level attributes a query's ProjectionExpression and FilterExpression name. */
function attributesRead(query: RecordedQuery): string[] {
  const names = query.ExpressionAttributeNames ?? {};
  const resolve = (token: string) => (token.startsWith('#') ? (names[token] ?? token) : token);
  const projection = (query.ProjectionExpression ?? '')
    .split(',')
    .map((path) => path.trim().split(/[.[]/)[0] ?? '')
    .filter((name) => name.length > 0);
  // Values (`:v`) are not attributes.
  const filter = ((query.FilterExpression ?? '').match(/[:#]?[A-Za-z_][A-Za-z0-9_]*/g) ?? []).filter(
    (token) => !token.startsWith(':'),
  );
  return [...new Set([...projection, ...filter].filter((t) => !KEYWORDS.has(t)).map(resolve))];
}

it('defines no index that copies everything or the guest token', () => {
  expect(INDEXES.length).toBeGreaterThan(0);
  for (const { table, index } of INDEXES) {
    expect((index.projection as { type: string }).type, index.name).not.toBe('ALL');
    expect([...projected(table, index)], index.name).not.toContain('guestToken');
  }
});

describeOnEngines('index projections', ({ store, client, clock }) => {
  /** Runs `work` while recording every Query sent on an index. */
  /**
   * The index queries `work` sends, recorded by a middleware on a client of its own (the shared client
   * caches its resolved middleware, as the store's clients do, so one added to it later is never run).
   */
  async function recording(work: (ctx: StoreContext) => Promise<void>): Promise<RecordedQuery[]> {
    const queries: RecordedQuery[] = [];
    const recorder = await separateClient(client(), (next) => async (args) => {
      const input = args.input as RecordedQuery;
      if (input.IndexName !== undefined) queries.push(input);
      return next(args);
    });
    try {
      await work(createStoreContext({ client: recorder, tables: store().tables, now: store().now }));
    } finally {
      recorder.destroy();
    }
    return queries;
  }

  /** A session item as an earlier version stored it: with the guest token, owned, with pending work. */
  async function putSession(ownerId: string): Promise<string> {
    const sessionId = uniqueId('s');
    await store().db.send(
      new PutCommand({
        TableName: store().tables.sessions,
        Item: {
          pk: sessionId,
          sk: SESSION_SK,
          team: 't',
          status: 'active',
          deploymentId: 'd',
          guestToken: SECRET_TOKEN,
          constraints: {},
          context: { page: 'checkout' },
          contextBytes: 12,
          contextRev: 1,
          ownerId,
          epoch: 3,
          lastSeq: 0,
          pending: { 'context#1': { id: 'context#1', type: 'context', createdAt: clock.now } },
          seqs: {},
          pendingBytes: 0,
          pendingAt: clock.now,
          pendingRev: 1,
          settled: {},
          createdAt: clock.now,
          updatedAt: clock.now,
        },
      }),
    );
    return sessionId;
  }

  it('creates each index with the projection of its definition', async () => {
    for (const table of Object.keys(TABLES) as TableKey[]) {
      const { Table } = await client().send(new DescribeTableCommand({ TableName: store().tables[table] }));
      for (const index of TABLES[table].indexes) {
        const live = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.name);
        expect(live?.Projection?.ProjectionType, index.name).toBe(index.projection.type);
        if (index.projection.type === 'INCLUDE') {
          expect([...(live?.Projection?.NonKeyAttributes ?? [])].sort(), index.name).toEqual(
            [...index.projection.attributes].sort(),
          );
        }
      }
    }
  });

  it('keeps the guest token out of both sessions indexes', async () => {
    const owner = uniqueId('w');
    const sessionId = await putSession(owner);
    for (const index of TABLES.sessions.indexes) {
      const { Items } = await store().db.send(
        new QueryCommand({
          TableName: store().tables.sessions,
          IndexName: index.name,
          KeyConditionExpression: 'ownerId = :o',
          ExpressionAttributeValues: { ':o': owner },
        }),
      );
      expect(
        Items?.map((item) => item.pk),
        index.name,
      ).toEqual([sessionId]);
      for (const item of Items ?? []) {
        expect(Object.keys(item), index.name).not.toContain('guestToken');
        expect(JSON.stringify(item), index.name).not.toContain(SECRET_TOKEN);
        // Nothing beyond the projection comes back: no other attribute of the item is copied.
        expect(
          Object.keys(item).every((name) => projected('sessions', index).has(name)),
          index.name,
        ).toBe(true);
      }
    }
  });

  it("gives the owner queries (listOwned, listPending) every attribute they read, with the item's values", async () => {
    const owner = uniqueId('w');
    const sessionId = await putSession(owner);
    let owned: Awaited<ReturnType<SessionStore['listOwned']>> = [];
    let pending: Awaited<ReturnType<CommandQueue['listPending']>> = [];
    const queries = await recording(async (ctx) => {
      owned = await new SessionStore(ctx).listOwned(owner);
      pending = await new CommandQueue(ctx).listPending(owner);
    });
    expect(owned).toEqual([{ sessionId, epoch: 3, status: 'active', hasPending: true }]);
    expect(pending).toEqual([{ sessionId, epoch: 3, pendingAt: clock.now, commandIds: ['context#1'] }]);
    expect(queries.map((q) => q.IndexName).sort()).toEqual(['byOwner', 'byOwnerPending']);
    for (const query of queries) {
      const index = TABLES.sessions.indexes.find((i) => i.name === query.IndexName) as IndexDefinition;
      const read = attributesRead(query);
      expect(read.length, index.name).toBeGreaterThan(0);
      for (const name of read)
        expect(projected('sessions', index).has(name), `${index.name} ${name}`).toBe(true);
    }
  });

  it('gives listBySession the whole connection row it reads, and what it filters on', async () => {
    const connections = new ConnectionStore(store());
    const sessionId = uniqueId('s');
    const connectionId = uniqueId('conn');
    // Its TTL lies beyond the real clock too: DynamoDB Local's TTL deletes by the real time.
    const connectedAt = Math.max(clock.now, Date.now()) + 24 * 60 * 60 * 1000;
    await connections.put({ connectionId, team: 't', role: 'agent-console', connectedAt, sessionId });
    let listed: Awaited<ReturnType<ConnectionStore['listBySession']>> = [];
    const queries = await recording(async (ctx) => {
      listed = await new ConnectionStore(ctx).listBySession(sessionId);
    });
    // The same record a consistent read of the table gives: nothing the code reads is missing.
    expect(listed).toEqual([await connections.get(connectionId)]);
    const index = TABLES.connections.indexes[0] as IndexDefinition;
    expect(queries.map((q) => q.IndexName)).toEqual([index.name]);
    for (const name of attributesRead(queries[0] as RecordedQuery)) {
      expect(projected('connections', index).has(name), name).toBe(true);
    }
  });
});
