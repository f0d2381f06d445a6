/**
 * Sessions: one item per guest session (`pk = sessionId`, `sk = "session"`) holding its state, its owner
 * worker with a fencing epoch, the allocator of its transcript numbers (`lastSeq`), and its pending
 * commands. This class owns the session's lifecycle (create, status, claim, release, end); the commands
 * part of the same item (queueing, numbering, settling) is written by src/commands/queue.ts through the
 * helpers exported at the end of this file. `byOwnerPending` lets a worker's sweep find all its pending
 * work with one Query. The same table holds the transcript's idempotency markers (`sk = "key#…"`), the
 * start keys and the upload items: they carry no `ownerId`, so neither owner index sees them.
 *
 * Every write is a single conditional UpdateItem/PutItem on one item: no transactions (dynalite does not
 * implement them, and one item needs none). A failed condition is told apart by re-reading the item
 * (STORE_NOT_FOUND, STORE_FENCED, or the operation's own conflict) because ReturnValuesOnCondition-
 * CheckFailure is not available on every engine we test on.
 */
import type { Command, PendingCommand, StartCommand } from '../commands/types.js';
import type { ChannelConstraints } from '../domain/constraints.js';
import { withDefaults } from '../domain/options.js';
import { type BatchGetOptions, batchGetSessions } from './batch-get.js';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from './document.js';
import { StoreError, toStoreError } from './errors.js';
import { assertItemFits } from './item-size.js';
import type { StoreContext } from './store-context.js';
import { isPastTtl } from './tables.js';
import { keySk, type SendKey, toSendKey } from './transcript.js';
import { WorkerStore } from './workers.js';

/** The sort key of the session item itself (the other items of a partition are the transcript's keys). */
export const SESSION_SK = 'session';

/** A batch read asks this many times in all for keys left unprocessed, the pauses doubling. */
const UNPROCESSED_ROUNDS = 3;
const UNPROCESSED_PAUSE_MS = 20;

/** The owner of a session that no worker owns yet (or that its owner released). */
export const NO_OWNER = 'none';

export type SessionStatus = 'starting' | 'active' | 'readOnly' | 'ending' | 'ended';

/** The Genesys endpoints the session was opened against. */
export interface SessionEndpoint {
  readonly wsUrl: string;
  readonly apiUrl: string;
}

/** The id of the `start` command of a session (one per session). */
export const START_COMMAND_ID = 'start';

/** The sort key prefix of an upload's own item (see SessionStore.putUpload). */
export const UPLOAD_SK_PREFIX = 'upload#';

/** What an `upload` command refers to: the parts too large for a pending command. */
export interface StoredUpload {
  readonly uploadId: string;
  /** Send a message with the attachment once uploaded. */
  readonly send: boolean;
  readonly caption?: string;
  /** The file itself, base64 (inline uploads only). */
  readonly data?: string;
  readonly clientMessageId?: string;
}

/** A worker's proof of ownership. Fenced writes succeed only while the session still names both. */
export interface Fence {
  readonly workerId: string;
  readonly epoch: number;
}

/** A session as stored. */
export interface SessionRecord {
  readonly sessionId: string;
  readonly team: string;
  readonly status: SessionStatus;
  readonly guestInfo?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, string | number | boolean>>;
  readonly deploymentId: string;
  /** The Genesys region domain (`mypurecloud.ie`); absent: the worker's configured endpoint. */
  readonly region?: string;
  readonly endpoint?: SessionEndpoint;
  /**
   * The subject (the access token's `sub`) that started the session: the only one that may act in it
   * (docs/security.md). Absent on sessions started by a token without a subject, or stored before owners
   * were recorded: then any guest of the team that also has no subject may.
   */
  readonly subject?: string;
  /**
   * A Genesys guest token stored by an earlier version (Genesys resumes a session by it): never put it
   * in errors or logs. New sessions store none: the worker derives theirs from a key only it holds.
   */
  readonly guestToken?: string;
  /** The channel constraints snapshot taken when the session opened. */
  readonly constraints: ChannelConstraints;
  /** Custom attributes (flattened), their byte size as Genesys counts it, and a revision. */
  readonly context: Readonly<Record<string, string>>;
  readonly contextBytes: number;
  readonly contextRev: number;
  /** The owning worker, NO_OWNER when unowned; absent once the session has ended. */
  readonly ownerId?: string;
  readonly epoch: number;
  /** The owner's control connection as of its claim or its latest write: where doorbells go first. */
  readonly ownerConn?: string;
  /**
   * The transcript's allocator: the highest sequenceId given out (0 for none). Absent only on a session
   * written before the allocator existed; src/commands/queue.ts `ensureAllocator` adds it.
   */
  readonly lastSeq?: number;
  /** Commands not yet carried out (sends and records with their number), by id. */
  readonly pending: Readonly<Record<string, PendingCommand>>;
  /** What the pending sends count against the session's byte budget. */
  readonly pendingBytes: number;
  /** Epoch ms of the oldest pending command; present while commands may be pending (sparse index key). */
  readonly pendingAt?: number;
  /** Counts the commands ever queued. */
  readonly pendingRev: number;
  /**
   * The frontend connections attached to the session (a string set): the owner posts to them, and a
   * handler that remembers which session a connection is on checks here that it still is. Absent on a
   * session stored before the set existed: then the connections table is the only record.
   */
  readonly conns?: readonly string[];
  /**
   * Sends settled recently, and records a drain carried out: their numbers by name (settledName in
   * src/commands/types.ts; look one up with settledSeq). A retry's write is refused while its id is here.
   */
  readonly settled: Readonly<Record<string, number>>;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly endedAt?: number;
  readonly endReason?: string;
  /** TTL, epoch seconds; set when the session ends. */
  readonly expiresAt?: number;
}

