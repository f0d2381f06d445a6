/**
 * Frontend connections: one item per API Gateway connection, keyed by its connectionId, with the session
 * it is attached to (index `bySession`, for fan-out). `$disconnect` is best effort (AWS re:Post, "Websocket API gateway $disconnect event reliability"), so
 * every row carries a TTL beyond API Gateway's 2 h maximum connection duration: a row whose disconnect
 * never came expires on its own, and readers skip rows past `expiresAt` because TTL deletion lags.
 */
import { withDefaults } from '../domain/options.js';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from './document.js';
import { StoreError, toStoreError } from './errors.js';
import { assertItemFits } from './item-size.js';
import type { StoreContext } from './store-context.js';

/** API Gateway closes every WebSocket connection after 2 h at the latest. */
export const MAX_CONNECTION_DURATION_MS = 2 * 60 * 60 * 1000;

/** A frontend connection as stored. */
export interface ConnectionRecord {
  readonly connectionId: string;
  /** The tenant from the authorizer's claims: a connection only reaches its own team's sessions. */
  readonly team: string;
  /** The role from the authorizer's claims (guest, agent-console, admin). */
  readonly role: string;
  /** The session this connection follows, once attached. */
  readonly sessionId?: string;
  /** Epoch ms. */
  readonly connectedAt: number;
  /**
   * When the access token the connection was opened with expires (epoch ms): the connection is closed
   * then (docs/security.md). Absent on rows written before it was recorded.
   */
  readonly tokenExpiresAt?: number;
  /** TTL, epoch seconds. */
  readonly expiresAt: number;
}

export interface PutConnectionInput {
  readonly connectionId: string;
  readonly team: string;
  readonly role: string;
  readonly sessionId?: string;
  readonly connectedAt: number;
  readonly tokenExpiresAt?: number;
}

export interface ConnectionStoreOptions {
  /** Added to the 2 h maximum: clock skew and TTL granularity must never expire a live connection's row. */
  readonly ttlMarginMs: number;
}

const DEFAULTS: ConnectionStoreOptions = { ttlMarginMs: 15 * 60 * 1000 };

/** Reads and writes frontend connection rows. */
export class ConnectionStore {
  readonly #ctx: StoreContext;
  readonly #options: ConnectionStoreOptions;

  constructor(ctx: StoreContext, options: Partial<ConnectionStoreOptions> = {}) {
    this.#ctx = ctx;
    this.#options = withDefaults('ConnectionStore', DEFAULTS, options);
  }

