/**
 * Sessions: one item per guest session (`pk = sessionId`, `sk = "session"`) holding its state, its owner
 * worker with a fencing epoch, and its pending commands (see docs/architecture.md, "Nothing is lost").
 * Lambdas write commands into `pending` (unfenced, durable first) and then ring the owner's
 * doorbell; the owner completes them under its fence; `byOwnerPending` lets a worker's sweep find all its
 * pending work with one Query. The same table holds the transcript's idempotency markers (`sk = "key#…"`):
 * they carry no `ownerId`, so neither owner index sees them, and nothing here reads or writes them.
 *
 * Every write is a single conditional UpdateItem/PutItem on the session item: no transactions (dynalite
 * does not implement them, and one item needs none). A failed condition is told apart by re-reading the
 * item (STORE_NOT_FOUND, STORE_FENCED, or the operation's own conflict) because ReturnValuesOnCondition-
 * CheckFailure is not available on every engine we test on.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChannelConstraints } from '../domain/constraints.js';
import { StoreError, toStoreError } from './errors.js';
import { assertItemFits, itemSize } from './item-size.js';
import { withDefaults } from './options.js';
import type { StoreContext } from './store-context.js';
import { WorkerStore } from './workers.js';

/** The sort key of the session item itself (the other items of a partition are the transcript's keys). */
export const SESSION_SK = 'session';

/** The owner of a session that no worker owns yet (or that its owner released). */
export const NO_OWNER = 'none';

/** Commands are small references (the text lives in the transcript, files in S3): this bounds each one. */
export const MAX_PENDING_COMMAND_BYTES = 4 * 1024;

export type SessionStatus = 'starting' | 'active' | 'readOnly' | 'ending' | 'ended';

/** The Genesys endpoints the session was opened against. */
export interface SessionEndpoint {
  readonly wsUrl: string;
  readonly apiUrl: string;
}

/** `start`: open the upstream Genesys session of a new session (written by the `connect` Lambda). */
export type PendingCommandType = 'start' | 'send' | 'context' | 'upload' | 'end';

export interface PendingUpload {
  readonly uploadId: string;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  /** The bytes travel inline (small files) rather than through the presigned upload. */
  readonly inline?: boolean;
}

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

/** A command written by a Lambda for the owning worker. Small by design: a reference, not a payload. */
export interface PendingCommand {
  /** Unique per command (the Lambda's request id or the frontend's id); the map key. */
  readonly id: string;
  readonly type: PendingCommandType;
  /** Epoch ms. */
  readonly createdAt: number;
  /** send: the transcript entry to send upstream. */
  readonly seq?: number;
  /** context: push the custom attributes upstream now rather than with the next message. */
  readonly flush?: boolean;
  readonly upload?: PendingUpload;
  /** end: why the guest ended the session. */
  readonly reason?: string;
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
  readonly region?: string;
  readonly endpoint?: SessionEndpoint;
  /** A credential (Genesys resumes a session by it): never put it in errors or logs. */
  readonly guestToken: string;
  /** The channel constraints snapshot taken when the session opened. */
  readonly constraints: ChannelConstraints;
  /** Custom attributes (flattened), their byte size as Genesys counts it, and a revision. */
  readonly context: Readonly<Record<string, string>>;
  readonly contextBytes: number;
  readonly contextRev: number;
  /** The owning worker, NO_OWNER when unowned; absent once the session has ended. */
  readonly ownerId?: string;
  readonly epoch: number;
  readonly pending: Readonly<Record<string, PendingCommand>>;
  /** Epoch ms of the oldest pending command; present iff `pending` is non-empty (sparse index key). */
  readonly pendingAt?: number;
  readonly pendingRev: number;
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
  readonly guestToken: string;
  readonly constraints: ChannelConstraints;
  readonly region?: string;
  readonly endpoint?: SessionEndpoint;
  readonly guestInfo?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, string | number | boolean>>;
  readonly context?: Readonly<Record<string, string>>;
  readonly contextBytes?: number;
}

/** What `addPending` tells the Lambda: whether it was new, and whose doorbell to ring. */
export interface AddPendingResult {
  /** False when a command with this id was already pending (a retried request): nothing changed. */
  readonly added: boolean;
  /** The owner to ring (NO_OWNER: none yet, an assigner must place the session). */
  readonly ownerId: string;
  readonly epoch: number;
  readonly pendingRev: number;
  readonly pendingCount: number;
}