export interface CreateSessionInput {
  readonly sessionId: string;
  readonly team: string;
  readonly deploymentId: string;
  /** Only for sessions that must carry their own token (tests of stored sessions); new ones derive it. */
  readonly guestToken?: string;
  readonly subject?: string;
  readonly constraints: ChannelConstraints;
  readonly region?: string;
  readonly endpoint?: SessionEndpoint;
  readonly guestInfo?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, string | number | boolean>>;
  readonly context?: Readonly<Record<string, string>>;
  readonly contextBytes?: number;
  /** Queue the `start` command in the same write (a new session's first work). */
  readonly start?: boolean;
  /** The frontend connection that starts it, attached in the same write. */
  readonly connectionId?: string;
}

/** Who owns a session, as `ownersOf` reads it. */
export interface SessionOwnership {
  readonly ownerId?: string;
  readonly epoch: number;
  readonly status: SessionStatus;
}

export interface OwnedSession {
  readonly sessionId: string;
  readonly epoch: number;
  readonly status: SessionStatus;
  readonly hasPending: boolean;
}

export interface ClaimResult {
  readonly epoch: number;
  /** False when the caller already owned the session (nothing was written). */
  readonly claimed: boolean;
}

export interface SessionStoreOptions {
  /** How long an ended session's item is kept before TTL may delete it. */
  readonly endedRetentionMs: number;
}

const DEFAULTS: SessionStoreOptions = {
  endedRetentionMs: 30 * 24 * 60 * 60 * 1000,
};

/** Reads and writes session items. */
export class SessionStore {
  readonly #ctx: StoreContext;
  readonly #options: SessionStoreOptions;
  readonly #workers: WorkerStore;

  constructor(ctx: StoreContext, options: Partial<SessionStoreOptions> = {}) {
    this.#ctx = ctx;
    this.#options = withDefaults('SessionStore', DEFAULTS, options);
    this.#workers = new WorkerStore(ctx);
  }

