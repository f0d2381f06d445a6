/**
 * What each principal may do to DynamoDB, and which management APIs it posts to: one entry per public
 * route (each route is its own Lambda with its own role) and one for the worker's task role. The stack
 * grants exactly this (RelayTables.grant); test/infra/stack.test.ts checks the synthesized policies
 * against it, and test/infra/permissions.test.ts checks it against the code: it follows each route's
 * handler through src/relay, src/commands and src/store and lists every DynamoDB command it can send.
 * A store method that starts sending a command no entry grants fails that test, naming the method.
 *
 * The actions are IAM action names without the `dynamodb:` prefix. Transactions have no action of their
 * own (TransactWriteItems is authorized by each item's PutItem/UpdateItem/DeleteItem/ConditionCheckItem),
 * and a conditional write needs nothing beyond its own action.
 */
import type { TableKey } from '../src/store/tables.js';
import type { PublicRouteKey } from './constructs/public-api.js';

export type DynamoDbAction =
  | 'GetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'Query'
  | 'Scan'
  | 'BatchGetItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem';

export interface TableAccess {
  /** On the table's own items (its ARN). */
  readonly actions: readonly DynamoDbAction[];
  /** Indexes it queries: `dynamodb:Query` on each index's ARN, no other index. */
  readonly indexes?: readonly string[];
  /** With `Scan` only, and then required: the code path that scans (a Scan reads every item). */
  readonly scan?: string;
}

export type TableGrants = Readonly<Partial<Record<TableKey, TableAccess>>>;

/** The WebSocket APIs whose connections a principal posts to (`execute-api:ManageConnections`). */
export type ManagementApi = 'public' | 'control';

export interface Permissions {
  readonly tables: TableGrants;
  readonly manage: readonly ManagementApi[];
}

/** The doorbell's Scan (src/commands/doorbell.ts): the live workers, when the owner cannot be reached. */
const LIVE_WORKERS_SCAN = 'WorkerStore.listLive (ringDoorbell: no reachable owner → the live workers)';

/**
 * Most message routes start alike (src/relay/access.ts sessionFor): the connection's row (GetItem
 * connections), the session item (GetItem sessions), and for a session stored before the transcript
 * allocator existed, its allocator (CommandQueue.ensureAllocator: Query transcript for the newest seq,
 * UpdateItem sessions). The doorbell then reads the owner's heartbeat row (GetItem workers) and, when
 * the owner is gone, scans for live workers (Scan workers); it posts on the control API.
 */
const MESSAGE_ROUTES = {
  // Starts a session (reserveStart: PutItem/GetItem of the start key; create: PutItem) or resumes one
  // (GetItem, attachConnection/detachConnections: UpdateItem); attaches the connection's row (UpdateItem
  // connections); replays missed entries (Query transcript). The replay is posted before the route
  // response through the public API, whose 410 deletes the connection's row (DeleteItem connections).
  // The quota counters of a shared relay (src/store/quotas.ts, items `quota#…` of the sessions table)
  // are UpdateItem/GetItem, and BatchGetItem when a full open-sessions set is reconciled.
  connect: {
    tables: {
      sessions: { actions: ['GetItem', 'PutItem', 'UpdateItem', 'BatchGetItem'] },
      connections: { actions: ['GetItem', 'UpdateItem', 'DeleteItem'] },
      transcript: { actions: ['Query'] },
      workers: { actions: ['GetItem', 'Scan'], scan: LIVE_WORKERS_SCAN },
    },
    manage: ['public', 'control'],
  },
  // sessionFor, or for a keyed send the session item and the key's marker in one request (BatchGetItem
  // sessions) and the marker again when the write comes late (GetItem); submitSend (UpdateItem sessions);
  // the stored entry of a retried send (GetItem transcript); the doorbell.
  send: {
    tables: {
      sessions: { actions: ['GetItem', 'UpdateItem', 'BatchGetItem'] },
      connections: { actions: ['GetItem'] },
      transcript: { actions: ['GetItem', 'Query'] },
      workers: { actions: ['GetItem', 'Scan'], scan: LIVE_WORKERS_SCAN },
    },
    manage: ['control'],
  },
  // sessionFor, then only the doorbell (nothing is stored).
  typing: {
    tables: {
      sessions: { actions: ['GetItem', 'UpdateItem'] },
      connections: { actions: ['GetItem'] },
      transcript: { actions: ['Query'] },
      workers: { actions: ['GetItem', 'Scan'], scan: LIVE_WORKERS_SCAN },
    },
    manage: ['control'],
  },
  // sessionFor; submitContext (UpdateItem sessions) and a re-read on contention (GetItem); the doorbell.
  context: {
    tables: {
      sessions: { actions: ['GetItem', 'UpdateItem'] },
      connections: { actions: ['GetItem'] },
      transcript: { actions: ['Query'] },
      workers: { actions: ['GetItem', 'Scan'], scan: LIVE_WORKERS_SCAN },
    },
    manage: ['control'],
  },
  // sessionFor; putUpload (PutItem of the upload item, GetItem to compare a retry); submit (UpdateItem);
  // the doorbell.
  upload: {
    tables: {
      sessions: { actions: ['GetItem', 'PutItem', 'UpdateItem'] },
      connections: { actions: ['GetItem'] },
      transcript: { actions: ['Query'] },
      workers: { actions: ['GetItem', 'Scan'], scan: LIVE_WORKERS_SCAN },
    },
    manage: ['control'],
  },
  // sessionFor, or the named session read by id (readableSession); one page of the transcript (Query
  // transcript). No doorbell: posts nowhere.
  history: {
    tables: {
      sessions: { actions: ['GetItem', 'UpdateItem'] },
      connections: { actions: ['GetItem'] },
      transcript: { actions: ['Query'] },
    },
    manage: [],
  },
  // sessionFor; the `end` command (UpdateItem sessions); the doorbell.
  end: {
    tables: {
      sessions: { actions: ['GetItem', 'UpdateItem'] },
      connections: { actions: ['GetItem'] },
      transcript: { actions: ['Query'] },
      workers: { actions: ['GetItem', 'Scan'], scan: LIVE_WORKERS_SCAN },
    },
    manage: ['control'],
  },
  // Liveness only: reads nothing, writes nothing, answers as the route response.
  ping: { tables: {}, manage: [] },
} as const satisfies Record<string, Permissions>;

