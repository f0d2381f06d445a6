/**
 * The DynamoDB tables, defined once. `infra/` builds the cloud tables from these definitions and the
 * local engines create theirs from them too, so names, keys, indexes and the TTL attribute cannot drift.
 * Plain data only: no SDK import here, so infra can depend on it without runtime code.
 */

export type KeyType = 'S' | 'N';

export interface KeyDefinition {
  readonly name: string;
  readonly type: KeyType;
}

/**
 * What an index copies from each item besides the keys (the table's and its own). Never ALL: an index
 * holds only what its queries read, so an attribute added to an item later (a credential, say) is not
 * copied into every index by default. `INCLUDE` names the non-key attributes the queries read.
 */
export type IndexProjection =
  | { readonly type: 'KEYS_ONLY' }
  | { readonly type: 'INCLUDE'; readonly attributes: readonly string[] };

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
  readonly projection: IndexProjection;
}

export interface TableDefinition {
  /** The logical name; the physical name is `${prefix}${logicalName}` (see tableNames). */
  readonly logicalName: TableKey;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
  readonly indexes: readonly IndexDefinition[];
  /** Epoch-seconds attribute DynamoDB's TTL deletes by (best effort: readers still filter on it). */
  readonly ttlAttribute?: string;
}

export type TableKey = 'sessions' | 'transcript' | 'connections' | 'workers';

/** The TTL attribute, the same name on every table that has one. */
export const TTL_ATTRIBUTE = 'expiresAt';

/**
 * Whether an item read is past its TTL at `now` (epoch ms). TTL deletion lags by up to days: an item
 * past its TTL is gone as far as readers are concerned.
 */
export function isPastTtl(item: Record<string, unknown>, now: number): boolean {
  const expiresAt = item[TTL_ATTRIBUTE];
  return typeof expiresAt === 'number' && expiresAt * 1000 <= now;
}

/**
 * - sessions: one item per session (`sk = "session"`) holding its state, owner, epoch and pending work;
 *   beside it, idempotency keys (`sk = "key#…"`). Only live session items carry `ownerId` ("none" when
 *   unowned), so the sparse index `byOwner` lists a worker's sessions and `byOwnerPending` (items that
 *   also carry `pendingAt`) the ones with pending work: one query per worker finds all of it.
 * - transcript: the ordered entries of each session, `seq` = the public sequenceId.
 * - connections: one item per frontend connection; `bySession` lists a session's connections.
 * - workers: one heartbeat item per worker: O(workers) writes, never O(sessions).
 *
 * Each index projects what its one query reads (test/store/projections.test.ts checks both engines):
 * - `byOwner` ← SessionStore.listOwned reads `pk, sk, epoch, status, pendingAt`;
 * - `byOwnerPending` ← CommandQueue.listPending reads `pk, sk, epoch, pending, pendingAt` (only the
 *   command ids of `pending`, but a projection cannot name a map's keys);
 * - `bySession` ← ConnectionStore.listBySession reads the whole connection row (toConnection) and
 *   filters on `expiresAt`: its attributes are named rather than ALL, so nothing added later is copied.
 * None of them projects the session's `guestToken` (a Genesys credential) or its message content
 * beyond the pending commands.
 */
export const TABLES: Readonly<Record<TableKey, TableDefinition>> = Object.freeze({
  sessions: {
    logicalName: 'sessions',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    indexes: [
      {
        name: 'byOwner',
        partitionKey: { name: 'ownerId', type: 'S' },
        sortKey: { name: 'pk', type: 'S' },
        projection: { type: 'INCLUDE', attributes: ['epoch', 'status', 'pendingAt'] },
      },
      {
        name: 'byOwnerPending',
        partitionKey: { name: 'ownerId', type: 'S' },
        sortKey: { name: 'pendingAt', type: 'N' },
        projection: { type: 'INCLUDE', attributes: ['epoch', 'pending'] },
      },
    ],
    ttlAttribute: TTL_ATTRIBUTE,
  },
  transcript: {
    logicalName: 'transcript',
    partitionKey: { name: 'sessionId', type: 'S' },
    sortKey: { name: 'seq', type: 'N' },
    indexes: [],
    ttlAttribute: TTL_ATTRIBUTE,
  },
  connections: {
    logicalName: 'connections',
    partitionKey: { name: 'connectionId', type: 'S' },
    indexes: [
      {
        name: 'bySession',
        partitionKey: { name: 'sessionId', type: 'S' },
        sortKey: { name: 'connectionId', type: 'S' },
        projection: { type: 'INCLUDE', attributes: ['team', 'role', 'connectedAt', TTL_ATTRIBUTE] },
      },
    ],
    ttlAttribute: TTL_ATTRIBUTE,
  },
  workers: {
    logicalName: 'workers',
    partitionKey: { name: 'workerId', type: 'S' },
    indexes: [],
    ttlAttribute: TTL_ATTRIBUTE,
  },
});

export type TableNames = Readonly<Record<TableKey, string>>;

/** Physical table names: `guest-relay-sessions` etc., or with another prefix (one per stage or test). */
export function tableNames(prefix = 'guest-relay-'): TableNames {
  return Object.freeze({
    sessions: `${prefix}sessions`,
    transcript: `${prefix}transcript`,
    connections: `${prefix}connections`,
    workers: `${prefix}workers`,
  });
}

/** Environment variable names that carry the table names to Lambdas and the worker (set by infra). */
export const TABLE_ENV: Readonly<Record<TableKey, string>> = Object.freeze({
  sessions: 'SESSIONS_TABLE',
  transcript: 'TRANSCRIPT_TABLE',
  connections: 'CONNECTIONS_TABLE',
  workers: 'WORKERS_TABLE',
});

/** The CreateTable input of one table (on-demand billing, each index with its own projection). */
export function createTableInput(definition: TableDefinition, name: string) {
  const keys = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
  const attributes = new Map<string, KeyType>();
  for (const key of [
    ...keys,
    ...definition.indexes.flatMap((i) => [i.partitionKey, ...(i.sortKey ? [i.sortKey] : [])]),
  ]) {
    attributes.set(key.name, key.type);
  }
  const keySchema = (partition: KeyDefinition, sort: KeyDefinition | undefined) => [
    { AttributeName: partition.name, KeyType: 'HASH' as const },
    ...(sort ? [{ AttributeName: sort.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    ...(definition.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: definition.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection:
              index.projection.type === 'INCLUDE'
                ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.projection.attributes] }
                : { ProjectionType: 'KEYS_ONLY' as const },
          })),
        }
      : {}),
  };
}