  /**
   * Creates the session: status "starting", epoch 0, unowned, no transcript numbers given out yet, and
   * (with `start`) its `start` command queued in the same write. STORE_CONFLICT when the id exists.
   */
  async create(input: CreateSessionInput): Promise<SessionRecord> {
    const now = this.#ctx.now();
    const start: StartCommand | undefined =
      input.start === true ? { id: START_COMMAND_ID, type: 'start', createdAt: now } : undefined;
    const record: SessionRecord = {
      sessionId: input.sessionId,
      team: input.team,
      status: 'starting',
      deploymentId: input.deploymentId,
      constraints: input.constraints,
      context: input.context ?? {},
      contextBytes: input.contextBytes ?? 0,
      contextRev: 0,
      ownerId: NO_OWNER,
      epoch: 0,
      lastSeq: 0,
      pending: start === undefined ? {} : { [start.id]: start },
      pendingBytes: 0,
      pendingRev: start === undefined ? 0 : 1,
      settled: {},
      conns: input.connectionId === undefined ? [] : [input.connectionId],
      createdAt: now,
      updatedAt: now,
      ...(start === undefined ? {} : { pendingAt: now }),
      ...(input.guestToken === undefined ? {} : { guestToken: input.guestToken }),
      ...(input.subject === undefined ? {} : { subject: input.subject }),
      ...(input.region === undefined ? {} : { region: input.region }),
      ...(input.endpoint === undefined ? {} : { endpoint: input.endpoint }),
      ...(input.guestInfo === undefined ? {} : { guestInfo: input.guestInfo }),
      ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    };
    const item = toItem(record);
    assertItemFits(item, `session ${input.sessionId}`);
    if (!(await this.#putIfAbsent(item, `create of session ${input.sessionId}`))) {
      throw new StoreError('STORE_CONFLICT', `session ${input.sessionId} already exists`);
    }
    return record;
  }

  /**
   * Reserves the session id of a `connect` that carries a clientMessageId, so that a retried start gets
   * the same session instead of a second one: the first call stores `proposedId` under the subject's key
   * (`pk = "start#<team>#<subject>#<clientMessageId>"`, no ownerId: invisible to the owner indexes) and
   * gets it back; every later call gets the id stored first. The key is the subject's own: a teammate who
   * reuses the clientMessageId starts a session of their own, not a way into this one. The key expires
   * with the retention of ended sessions.
   */
  async reserveStart(
    team: string,
    subject: string | undefined,
    clientMessageId: string,
    proposedId: string,
  ): Promise<string> {
    const owner = subject === undefined ? '-' : encodeURIComponent(subject);
    const key = { pk: `start#${team}#${owner}#${clientMessageId}`, sk: 'start' };
    const now = this.#ctx.now();
    const item = {
      ...key,
      sessionId: proposedId,
      createdAt: now,
      expiresAt: Math.floor((now + this.#options.endedRetentionMs) / 1000),
    };
    assertItemFits(item, 'start key');
    if (await this.#putIfAbsent(item, 'start key')) return proposedId;
    try {
      const { Item } = await this.#ctx.db.send(
        new GetCommand({ TableName: this.#ctx.tables.sessions, Key: key, ConsistentRead: true }),
      );
      if (typeof Item?.sessionId !== 'string') throw new StoreError('STORE_CONFLICT', 'start key vanished');
      return Item.sessionId;
    } catch (error) {
      throw mapSessionError(error, 'start key');
    }
  }

  /** The session (consistent read); undefined when absent or past its TTL. */
  async get(sessionId: string): Promise<SessionRecord | undefined> {
    const item = await this.#read(sessionId);
    return item ? toSession(item) : undefined;
  }

  /**
   * The session and the marker of a keyed send (`clientMessageId`), both consistent, in one request:
   * the marker lives in the session's partition, so one BatchGetItem reads both (a guest `send` with a
   * key needs the two before its write). Keys the engine leaves unprocessed (throttling) are asked again
   * after a short pause, a bounded number of times; then STORE_UNAVAILABLE, as for any throttled read.
   */
  async getWithSendKey(
    sessionId: string,
    clientMessageId: string,
  ): Promise<{ session: SessionRecord | undefined; key: SendKey | undefined }> {
    const context = `read of session ${sessionId} and its send key`;
    const markerSk = keySk(clientMessageId);
    const read = await this.#batchGet([key(sessionId), { pk: sessionId, sk: markerSk }], context);
    const items = new Map(read.map((item) => [item.sk, item]));
    const now = this.#ctx.now();
    const item = items.get(SESSION_SK);
    const live = item !== undefined && !isPastTtl(item, now);
    return { session: live ? toSession(item) : undefined, key: toSendKey(items.get(markerSk), now) };
  }

  /**
   * Records a frontend connection on the session (`ADD conns`), and takes it off another session it was
   * on before (best effort there: the owner of that one forgets it on its next 410). Returns the session
   * as the write left it: whoever owns it now must hear of the connection (an owner that opened before
   * this write read `conns` without it). STORE_NOT_FOUND when absent, STORE_CONFLICT when it has ended.
   */
  async attachConnection(
    sessionId: string,
    connectionId: string,
    previousSessionId?: string,
  ): Promise<SessionRecord> {
    const after = await this.#update(sessionId, 'attach', undefined, {
      UpdateExpression: 'ADD conns :c',
      ConditionExpression: 'attribute_exists(pk) AND #st <> :ended',
      ExpressionAttributeNames: { '#st': 'status' },
      ExpressionAttributeValues: { ':c': new Set([connectionId]), ':ended': 'ended' },
    });
    if (previousSessionId !== undefined && previousSessionId !== sessionId) {
      await this.detachConnections(previousSessionId, [connectionId]).catch(() => {});
    }
    return after;
  }

  /** Takes connections off the session (`DELETE conns`): a `$disconnect`, or a 410. Never fails on a missing session. */
  async detachConnections(sessionId: string, connectionIds: readonly string[]): Promise<void> {
    if (connectionIds.length === 0) return;
    try {
      await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.sessions,
          Key: key(sessionId),
          UpdateExpression: 'DELETE conns :c',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':c': new Set(connectionIds) },
        }),
      );
    } catch (error) {
      const mapped = mapSessionError(error, `detach from session ${sessionId}`);
      if (mapped.code !== 'STORE_CONFLICT') throw mapped;
    }
  }

  /**
   * Moves the session to `status` (not "ended": that is `end`, which also leaves the owner indexes).
   * Fenced when `fence` is given (the worker); an ended session refuses with STORE_CONFLICT. With
   * `constraints`, the deployment's limits (as Genesys' SessionResponse gave them) replace the stored ones
   * in the same write.
   */
  async updateStatus(
    sessionId: string,
    status: Exclude<SessionStatus, 'ended'>,
    fence?: Fence,
    options: { readonly constraints?: ChannelConstraints } = {},
  ): Promise<SessionRecord> {
    if ((status as SessionStatus) === 'ended') {
      throw new StoreError('STORE_INVALID_REQUEST', `status of session ${sessionId}: use end() to end it`);
    }
    const { condition, names, values } = fenceGuard(fence);
    const withConstraints = options.constraints !== undefined;
    return this.#update(sessionId, 'status update', fence, {
      UpdateExpression: `SET #st = :st, updatedAt = :now${withConstraints ? ', #cons = :c' : ''}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: withConstraints ? { ...names, '#cons': 'constraints' } : names,
      ExpressionAttributeValues: {
        ...values,
        ':st': status,
        ':now': this.#ctx.now(),
        ...(withConstraints ? { ':c': options.constraints } : {}),
      },
    });
  }

  /**
   * Who owns each of `sessionIds` now, read consistently: BatchGetItem, 100 sessions a request, only the
   * owner, epoch and status. A session that is absent or past its TTL is missing from the map. Keys the
   * engine leaves unprocessed are asked again (as getWithSendKey does); then STORE_UNAVAILABLE. How a
   * worker whose lease lapsed checks every session at once (worker.ts), instead of one read per session.
   */
  async ownersOf(sessionIds: readonly string[]): Promise<Map<string, SessionOwnership>> {
    const items = await this.#batchGet(sessionIds.map(key), 'read of session owners', {
      expression: 'pk, ownerId, epoch, #st, expiresAt',
      names: { '#st': 'status' },
    });
    const owners = new Map<string, SessionOwnership>();
    const now = this.#ctx.now();
    for (const item of items) {
      if (typeof item.pk !== 'string' || isPastTtl(item, now)) continue;
      owners.set(item.pk, {
        ...(typeof item.ownerId === 'string' ? { ownerId: item.ownerId } : {}),
        epoch: typeof item.epoch === 'number' ? item.epoch : 0,
        status: (typeof item.status === 'string' ? item.status : 'starting') as SessionStatus,
      });
    }
    return owners;
  }

  /**
   * Consistent batch reads of the sessions table (batchGetSessions): keys left unprocessed are asked again after
   * a short pause, UNPROCESSED_ROUNDS requests in all; still unprocessed, STORE_UNAVAILABLE, as for any
   * throttled read.
   */
  async #batchGet(
    keys: readonly Record<string, unknown>[],
    context: string,
    projection?: BatchGetOptions['projection'],
  ): Promise<Record<string, unknown>[]> {
    const { items, unprocessed } = await batchGetSessions(this.#ctx, keys, {
      ...(projection === undefined ? {} : { projection }),
      rounds: UNPROCESSED_ROUNDS,
      pauseMs: UNPROCESSED_PAUSE_MS,
      mapError: (error) => mapSessionError(error, context),
    });
    if (unprocessed.length > 0) {
      throw new StoreError('STORE_UNAVAILABLE', `${context}: throttled (keys left unprocessed)`);
    }
    return items;
  }

  /**
   * The sessions a worker owns: one Query on `byOwner` (paginated). Ended sessions carry no `ownerId`,
   * so they are not listed. Eventually consistent, like every GSI read.
   */
  async listOwned(workerId: string): Promise<OwnedSession[]> {
    const items = await queryOwnerIndex(this.#ctx, 'byOwner', workerId, 'pk, sk, epoch, #st, pendingAt', {
      '#st': 'status',
    });
    const result: OwnedSession[] = [];
    for (const item of items) {
      if (typeof item.pk !== 'string') continue;
      result.push({
        sessionId: item.pk,
        epoch: typeof item.epoch === 'number' ? item.epoch : 0,
        status: (typeof item.status === 'string' ? item.status : 'starting') as SessionStatus,
        hasPending: typeof item.pendingAt === 'number',
      });
    }
    return result;
  }

  /**
   * Takes ownership: allowed when the session is unowned or its owner is stale (no heartbeat within
   * `staleAfterMs`; a missing worker row counts as stale). The write is conditioned on the owner and
   * epoch just read and bumps the epoch, so of concurrent claimers exactly one wins and every write
   * fenced with the old epoch fails from then on. Already mine: the current epoch, nothing written.
   * STORE_CLAIM_REFUSED: a live owner; STORE_CONFLICT: lost the race, or the session has ended.
   * The new owner must drain `pending` before anything else (docs/architecture.md). With
   * `controlConnectionId`, the write also records where the new owner's doorbell is (`ownerConn`).
   */
  async claim(
    sessionId: string,
    workerId: string,
    options: { readonly staleAfterMs: number; readonly controlConnectionId?: string },
  ): Promise<ClaimResult> {
    if (workerId === NO_OWNER || workerId.length === 0) {
      throw new StoreError('STORE_INVALID_REQUEST', `claim of session ${sessionId}: invalid worker id`);
    }
    const item = await this.#read(sessionId);
    const current = item && toSession(item);
    if (!current) throw notFound(sessionId);
    if (current.status === 'ended' || current.ownerId === undefined) {
      throw new StoreError('STORE_CONFLICT', `session ${sessionId} has ended`);
    }
    if (current.ownerId === workerId) return { epoch: current.epoch, claimed: false };
    if (current.ownerId !== NO_OWNER && (await this.#workers.isLive(current.ownerId, options.staleAfterMs))) {
      throw new StoreError('STORE_CLAIM_REFUSED', `session ${sessionId} has a live owner`);
    }
    const epoch = current.epoch + 1;
    try {
      await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.sessions,
          Key: key(sessionId),
          UpdateExpression:
            options.controlConnectionId === undefined
              ? 'SET ownerId = :me, epoch = :next, updatedAt = :now REMOVE ownerConn'
              : 'SET ownerId = :me, epoch = :next, updatedAt = :now, ownerConn = :conn',
          ConditionExpression: 'ownerId = :old AND epoch = :e',
          ExpressionAttributeValues: {
            ':me': workerId,
            ':next': epoch,
            ':now': this.#ctx.now(),
            ':old': current.ownerId,
            ':e': current.epoch,
            ...(options.controlConnectionId === undefined ? {} : { ':conn': options.controlConnectionId }),
          },
        }),
      );
      return { epoch, claimed: true };
    } catch (error) {
      const mapped = mapSessionError(error, `claim of session ${sessionId}`);
      if (mapped.code === 'STORE_CONFLICT') {
        throw new StoreError('STORE_CONFLICT', `claim of session ${sessionId}: another worker came first`, {
          cause: error,
        });
      }
      throw mapped;
    }
  }

  /**
   * Gives the session up (fenced): ownerId becomes NO_OWNER, the epoch stays; the next claim bumps it,
   * so this fence stays dead even if the same worker claims again.
   */
  async release(sessionId: string, fence: Fence): Promise<void> {
    const { condition, names, values } = fenceGuard(fence);
    await this.#update(sessionId, 'release', fence, {
      UpdateExpression: 'SET ownerId = :none, updatedAt = :now REMOVE ownerConn',
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ...values, ':none': NO_OWNER, ':now': this.#ctx.now() },
    });
  }

  /**
   * Ends the session: status "ended", `endedAt`, `expiresAt` (TTL, `endedRetentionMs` ahead), and REMOVE
   * `ownerId` and `pendingAt`, so it leaves both owner indexes. Fenced when `fence` is given. Idempotent:
   * ending an ended session returns it unchanged.
   *
   * Pending commands stay in the map as a record (readers still show a pending send) unless the caller
   * says it wrote every numbered one to the transcript already: with `writtenRev`, the write is also
   * conditioned on `pendingRev` being that revision (no command came in since) and clears the queue.
   * STORE_CONFLICT then means "a command arrived meanwhile": write it too and try again.
   */
  async end(
    sessionId: string,
    reason: string,
    fence?: Fence,
    options: { readonly writtenRev?: number } = {},
  ): Promise<SessionRecord> {
    const now = this.#ctx.now();
    const { condition, names, values } = fenceGuard(fence);
    const clear = options.writtenRev !== undefined;
    try {
      return await this.#update(sessionId, 'end', fence, {
        UpdateExpression:
          'SET #st = :ended, endedAt = :now, endReason = :reason, updatedAt = :now, #exp = :exp' +
          (clear ? ', #pend = :empty, seqs = :empty, pendingBytes = :zero' : '') +
          ' REMOVE ownerId, pendingAt, ownerConn',
        ConditionExpression: clear ? `${condition} AND pendingRev = :rev` : condition,
        ExpressionAttributeNames: {
          ...names,
          '#exp': 'expiresAt',
          ...(clear ? { '#pend': 'pending' } : {}),
        },
        ExpressionAttributeValues: {
          ...values,
          ':now': now,
          ':reason': reason,
          ':exp': Math.ceil((now + this.#options.endedRetentionMs) / 1000),
          ...(clear ? { ':empty': {}, ':zero': 0, ':rev': options.writtenRev } : {}),
        },
      });
    } catch (error) {
      if (error instanceof StoreError && error.code === 'STORE_CONFLICT') {
        const item = await this.#read(sessionId);
        const current = item && toSession(item);
        if (current?.status === 'ended') return current;
      }
      throw error;
    }
  }

  /**
   * Stores what an upload command cannot carry in 4 KB (the inline bytes, the caption, whether to send)
   * as its own item in the session's partition (`sk = "upload#<uploadId>"`, no ownerId: invisible to the
   * owner indexes). Idempotent: the same upload again changes nothing; a different one under the same id
   * is STORE_IDEMPOTENCY_MISMATCH. Write it before the `upload` command that names it.
   */
  async putUpload(sessionId: string, upload: StoredUpload): Promise<void> {
    const item = { pk: sessionId, sk: `${UPLOAD_SK_PREFIX}${upload.uploadId}`, ...upload };
    assertItemFits(item, `upload ${upload.uploadId} of session ${sessionId}`);
    if (await this.#putIfAbsent(item, `upload of session ${sessionId}`)) return;
    const existing = await this.getUpload(sessionId, upload.uploadId);
    if (existing === undefined || JSON.stringify(existing) !== JSON.stringify({ ...upload })) {
      throw new StoreError(
        'STORE_IDEMPOTENCY_MISMATCH',
        `upload of session ${sessionId}: the upload id was already used for a different upload`,
      );
    }
  }

  /**
   * Puts an item of the sessions table unless its key exists: true when this call created it, false
   * when the key was taken. Other failures are mapped StoreErrors; `what` names the item, never its content.
   */
  async #putIfAbsent(item: Record<string, unknown>, what: string): Promise<boolean> {
    try {
      await this.#ctx.db.send(
        new PutCommand({
          TableName: this.#ctx.tables.sessions,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      const mapped = mapSessionError(error, what);
      if (mapped.code !== 'STORE_CONFLICT') throw mapped;
      return false;
    }
  }

  /** The upload item written by putUpload, or undefined. */
  async getUpload(sessionId: string, uploadId: string): Promise<StoredUpload | undefined> {
    try {
      const { Item } = await this.#ctx.db.send(
        new GetCommand({
          TableName: this.#ctx.tables.sessions,
          Key: { pk: sessionId, sk: `${UPLOAD_SK_PREFIX}${uploadId}` },
          ConsistentRead: true,
        }),
      );
      if (!Item) return undefined;
      const { pk: _pk, sk: _sk, ...rest } = Item;
      return rest as StoredUpload;
    } catch (error) {
      throw mapSessionError(error, `read of upload ${uploadId} of session ${sessionId}`);
    }
  }

  /** Consistent read of the raw session item; undefined when absent or past its TTL. */
  async #read(sessionId: string): Promise<Record<string, unknown> | undefined> {
    return readSessionItem(this.#ctx, sessionId);
  }

  /**
   * One conditional UpdateItem returning the new session. On a lost condition, re-reads to say why:
   * STORE_NOT_FOUND (absent), STORE_FENCED (fence given and the owner or epoch moved on), otherwise
   * STORE_CONFLICT (e.g. the session has ended, or a revision moved).
   */
  async #update(
    sessionId: string,
    what: string,
    fence: Fence | undefined,
    input: SessionUpdate,
  ): Promise<SessionRecord> {
    const { Attributes } = await updateSession(this.#ctx, sessionId, what, fence, {
      ...input,
      ReturnValues: 'ALL_NEW',
    });
    const record = toSession(Attributes);
    if (!record) throw new StoreError('STORE_FAILED', `${what} of session ${sessionId}: no item returned`);
    return record;
  }
}

/** The key of a session item. */
export function sessionKey(sessionId: string): { pk: string; sk: string } {
  return { pk: sessionId, sk: SESSION_SK };
}

const key = sessionKey;

/** An UpdateItem on a session item, as the helpers below take it. */
export interface SessionUpdate {
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, unknown>;
}

/**
 * The base condition of every update: the item exists and has not ended, plus the fence when given.
 * Fenced, `ownerId = :fw` is false on an absent item (an equality with a missing attribute is), so the
 * item's existence needs no clause of its own: one function call less for the engine to parse on every
 * write an owner makes (dynalite's parser is most of its time per request; docs/performance.md).
 */
export function fenceGuard(fence: Fence | undefined): {
  condition: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  if (!fence) {
    return {
      condition: 'attribute_exists(pk) AND #st <> :ended',
      names: { '#st': 'status' },
      values: { ':ended': 'ended' },
    };
  }
  return {
    condition: 'ownerId = :fw AND epoch = :fe AND #st <> :ended',
    names: { '#st': 'status' },
    values: { ':ended': 'ended', ':fw': fence.workerId, ':fe': fence.epoch },
  };
}

/** Consistent read of the raw session item; undefined when absent or past its TTL. */
export async function readSessionItem(
  ctx: StoreContext,
  sessionId: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const { Item } = await ctx.db.send(
      new GetCommand({ TableName: ctx.tables.sessions, Key: key(sessionId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    if (isPastTtl(Item, ctx.now())) return undefined;
    return Item;
  } catch (error) {
    throw mapSessionError(error, `read of session ${sessionId}`);
  }
}

/**
 * One conditional UpdateItem on the session item. On a lost condition, re-reads to say why:
 * STORE_NOT_FOUND (absent), STORE_CONFLICT "has ended", STORE_FENCED (fence given and the owner or epoch
 * moved on), otherwise STORE_CONFLICT "changed".
 */
export async function updateSession(
  ctx: StoreContext,
  sessionId: string,
  what: string,
  fence: Fence | undefined,
  input: SessionUpdate & { readonly ReturnValues?: 'ALL_NEW' | 'UPDATED_NEW' | 'NONE' },
): Promise<{ Attributes?: Record<string, unknown> | undefined }> {
  try {
    return await ctx.db.send(
      new UpdateCommand({
        TableName: ctx.tables.sessions,
        Key: key(sessionId),
        UpdateExpression: input.UpdateExpression,
        ConditionExpression: input.ConditionExpression,
        ExpressionAttributeValues: input.ExpressionAttributeValues,
        // DynamoDB refuses an empty ExpressionAttributeNames map.
        ...(input.ExpressionAttributeNames && Object.keys(input.ExpressionAttributeNames).length > 0
          ? { ExpressionAttributeNames: input.ExpressionAttributeNames }
          : {}),
        ReturnValues: input.ReturnValues ?? 'NONE',
      }),
    );
  } catch (error) {
    const mapped = mapSessionError(error, `${what} of session ${sessionId}`);
    if (mapped.code !== 'STORE_CONFLICT') throw mapped;
    const item = await readSessionItem(ctx, sessionId);
    const current = item && toSession(item);
    if (!current) throw notFound(sessionId, error);
    // Ended first: an ended session has no owner, but "it ended" is the more useful answer (and lets
    // end() be idempotent for a fenced caller too).
    if (current.status === 'ended') {
      throw new StoreError('STORE_CONFLICT', `${what} of session ${sessionId}: the session has ended`, {
        cause: error,
      });
    }
    if (fence && (current.ownerId !== fence.workerId || current.epoch !== fence.epoch)) {
      throw fenced(sessionId, error);
    }
    throw new StoreError('STORE_CONFLICT', `${what} of session ${sessionId}: the session changed`, {
      cause: error,
    });
  }
}

/**
 * The session items of one owner in one of the sparse owner indexes (paginated): only `sk = "session"`
 * items, with the attributes `projection` names. Eventually consistent, like every GSI read.
 */
export async function queryOwnerIndex(
  ctx: StoreContext,
  index: 'byOwner' | 'byOwnerPending',
  ownerId: string,
  projection: string,
  names: Record<string, string>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  try {
    do {
      const page = await ctx.db.send(
        new QueryCommand({
          TableName: ctx.tables.sessions,
          IndexName: index,
          KeyConditionExpression: 'ownerId = :o',
          ProjectionExpression: projection,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':o': ownerId },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) if (item.sk === SESSION_SK) items.push(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  } catch (error) {
    throw mapSessionError(error, `${index} query for ${ownerId}`);
  }
  return items;
}

/** True when a StoreError says the session has ended (updateSession's wording). */
export function isEndedConflict(error: unknown): boolean {
  return error instanceof StoreError && error.code === 'STORE_CONFLICT' && /has ended/.test(error.message);
}

export function notFound(sessionId: string, cause?: unknown): StoreError {
  return new StoreError(
    'STORE_NOT_FOUND',
    `session ${sessionId} does not exist`,
    cause === undefined ? {} : { cause },
  );
}

export function fenced(sessionId: string, cause?: unknown): StoreError {
  return new StoreError(
    'STORE_FENCED',
    `session ${sessionId} is owned by another worker or epoch now`,
    cause === undefined ? {} : { cause },
  );
}

/** toStoreError, plus the engine's own item-size refusal (the backstop behind assertItemFits). */
export function mapSessionError(error: unknown, context: string): StoreError {
  const mapped = toStoreError(error, context);
  const message = error instanceof Error ? error.message : '';
  if (mapped.code === 'STORE_INVALID_REQUEST' && /item size/i.test(message)) {
    return new StoreError('STORE_ITEM_TOO_LARGE', `${context}: the item would exceed 400 KB`, {
      cause: error,
    });
  }
  return mapped;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toItem(record: SessionRecord): Record<string, unknown> {
  const { sessionId, pending, conns, ...rest } = record;
  const stored: Record<string, Command> = {};
  const seqs: Record<string, number> = {};
  for (const [id, command] of Object.entries(pending)) {
    if ('seq' in command) {
      const { seq, ...plain } = command;
      seqs[id] = seq;
      stored[id] = plain;
    } else stored[id] = command;
  }
  // An empty string set cannot be stored: no connection, no attribute (ADD creates it).
  return {
    pk: sessionId,
    sk: SESSION_SK,
    ...rest,
    pending: stored,
    seqs,
    ...(conns !== undefined && conns.length > 0 ? { conns: new Set(conns) } : {}),
  };
}

/**
 * The stored item as a SessionRecord. Items are only written by this module and the command queue, so a
 * shape check suffices. Numbered commands get their number from `seqs`; a `send` written before commands
 * carried their content (a reference to a stored entry, its number inside) is marked `legacy`.
 */
export function toSession(item: Record<string, unknown> | undefined): SessionRecord | undefined {
  if (!item || typeof item.pk !== 'string' || item.sk !== SESSION_SK) return undefined;
  const {
    pk,
    sk: _sk,
    admitting: _admitting,
    seqs: rawSeqs,
    pending: rawPending,
    settled: rawSettled,
    conns: rawConns,
    ...rest
  } = item;
  const seqs = isRecord(rawSeqs) ? rawSeqs : {};
  const pending: Record<string, PendingCommand> = {};
  for (const [id, value] of Object.entries(isRecord(rawPending) ? rawPending : {})) {
    if (!isRecord(value)) continue;
    const command = value as unknown as Command & { seq?: number; entryId?: string };
    if (command.type === 'send' || command.type === 'record') {
      const seq = seqs[id] ?? command.seq;
      if (typeof seq !== 'number') continue;
      pending[id] =
        command.type === 'send' && command.entryId === undefined
          ? { ...command, entryId: id, content: [], bytes: 0, legacy: true, seq }
          : ({ ...command, seq } as PendingCommand);
    } else pending[id] = command;
  }
  return {
    ...(rest as Omit<SessionRecord, 'sessionId' | 'pending' | 'settled' | 'pendingBytes'>),
    sessionId: pk,
    context: isRecord(rest.context) ? (rest.context as Record<string, string>) : {},
    pending,
    pendingBytes: typeof rest.pendingBytes === 'number' ? rest.pendingBytes : 0,
    settled: settledOf(rawSettled),
    // A session from before the set has no `lastSeq` either: its connections are unknown here.
    ...(rawConns instanceof Set
      ? { conns: [...rawConns].filter((c): c is string => typeof c === 'string') }
      : typeof rest.lastSeq === 'number'
        ? { conns: [] }
        : {}),
  };
}

/** `settled` as stored: numbers by name, and (stored before names) `{seq, at}` by command id. */
function settledOf(raw: unknown): Record<string, number> {
  const settled: Record<string, number> = {};
  if (!isRecord(raw)) return settled;
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === 'number') settled[name] = value;
    else if (isRecord(value) && typeof value.seq === 'number') settled[name] = value.seq;
  }
  return settled;
}