type MessageRoute = keyof typeof MESSAGE_ROUTES;

/** Everything the given permissions allow together. */
export function union(...all: readonly Permissions[]): Permissions {
  const tables: Partial<Record<TableKey, TableAccess>> = {};
  for (const permissions of all) {
    for (const [key, access] of Object.entries(permissions.tables) as [TableKey, TableAccess][]) {
      const before = tables[key];
      const actions = [...new Set([...(before?.actions ?? []), ...access.actions])];
      const indexes = [...new Set([...(before?.indexes ?? []), ...(access.indexes ?? [])])];
      const scan = before?.scan ?? access.scan;
      tables[key] = {
        actions,
        ...(indexes.length > 0 ? { indexes } : {}),
        ...(scan === undefined ? {} : { scan }),
      };
    }
  }
  const manage = [...new Set(all.flatMap((permissions) => permissions.manage))];
  return { tables, manage };
}

export const ROUTE_PERMISSIONS: Readonly<Record<PublicRouteKey, Permissions>> = Object.freeze({
  // `$connect` writes the connection's row with the authorizer's claims (PutItem connections).
  $connect: { tables: { connections: { actions: ['PutItem'] } }, manage: [] },
  // `$disconnect` deletes the row (DeleteItem connections, returning it) and takes the connection off
  // its session's `conns` (UpdateItem sessions).
  $disconnect: {
    tables: { connections: { actions: ['DeleteItem'] }, sessions: { actions: ['UpdateItem'] } },
    manage: [],
  },
  // `$default` dispatches any valid frame to its action's handler (src/relay/default.ts): all of them.
  $default: union(...(Object.keys(MESSAGE_ROUTES) as MessageRoute[]).map((key) => MESSAGE_ROUTES[key])),
  ...MESSAGE_ROUTES,
});

/**
 * The worker's task role (worker/*.ts): it owns sessions. Sessions: reads and fenced UpdateItems (claim,
 * status, queue, settle, end), the owners of all its sessions at once after a lapsed lease
 * (BatchGetItem), the key markers in the transcript writer's batches (BatchWriteItem), the owner indexes
 * for its sweeps (byOwner, byOwnerPending). Transcript: entries in batches
 * (BatchWriteItem), status updates (UpdateItem), reads (GetItem, Query). Connections: the session's
 * connections (bySession), a row whose 410 came back from the public API (DeleteItem), and one row by
 * id when its connection may have expired (GetItem). Workers: its heartbeat (UpdateItem), the owners'
 * rows (GetItem), the sweep over every worker (Scan), the removal of its own or a dead worker's row
 * (DeleteItem). The management APIs are granted in the stack (ManageConnections on the public API,
 * Invoke on the control API's $connect).
 */
export const WORKER_PERMISSIONS: Permissions = Object.freeze<Permissions>({
  tables: {
    sessions: {
      actions: ['GetItem', 'UpdateItem', 'BatchGetItem', 'BatchWriteItem'],
      indexes: ['byOwner', 'byOwnerPending'],
    },
    transcript: { actions: ['GetItem', 'UpdateItem', 'Query', 'BatchWriteItem'] },
    connections: { actions: ['GetItem', 'DeleteItem'], indexes: ['bySession'] },
    workers: {
      actions: ['GetItem', 'UpdateItem', 'DeleteItem', 'Scan'],
      scan: 'WorkerStore.listAll (the sweep: stale workers whose sessions need a new owner)',
    },
  },
  manage: ['public'],
});