/** One session's pending work, as a worker's sweep sees it. */
export interface PendingWork {
  readonly sessionId: string;
  readonly epoch: number;
  readonly pendingAt: number;
  /** Oldest first. May be empty for a moment (see `completePending`). */
  readonly commands: readonly PendingCommand[];
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
  /** Pending commands per session; one more is refused with STORE_QUEUE_FULL. */
  readonly maxPending: number;
  /** How long an ended session's item is kept before TTL may delete it. */
  readonly endedRetentionMs: number;
  /**
   * Sends of one session that may be between admission and their queued command at once
   * ({@link SessionStore.admitSend}); one more is refused with STORE_QUEUE_FULL.
   */
  readonly maxAdmitting: number;
  /** An admission not released within … (its handler died) no longer counts. */
  readonly admissionTtlMs: number;
}

const DEFAULTS: SessionStoreOptions = {
  maxPending: 100,
  endedRetentionMs: 30 * 24 * 60 * 60 * 1000,
  maxAdmitting: 16,
  admissionTtlMs: 30_000,
};

/** Why {@link SessionStore.admitSend} refused: the queue of commands, or sends being stored right now. */
export type AdmissionRefusal = 'queue' | 'admitting';

/** STORE_QUEUE_FULL from {@link SessionStore.admitSend}, saying which bound was reached. */
export class AdmissionError extends StoreError {
  override readonly name = 'AdmissionError';
  readonly refusal: AdmissionRefusal;

  constructor(refusal: AdmissionRefusal, message: string) {
    super('STORE_QUEUE_FULL', message);
    this.refusal = refusal;
  }
}

/** Reads and writes session items. */
export class SessionStore {
  readonly #ctx: StoreContext;
  readonly #options: SessionStoreOptions;
  readonly #workers: WorkerStore;

  constructor(ctx: StoreContext, options: Partial<SessionStoreOptions> = {}) {
    this.#ctx = ctx;
    this.#options = withDefaults(DEFAULTS, options, 'SessionStore');
    this.#workers = new WorkerStore(ctx);
  }

  /** Creates the session: status "starting", epoch 0, unowned. STORE_CONFLICT when the id exists. */
  async create(input: CreateSessionInput): Promise<SessionRecord> {
    const now = this.#ctx.now();
    const record: SessionRecord = {
      sessionId: input.sessionId,
      team: input.team,
      status: 'starting',
      deploymentId: input.deploymentId,
      guestToken: input.guestToken,
      constraints: input.constraints,
      context: input.context ?? {},
      contextBytes: input.contextBytes ?? 0,
      contextRev: 0,
      ownerId: NO_OWNER,
      epoch: 0,
      pending: {},
      pendingRev: 0,
      createdAt: now,
      updatedAt: now,
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
   * the same session instead of a second one: the first call stores `proposedId` under the team's key
   * (`pk = "start#<team>#<clientMessageId>"`, no ownerId: invisible to the owner indexes) and gets it
   * back; every later call gets the id stored first. The key expires with the retention of ended sessions.
   */
  async reserveStart(team: string, clientMessageId: string, proposedId: string): Promise<string> {
    const key = { pk: `start#${team}#${clientMessageId}`, sk: 'start' };
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
      throw mapError(error, 'start key');
    }
  }

  /** The session (consistent read); undefined when absent or past its TTL. */
  async get(sessionId: string): Promise<SessionRecord | undefined> {
    const item = await this.#read(sessionId);
    return item ? toSession(item) : undefined;
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
    const { condition, names, values } = guard(fence);
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
   * Replaces the custom attributes (already flattened and measured by the caller: `bytes` is Genesys'
   * count, kept so the budget check needs no recomputation). With `expectedRev`, optimistic locking:
   * STORE_CONFLICT when another write came first. Unfenced: Lambdas call it, then queue a context command.
   * Reads the item first so the size check covers the item as it will be.
   */
  async setContext(
    sessionId: string,
    attributes: Readonly<Record<string, string>>,
    bytes: number,
    options: { readonly expectedRev?: number } = {},
  ): Promise<{ readonly contextRev: number }> {
    const current = await this.#readLive(sessionId, 'context update');
    if (options.expectedRev !== undefined && current.contextRev !== options.expectedRev) {
      throw new StoreError(
        'STORE_CONFLICT',
        `context of session ${sessionId} changed (revision ${current.contextRev})`,
      );
    }
    assertItemFits(
      { ...current.item, context: attributes, contextBytes: bytes, contextRev: current.contextRev + 1 },
      `session ${sessionId} with its context`,
    );
    const { condition, names, values } = guard(undefined);
    const revCondition = options.expectedRev === undefined ? '' : ' AND contextRev = :rev';
    const updated = await this.#update(sessionId, 'context update', undefined, {
      UpdateExpression: 'SET #ctx = :ctx, contextBytes = :bytes, updatedAt = :now ADD contextRev :one',
      ConditionExpression: condition + revCondition,
      ExpressionAttributeNames: { ...names, '#ctx': 'context' },
      ExpressionAttributeValues: {
        ...values,
        ':ctx': attributes,
        ':bytes': bytes,
        ':now': this.#ctx.now(),
        ':one': 1,
        ...(options.expectedRev === undefined ? {} : { ':rev': options.expectedRev }),
      },
    });
    return { contextRev: updated.contextRev };
  }