  /**
   * Writes the connection's row ($connect). Unconditional: a retried $connect rewrites the same row.
   * `expiresAt` counts from whichever is later, now or `connectedAt`, so it always covers 2 h + margin.
   */
  async put(input: PutConnectionInput): Promise<ConnectionRecord> {
    const from = Math.max(this.#ctx.now(), input.connectedAt);
    const item: ConnectionRecord = {
      connectionId: input.connectionId,
      team: input.team,
      role: input.role,
      connectedAt: input.connectedAt,
      expiresAt: Math.ceil((from + MAX_CONNECTION_DURATION_MS + this.#options.ttlMarginMs) / 1000),
      ...(input.sessionId === undefined ? {} : { sessionId: input.sessionId }),
      ...(input.tokenExpiresAt === undefined ? {} : { tokenExpiresAt: input.tokenExpiresAt }),
    };
    assertItemFits({ ...item }, `connection ${input.connectionId}`);
    try {
      await this.#ctx.db.send(new PutCommand({ TableName: this.#ctx.tables.connections, Item: item }));
      return item;
    } catch (error) {
      throw toStoreError(error, `write of connection ${input.connectionId}`);
    }
  }

  /**
   * Attaches the connection to a session (it then appears in `listBySession`). STORE_NOT_FOUND when the
   * row is absent or expired: a connection that is gone must not be resurrected by an update.
   */
  async attach(
    connectionId: string,
    sessionId: string,
  ): Promise<ConnectionRecord & { readonly previousSessionId?: string }> {
    if (sessionId.length === 0) throw new StoreError('STORE_INVALID_REQUEST', 'attach: empty session id');
    try {
      const { Attributes } = await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.connections,
          Key: { connectionId },
          UpdateExpression: 'SET sessionId = :s',
          ConditionExpression: 'attribute_exists(connectionId) AND #exp > :nowSec',
          ExpressionAttributeNames: { '#exp': 'expiresAt' },
          ExpressionAttributeValues: { ':s': sessionId, ':nowSec': Math.floor(this.#ctx.now() / 1000) },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const before = toConnection(Attributes);
      if (!before) throw new StoreError('STORE_FAILED', `attach of connection ${connectionId}: no item`);
      const { sessionId: previousSessionId, ...rest } = before;
      return {
        ...rest,
        sessionId,
        ...(previousSessionId === undefined ? {} : { previousSessionId }),
      };
    } catch (error) {
      const mapped = toStoreError(error, `attach of connection ${connectionId}`);
      if (mapped.code === 'STORE_CONFLICT') {
        throw new StoreError('STORE_NOT_FOUND', `connection ${connectionId} does not exist`, {
          cause: error,
        });
      }
      throw mapped;
    }
  }

  /** The connection's row (consistent read); undefined when absent or expired. */
  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    try {
      const { Item } = await this.#ctx.db.send(
        new GetCommand({
          TableName: this.#ctx.tables.connections,
          Key: { connectionId },
          ConsistentRead: true,
        }),
      );
      const connection = toConnection(Item);
      return connection && this.#live(connection) ? connection : undefined;
    } catch (error) {
      throw toStoreError(error, `read of connection ${connectionId}`);
    }
  }

  /**
   * Deletes the connection's row ($disconnect, or a 410 from PostToConnection). Idempotent. Returns the
   * row as it was (its session, so that the session forgets the connection too), or undefined.
   */
  async delete(connectionId: string): Promise<ConnectionRecord | undefined> {
    try {
      const { Attributes } = await this.#ctx.db.send(
        new DeleteCommand({
          TableName: this.#ctx.tables.connections,
          Key: { connectionId },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return toConnection(Attributes);
    } catch (error) {
      throw toStoreError(error, `delete of connection ${connectionId}`);
    }
  }

  /**
   * The session's live connections: one Query on `bySession` (paginated), expired rows filtered out.
   * GSI reads are eventually consistent (a GSI cannot be read consistently): a connection attached a
   * moment ago may be missing and one deleted a moment ago may still appear. Fan-out tolerates both: the
   * former catches up from the transcript on its next frame or reconnect (`afterSequenceId`), the latter
   * answers 410 and is deleted then.
   */
  async listBySession(sessionId: string): Promise<ConnectionRecord[]> {
    const nowSec = Math.floor(this.#ctx.now() / 1000);
    const result: ConnectionRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.#ctx.db.send(
          new QueryCommand({
            TableName: this.#ctx.tables.connections,
            IndexName: 'bySession',
            KeyConditionExpression: 'sessionId = :s',
            FilterExpression: '#exp > :nowSec',
            ExpressionAttributeNames: { '#exp': 'expiresAt' },
            ExpressionAttributeValues: { ':s': sessionId, ':nowSec': nowSec },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          const connection = toConnection(item);
          if (connection && this.#live(connection)) result.push(connection);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      throw toStoreError(error, `connections of session ${sessionId}`);
    }
    return result;
  }

  #live(connection: ConnectionRecord): boolean {
    return connection.expiresAt * 1000 > this.#ctx.now();
  }
}

function toConnection(item: Record<string, unknown> | undefined): ConnectionRecord | undefined {
  if (!item || typeof item.connectionId !== 'string') return undefined;
  return {
    connectionId: item.connectionId,
    team: typeof item.team === 'string' ? item.team : '',
    role: typeof item.role === 'string' ? item.role : '',
    connectedAt: typeof item.connectedAt === 'number' ? item.connectedAt : 0,
    expiresAt: typeof item.expiresAt === 'number' ? item.expiresAt : 0,
    ...(typeof item.sessionId === 'string' ? { sessionId: item.sessionId } : {}),
    ...(typeof item.tokenExpiresAt === 'number' ? { tokenExpiresAt: item.tokenExpiresAt } : {}),
  };
}