  /** Removes every custom attribute (same rules as `setContext`). */
  clearContext(
    sessionId: string,
    options: { readonly expectedRev?: number } = {},
  ): Promise<{ readonly contextRev: number }> {
    return this.setContext(sessionId, {}, 0, options);
  }

  /**
   * Queues a command for the owning worker: durable first, unfenced (Lambdas own nothing). Idempotent on
   * `command.id`: a retried request finds its command pending and changes nothing (`added: false`).
   * The queue bound and "not ended" are part of the write's condition, so concurrent adds cannot overrun
   * them; concurrent adds do not conflict with each other (each sets its own map key). Sets `pendingAt`
   * only when absent, which puts the session into `byOwnerPending`. STORE_QUEUE_FULL at `maxPending`,
   * STORE_CONFLICT on an ended session, STORE_NOT_FOUND when absent; nothing is changed by any of them.
   * `releaseTicket`: the send admission ({@link admitSend}) is given back by the same write (when the
   * write is refused, the caller still holds it and releases it with {@link releaseSend}).
   */
  async addPending(
    sessionId: string,
    command: PendingCommand,
    options: { readonly releaseTicket?: string } = {},
  ): Promise<AddPendingResult> {
    if (command.id.length === 0) throw new StoreError('STORE_INVALID_REQUEST', 'pending command: empty id');
    const commandBytes = itemSize({ command });
    if (commandBytes > MAX_PENDING_COMMAND_BYTES) {
      throw new StoreError(
        'STORE_ITEM_TOO_LARGE',
        `pending command of session ${sessionId} needs ${commandBytes} bytes; at most ${MAX_PENDING_COMMAND_BYTES}`,
      );
    }
    const current = await this.#readLive(sessionId, 'pending command');
    const existing = this.#pendingResult(sessionId, current.record, command.id);
    if (existing) return existing;
    // The read is also what makes the size check honest: the item as it will be, not just the command.
    // Commands added concurrently after the read are bounded by MAX_PENDING_COMMAND_BYTES each, and the
    // engine's own refusal is mapped to STORE_ITEM_TOO_LARGE as the backstop.
    assertItemFits(
      { ...current.item, pending: { ...current.record.pending, [command.id]: command }, pendingAt: 0 },
      `session ${sessionId} with its pending commands`,
    );
    const now = this.#ctx.now();
    const release = options.releaseTicket;
    try {
      const { Attributes } = await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.sessions,
          Key: key(sessionId),
          UpdateExpression:
            'SET #pend.#id = :cmd, pendingAt = if_not_exists(pendingAt, :now), updatedAt = :now ADD pendingRev :one' +
            (release === undefined ? '' : ' DELETE #adm :ticket'),
          ConditionExpression:
            'attribute_exists(pk) AND #st <> :ended AND attribute_not_exists(#pend.#id) AND size(#pend) < :max',
          ExpressionAttributeNames: {
            '#pend': 'pending',
            '#id': command.id,
            '#st': 'status',
            ...(release === undefined ? {} : { '#adm': 'admitting' }),
          },
          ExpressionAttributeValues: {
            ':cmd': command,
            ':now': now,
            ':one': 1,
            ':ended': 'ended',
            ':max': this.#options.maxPending,
            ...(release === undefined ? {} : { ':ticket': new Set([release]) }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = toSession(Attributes);
      if (!record) throw new StoreError('STORE_FAILED', `pending command of session ${sessionId}: no item`);
      return {
        added: true,
        ownerId: record.ownerId ?? NO_OWNER,
        epoch: record.epoch,
        pendingRev: record.pendingRev,
        pendingCount: Object.keys(record.pending).length,
      };
    } catch (error) {
      const mapped = mapError(error, `pending command of session ${sessionId}`);
      if (mapped.code !== 'STORE_CONFLICT') throw mapped;
      // Which condition failed? Re-read (the engine does not say).
      const again = await this.#readLive(sessionId, 'pending command');
      const raced = this.#pendingResult(sessionId, again.record, command.id);
      if (raced) return raced;
      throw new StoreError('STORE_CONFLICT', `pending command of session ${sessionId}: the session changed`, {
        cause: error,
      });
    }
  }

  /**
   * Admits one guest send before its entry is appended: a ticket in the session's `admitting` string set,
   * written only while fewer than `maxAdmitting` sends are being stored and the queue has room. Appends
   * to one session contend on the next seq (each loser re-reads the tail), so the work of a burst grows
   * with the square of its size; bounding the sends in progress keeps it small, and the rest of a burst
   * is refused at the cost of one write instead of timing out. Tickets carry their expiry: one left by a
   * handler that died stops counting after `admissionTtlMs` and is removed when it is in the way.
   * Returns the ticket for {@link releaseSend}. STORE_QUEUE_FULL (with `details.refusal`) when full,
   * STORE_CONFLICT on an ended session, STORE_NOT_FOUND when absent; nothing is changed by any of them.
   */
  async admitSend(sessionId: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const now = this.#ctx.now();
      const ticket = `${now + this.#options.admissionTtlMs}:${randomUUID()}`;
      try {
        await this.#ctx.db.send(
          new UpdateCommand({
            TableName: this.#ctx.tables.sessions,
            Key: key(sessionId),
            UpdateExpression: 'ADD #adm :ticket',
            ConditionExpression:
              'attribute_exists(pk) AND #st <> :ended AND (attribute_not_exists(#adm) OR size(#adm) < :maxAdm) ' +
              'AND (attribute_not_exists(#pend) OR size(#pend) < :maxPend)',
            ExpressionAttributeNames: { '#adm': 'admitting', '#pend': 'pending', '#st': 'status' },
            ExpressionAttributeValues: {
              ':ticket': new Set([ticket]),
              ':ended': 'ended',
              ':maxAdm': this.#options.maxAdmitting,
              ':maxPend': this.#options.maxPending,
            },
          }),
        );
        return ticket;
      } catch (error) {
        const mapped = mapError(error, `send admission of session ${sessionId}`);
        if (mapped.code !== 'STORE_CONFLICT') throw mapped;
      }
      // Which condition failed? Re-read (the engine does not say).
      const { record, item } = await this.#readLive(sessionId, 'send admission');
      if (Object.keys(record.pending).length >= this.#options.maxPending) {
        throw admissionRefused(sessionId, 'queue', `${this.#options.maxPending} commands are pending`);
      }
      const expired = ticketsOf(item).filter((t) => ticketExpiry(t) <= now);
      if (expired.length === 0 || attempt > 1) {
        throw admissionRefused(
          sessionId,
          'admitting',
          `${this.#options.maxAdmitting} sends are being stored`,
        );
      }
      await this.#releaseTickets(sessionId, expired);
    }
  }

  /** Gives an admission back (its command is queued, or the send failed). Best effort by design: a
   * ticket that stays behind expires. Never throws. */
  async releaseSend(sessionId: string, ticket: string): Promise<void> {
    try {
      await this.#releaseTickets(sessionId, [ticket]);
    } catch {
      // The ticket expires after admissionTtlMs; nothing else depends on this write.
    }
  }

  async #releaseTickets(sessionId: string, tickets: readonly string[]): Promise<void> {
    try {
      await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.sessions,
          Key: key(sessionId),
          UpdateExpression: 'DELETE #adm :tickets',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#adm': 'admitting' },
          ExpressionAttributeValues: { ':tickets': new Set(tickets) },
        }),
      );
    } catch (error) {
      const mapped = mapError(error, `send admission of session ${sessionId}`);
      if (mapped.code !== 'STORE_CONFLICT') throw mapped; // gone: nothing to release
    }
  }

  /**
   * Removes completed commands (fenced: only the owner completes). Removing an id that is not pending is
   * a no-op, so a retry is harmless. When the map becomes empty, `pendingAt` is removed by a second
   * update conditioned on `size(pending) = 0` and the `pendingRev` the first update saw: a command added
   * in between keeps `pendingAt` (so the session stays in `byOwnerPending` and is never lost). Should
   * that second write not happen (a crash between the two), `pendingAt` outlives an empty map: the sweep
   * then lists the session with no commands, and `completePending(id, [], fence)` clears it.
   */
  async completePending(
    sessionId: string,
    commandIds: readonly string[],
    fence: Fence,
  ): Promise<{ readonly remaining: number }> {
    let record: SessionRecord;
    if (commandIds.length > 0) {
      const names: Record<string, string> = {};
      const removes = commandIds.map((id, index) => {
        names[`#c${index}`] = id;
        return `#pend.#c${index}`;
      });
      const { condition, names: guardNames, values } = guard(fence);
      record = await this.#update(sessionId, 'completion', fence, {
        UpdateExpression: `REMOVE ${removes.join(', ')} SET updatedAt = :now`,
        ConditionExpression: condition,
        ExpressionAttributeNames: { ...guardNames, ...names, '#pend': 'pending' },
        ExpressionAttributeValues: { ...values, ':now': this.#ctx.now() },
      });
    } else {
      const item = await this.#read(sessionId);
      const current = item && toSession(item);
      if (!current) throw notFound(sessionId);
      if (current.ownerId !== fence.workerId || current.epoch !== fence.epoch) throw fenced(sessionId);
      record = current;
    }
    const remaining = Object.keys(record.pending).length;
    if (remaining === 0 && record.pendingAt !== undefined) {
      const { condition, names, values } = guard(fence);
      try {
        await this.#ctx.db.send(
          new UpdateCommand({
            TableName: this.#ctx.tables.sessions,
            Key: key(sessionId),
            UpdateExpression: 'REMOVE pendingAt',
            ConditionExpression: `${condition} AND size(#pend) = :zero AND pendingRev = :rev`,
            ExpressionAttributeNames: { ...names, '#pend': 'pending' },
            ExpressionAttributeValues: { ...values, ':zero': 0, ':rev': record.pendingRev },
          }),
        );
      } catch (error) {
        const mapped = mapError(error, `completion of session ${sessionId}`);
        // A lost condition here means a command arrived (or the session moved on): pendingAt must stay.
        if (mapped.code !== 'STORE_CONFLICT') throw mapped;
      }
    }
    return { remaining };
  }

  /**
   * A worker's pending work: one Query on `byOwnerPending` (ownerId = workerId), paginated internally,
   * oldest `pendingAt` first. The index is sparse (only items with `pendingAt`) so the cost is the
   * sessions with pending work, not all owned sessions. GSI reads are eventually consistent: a command
   * added a moment ago may be missing; the doorbell or the next sweep delivers it. `listPending(NO_OWNER)`
   * lists the unowned sessions that have work: what an assigner must place.
   */
  async listPending(workerId: string): Promise<PendingWork[]> {
    const items = await this.#queryOwner('byOwnerPending', workerId, 'pk, sk, epoch, #pend, pendingAt', {
      '#pend': 'pending',
    });
    const result: PendingWork[] = [];
    for (const item of items) {
      if (typeof item.pk !== 'string' || typeof item.pendingAt !== 'number') continue;
      const pending = isRecord(item.pending) ? (item.pending as Record<string, PendingCommand>) : {};
      result.push({
        sessionId: item.pk,
        epoch: typeof item.epoch === 'number' ? item.epoch : 0,
        pendingAt: item.pendingAt,
        commands: Object.values(pending).sort(
          (a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
        ),
      });
    }
    return result;
  }

  /**
   * The sessions a worker owns: one Query on `byOwner` (paginated). Ended sessions carry no `ownerId`,
   * so they are not listed. Eventually consistent, like every GSI read.
   */
  async listOwned(workerId: string): Promise<OwnedSession[]> {
    const items = await this.#queryOwner('byOwner', workerId, 'pk, sk, epoch, #st, pendingAt', {
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
   * The new owner must drain `pending` before anything else (docs/architecture.md).
   */
  async claim(
    sessionId: string,
    workerId: string,
    options: { readonly staleAfterMs: number },
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
          UpdateExpression: 'SET ownerId = :me, epoch = :next, updatedAt = :now',
          ConditionExpression: 'ownerId = :old AND epoch = :e',
          ExpressionAttributeValues: {
            ':me': workerId,
            ':next': epoch,
            ':now': this.#ctx.now(),
            ':old': current.ownerId,
            ':e': current.epoch,
          },
        }),
      );
      return { epoch, claimed: true };
    } catch (error) {
      const mapped = mapError(error, `claim of session ${sessionId}`);
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
    const { condition, names, values } = guard(fence);
    await this.#update(sessionId, 'release', fence, {
      UpdateExpression: 'SET ownerId = :none, updatedAt = :now',
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ...values, ':none': NO_OWNER, ':now': this.#ctx.now() },
    });
  }

  /**
   * Ends the session: status "ended", `endedAt`, `expiresAt` (TTL, `endedRetentionMs` ahead), and REMOVE
   * `ownerId` and `pendingAt`, so it leaves both owner indexes (commands still pending stay in the map as
   * a record, but no worker will act on them). Fenced when `fence` is given. Idempotent: ending an ended
   * session returns it unchanged.
   */
  async end(sessionId: string, reason: string, fence?: Fence): Promise<SessionRecord> {
    const now = this.#ctx.now();
    const { condition, names, values } = guard(fence);
    try {
      return await this.#update(sessionId, 'end', fence, {
        UpdateExpression:
          'SET #st = :ended, endedAt = :now, endReason = :reason, updatedAt = :now, #exp = :exp REMOVE ownerId, pendingAt',
        ConditionExpression: condition,
        ExpressionAttributeNames: { ...names, '#exp': 'expiresAt' },
        ExpressionAttributeValues: {
          ...values,
          ':now': now,
          ':reason': reason,
          ':exp': Math.ceil((now + this.#options.endedRetentionMs) / 1000),
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
      const mapped = mapError(error, what);
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
      throw mapError(error, `read of upload ${uploadId} of session ${sessionId}`);
    }
  }

  /** Consistent read of the raw session item; undefined when absent or past its TTL. */
  async #read(sessionId: string): Promise<Record<string, unknown> | undefined> {
    try {
      const { Item } = await this.#ctx.db.send(
        new GetCommand({ TableName: this.#ctx.tables.sessions, Key: key(sessionId), ConsistentRead: true }),
      );
      if (!Item) return undefined;
      // TTL deletion lags by up to days: an expired item is gone as far as readers are concerned.
      if (typeof Item.expiresAt === 'number' && Item.expiresAt * 1000 <= this.#ctx.now()) return undefined;
      return Item;
    } catch (error) {
      throw mapError(error, `read of session ${sessionId}`);
    }
  }

  /** Reads a session that must exist and not have ended (STORE_NOT_FOUND / STORE_CONFLICT otherwise). */
  async #readLive(
    sessionId: string,
    what: string,
  ): Promise<{ item: Record<string, unknown>; record: SessionRecord; contextRev: number }> {
    const item = await this.#read(sessionId);
    const record = item && toSession(item);
    if (!item || !record) throw notFound(sessionId);
    if (record.status === 'ended')
      throw new StoreError('STORE_CONFLICT', `${what}: session ${sessionId} has ended`);
    return { item, record, contextRev: record.contextRev };
  }

  /** Idempotent / refusal outcomes of addPending decided from a read; undefined means "go ahead". */
  #pendingResult(sessionId: string, record: SessionRecord, commandId: string): AddPendingResult | undefined {
    const count = Object.keys(record.pending).length;
    if (record.pending[commandId]) {
      return {
        added: false,
        ownerId: record.ownerId ?? NO_OWNER,
        epoch: record.epoch,
        pendingRev: record.pendingRev,
        pendingCount: count,
      };
    }
    if (count >= this.#options.maxPending) {
      throw new StoreError(
        'STORE_QUEUE_FULL',
        `session ${sessionId} has ${count} pending commands (at most ${this.#options.maxPending})`,
      );
    }
    return undefined;
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
    input: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): Promise<SessionRecord> {
    try {
      const { Attributes } = await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.sessions,
          Key: key(sessionId),
          UpdateExpression: input.UpdateExpression,
          ConditionExpression: input.ConditionExpression,
          ExpressionAttributeValues: input.ExpressionAttributeValues,
          // DynamoDB refuses an empty ExpressionAttributeNames map.
          ...(input.ExpressionAttributeNames && Object.keys(input.ExpressionAttributeNames).length > 0
            ? { ExpressionAttributeNames: input.ExpressionAttributeNames }
            : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = toSession(Attributes);
      if (!record) throw new StoreError('STORE_FAILED', `${what} of session ${sessionId}: no item returned`);
      return record;
    } catch (error) {
      const mapped = mapError(error, `${what} of session ${sessionId}`);
      if (mapped.code !== 'STORE_CONFLICT') throw mapped;
      const item = await this.#read(sessionId);
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

  async #queryOwner(
    index: 'byOwner' | 'byOwnerPending',
    ownerId: string,
    projection: string,
    names: Record<string, string>,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.#ctx.db.send(
          new QueryCommand({
            TableName: this.#ctx.tables.sessions,
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
      throw mapError(error, `${index} query for ${ownerId}`);
    }
    return items;
  }
}

function key(sessionId: string): { pk: string; sk: string } {
  return { pk: sessionId, sk: SESSION_SK };
}

/** The base condition of every update: the item exists and has not ended, plus the fence when given. */
function guard(fence: Fence | undefined): {
  condition: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  const base = 'attribute_exists(pk) AND #st <> :ended';
  if (!fence) return { condition: base, names: { '#st': 'status' }, values: { ':ended': 'ended' } };
  return {
    condition: `${base} AND ownerId = :fw AND epoch = :fe`,
    names: { '#st': 'status' },
    values: { ':ended': 'ended', ':fw': fence.workerId, ':fe': fence.epoch },
  };
}

function notFound(sessionId: string, cause?: unknown): StoreError {
  return new StoreError(
    'STORE_NOT_FOUND',
    `session ${sessionId} does not exist`,
    cause === undefined ? {} : { cause },
  );
}

function fenced(sessionId: string, cause?: unknown): StoreError {
  return new StoreError(
    'STORE_FENCED',
    `session ${sessionId} is owned by another worker or epoch now`,
    cause === undefined ? {} : { cause },
  );
}

/** toStoreError, plus the engine's own item-size refusal (the backstop behind assertItemFits). */
function mapError(error: unknown, context: string): StoreError {
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
  const { sessionId, ...rest } = record;
  return { pk: sessionId, sk: SESSION_SK, ...rest };
}

/** The stored item as a SessionRecord. Items are only written by this class, so a shape check suffices. */
function toSession(item: Record<string, unknown> | undefined): SessionRecord | undefined {
  if (!item || typeof item.pk !== 'string' || item.sk !== SESSION_SK) return undefined;
  const { pk, sk: _sk, admitting: _admitting, ...rest } = item;
  return {
    ...(rest as Omit<SessionRecord, 'sessionId'>),
    sessionId: pk,
    context: isRecord(rest.context) ? (rest.context as Record<string, string>) : {},
    pending: isRecord(rest.pending) ? (rest.pending as Record<string, PendingCommand>) : {},
  };
}

/** The admission tickets on a session item (a string set, read back as a Set). */
function ticketsOf(item: Record<string, unknown>): string[] {
  const tickets = item.admitting;
  return tickets instanceof Set ? [...tickets].filter((t): t is string => typeof t === 'string') : [];
}

/** A ticket is `<expiry epoch ms>:<uuid>`; an unparseable one counts as expired. */
function ticketExpiry(ticket: string): number {
  const expiry = Number(ticket.slice(0, ticket.indexOf(':')));
  return Number.isFinite(expiry) ? expiry : 0;
}

function admissionRefused(sessionId: string, refusal: AdmissionRefusal, why: string): AdmissionError {
  return new AdmissionError(refusal, `session ${sessionId}: ${why} (send not admitted)`);
}
