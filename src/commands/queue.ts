/**
 * The durable command queue and the transcript's allocator, both on the session item (docs/store.md).
 *
 * - **A guest send is one write** (`submitSend`): a conditional UpdateItem that admits it (the queue's
 *   count and byte bounds, "not ended", the key not used), gives it the next `sequenceId` (`lastSeq + 1`)
 *   and records the command with its whole content. The user's message and its number become durable
 *   together, and the answer can name the number at once.
 * - **The owner numbers upstream messages from the same allocator** (`record`), fenced by its epoch,
 *   staging each as a `record` command until its transcript entry is written.
 * - **The owner settles** what it carried out (`settle`): commands leave the map, a send's id stays on
 *   the item for `settleHorizonMs` (`settled.<name> = seq`, the name a short hash of the id: settledName)
 *   so that a retry's write is refused even if the retry read no marker yet (a keyed send), or is the
 *   SDK's retry of a write that was applied and answered late (any send), and so does the id of a record
 *   a drain carried out (the executor says which), so that a retried numbering that lands after the
 *   record was written and settled numbers nothing. Settlements ride on the owner's next write where they
 *   can.
 *
 * Expressions: `SET seqs.#id = lastSeq + :one, lastSeq = lastSeq + :one` gives the command and the
 * allocator the same new number in one write (the right-hand sides read the item as it was), on dynalite
 * and DynamoDB Local alike (test/store/commands.test.ts).
 */
import { withDefaults } from '../domain/options.js';
import { StoreError } from '../store/errors.js';
import { assertItemFits, itemSize } from '../store/item-size.js';
import {
  type Fence,
  fenceGuard,
  queryOwnerIndex,
  readSessionItem,
  type SessionRecord,
  toSession,
  updateSession,
} from '../store/sessions.js';
import type { StoreContext } from '../store/store-context.js';
import type { TranscriptStore } from '../store/transcript.js';
import {
  type ContextCommand,
  type EndCommand,
  type RecordCommand,
  type SendCommand,
  settledName,
  settledSeq,
  type UploadCommand,
} from './types.js';

export interface CommandQueueOptions {
  /** Commands one session may have pending; one more is refused with STORE_QUEUE_FULL. */
  readonly maxPending: number;
  /**
   * Bytes of guest sends one session may have pending (a send carries its text until the owner writes
   * it to the transcript). Keeps the item, and the cost of every write to it, well under 400 KB.
   */
  readonly maxPendingBytes: number;
  /**
   * How long a settled send's id stays on the session item. A retried keyed send reads the key's
   * marker and the session side by side; the marker is written before the send is settled, so only a
   * retry whose read came before that and whose write comes after could miss both: the key on the item
   * refuses that write. The horizon must exceed the longest gap between a handler's reads and its write
   * (the Lambda timeout is 10 s, and handlers re-read after `settleHorizonMs / 2`), and the longest the
   * SDK may retry a write (three attempts of 1.5 s in AWS, of 15 s on a local engine: src/store/client.ts).
   */
  readonly settleHorizonMs: number;
}

/**
 * Commands one write settles at most (each removes two paths and may set a key): keeps an update
 * expression well under DynamoDB's 4 KB, whatever the ids. `record` takes no more than this along.
 */
export const MAX_SETTLED_PER_WRITE = 40;

export const COMMAND_QUEUE_DEFAULTS: CommandQueueOptions = Object.freeze({
  maxPending: 100,
  maxPendingBytes: 200 * 1024,
  settleHorizonMs: 60_000,
});

/** A guest message as a Lambda (or the owner, for an uploaded file) submits it. */
export interface NewSend {
  readonly id: string;
  readonly entryId: string;
  readonly text?: string;
  readonly content: readonly unknown[];
  readonly clientMessageId?: string;
  readonly fingerprint?: string;
}

/** What became of a submitted send. */
export type SendOutcome =
  /** Queued now with its number; `session` is the item after the write (owner, control connection). */
  | {
      readonly kind: 'queued';
      readonly command: SendCommand & { readonly seq: number };
      readonly session: SessionRecord;
    }
  /** A retry: the first submission is still pending. */
  | {
      readonly kind: 'pending';
      readonly command: SendCommand & { readonly seq: number };
      readonly session: SessionRecord;
    }
  /** A retry: the first submission was settled; its entry is in the transcript at `seq`. */
  | { readonly kind: 'settled'; readonly seq: number; readonly session: SessionRecord };

/** What the owner carried out, to be removed from the item (see CommandQueue.settle). */
export interface Settlement {
  /**
   * Commands done. With `keep` (its number), the id stays on the item for `settleHorizonMs`, under its
   * name (settledName): a send, a record a drain carried out.
   */
  readonly done: readonly {
    readonly id: string;
    readonly bytes?: number;
    readonly keep?: number;
  }[];
  /** Names in `settled` past the horizon (entries stored before names: the command id). */
  readonly prune?: readonly string[];
  /** The owner's current control connection, when the item names an older one. */
  readonly ownerConn?: string;
}

/** One session's pending work, as a worker's sweep sees it (eventually consistent). */
export interface PendingWork {
  readonly sessionId: string;
  readonly epoch: number;
  readonly pendingAt: number;
  readonly commandIds: readonly string[];
}

/** Builds one UpdateItem's expression with generated placeholders (map keys are user data). */
class Expression {
  readonly set: string[] = [];
  readonly remove: string[] = [];
  readonly add: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  #n = 0;
  #touched = false;

  name(name: string): string {
    const placeholder = `#n${this.#n++}`;
    this.names[placeholder] = name;
    return placeholder;
  }

  value(value: unknown): string {
    const placeholder = `:v${this.#n++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** `updatedAt = now`, once per expression. */
  touch(now: number): void {
    if (this.#touched) return;
    this.#touched = true;
    this.set.push(`updatedAt = ${this.value(now)}`);
  }

  get empty(): boolean {
    return this.set.length === 0 && this.remove.length === 0 && this.add.length === 0;
  }

  toString(): string {
    return [
      this.set.length > 0 ? `SET ${this.set.join(', ')}` : '',
      this.remove.length > 0 ? `REMOVE ${this.remove.join(', ')}` : '',
      this.add.length > 0 ? `ADD ${this.add.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  }
}

/** Reads and writes the commands of session items. */
export class CommandQueue {
  readonly #ctx: StoreContext;
  readonly options: CommandQueueOptions;

  constructor(ctx: StoreContext, options: Partial<CommandQueueOptions> = {}) {
    this.#ctx = ctx;
    this.options = withDefaults('CommandQueue', COMMAND_QUEUE_DEFAULTS, options);
  }

  /**
   * Admits, numbers and records a guest send in one conditional write on the session item (see the file
   * header). `session` is the caller's read of it (for the allocator's presence and the id). A retry of
   * a keyed send whose command is pending or settled recently comes back as `pending` or `settled`;
   * the same key with another payload is STORE_IDEMPOTENCY_MISMATCH. STORE_QUEUE_FULL (count or bytes),
   * STORE_CONFLICT on an ended session, STORE_NOT_FOUND when absent: nothing is written by any of them.
   */
  async submitSend(session: SessionRecord, send: NewSend): Promise<SendOutcome> {
    const command = this.#sendCommand(send);
    const { sessionId } = session;
    // The caller's read may show it already: then no write is needed to find out.
    const known = this.#retryOf(session, command);
    if (known !== undefined) return known;
    for (let attempt = 1; ; attempt++) {
      const e = new Expression();
      const pend = e.name('pending');
      const id = e.name(command.id);
      const one = e.value(1);
      this.#number(e, pend, id, e.value(command), one);
      e.set.push(`pendingBytes = if_not_exists(pendingBytes, ${e.value(0)}) + ${e.value(command.bytes)}`);
      e.set.push(`pendingAt = if_not_exists(pendingAt, ${e.value(this.#ctx.now())})`);
      const room = e.value(this.options.maxPendingBytes - command.bytes);
      const condition = [
        this.#queueCondition(e, pend),
        `attribute_not_exists(${pend}.${id}) AND ${this.#notSettled(e, command.id)}`,
        // An owner running the code before names (beside this one while a deploy rolls) keeps a keyed
        // send's key under the id itself: for a minute after such a settle only this refuses a late retry.
        ...(send.clientMessageId === undefined ? [] : [`attribute_not_exists(${e.name('settled')}.${id})`]),
        // Every session item this code creates has pendingBytes, so the first attempt needs no OR: in
        // parentheses it is most of what dynalite spends on this write (its parser backtracks; see
        // docs/performance.md). An item written before pendingBytes existed loses that condition with
        // nothing else to explain it: the next attempt allows for the attribute's absence.
        attempt === 1
          ? `pendingBytes <= ${room}`
          : `(attribute_not_exists(pendingBytes) OR pendingBytes <= ${room})`,
      ].join(' AND ');
      try {
        const after = await this.#write(sessionId, 'send', e, condition, undefined);
        const numbered = after.pending[command.id];
        if (numbered?.type !== 'send')
          throw new StoreError('STORE_FAILED', 'send: not in the item after the write');
        return { kind: 'queued', command: numbered, session: after };
      } catch (error) {
        if (!isLostCondition(error)) throw error;
      }
      // Which condition failed? Re-read (the engine does not say).
      const current = await this.#liveSession(sessionId, 'send');
      const retry = this.#retryOf(current, command);
      if (retry !== undefined) return retry;
      if (Object.keys(current.pending).length >= this.options.maxPending) throw this.#full(current);
      if (current.pendingBytes + command.bytes > this.options.maxPendingBytes) {
        throw new StoreError(
          'STORE_QUEUE_FULL',
          `session ${sessionId} has ${current.pendingBytes} bytes of unsent messages (at most ${this.options.maxPendingBytes})`,
        );
      }
      // Nothing explains it: the item moved between our write and our read. Try again, a few times.
      if (attempt >= 3) {
        throw new StoreError('STORE_UNAVAILABLE', `send of session ${sessionId}: the session kept changing`);
      }
    }
  }

  /**
   * Queues a command that takes no number (context, upload, end), idempotently by id: a retried request
   * finds it pending and changes nothing (`added: false`). Same refusals as submitSend (count bound only).
   */
  async submit(
    sessionId: string,
    command: ContextCommand | UploadCommand | EndCommand,
  ): Promise<{ readonly added: boolean; readonly session: SessionRecord }> {
    assertItemFits({ command }, `command of session ${sessionId}`);
    const e = new Expression();
    const pend = e.name('pending');
    const id = e.name(command.id);
    this.#queueClauses(e, pend, id, command);
    const condition = `${this.#queueCondition(e, pend)} AND attribute_not_exists(${pend}.${id})`;
    try {
      return { added: true, session: await this.#write(sessionId, command.type, e, condition, undefined) };
    } catch (error) {
      if (!isLostCondition(error)) throw error;
    }
    const current = await this.#liveSession(sessionId, command.type);
    if (current.pending[command.id] !== undefined) return { added: false, session: current };
    throw this.#full(current);
  }

  /**
   * Stores the session's new custom attributes and queues their `context` command in one write, on the
   * condition that the context is still at `expectedRev` (optimistic: STORE_CONFLICT "changed" when
   * another update came first; re-read and merge again). The command's id is `context#<new revision>`.
   */
  async submitContext(
    session: SessionRecord,
    update: {
      readonly attributes: Readonly<Record<string, string>>;
      readonly bytes: number;
      readonly flush?: boolean;
    },
  ): Promise<{ readonly contextRev: number; readonly session: SessionRecord }> {
    const { sessionId } = session;
    const contextRev = session.contextRev + 1;
    const command: ContextCommand = {
      id: `context#${contextRev}`,
      type: 'context',
      createdAt: this.#ctx.now(),
      ...(update.flush === undefined ? {} : { flush: update.flush }),
    };
    const pendingAfter = { ...session.pending, [command.id]: command };
    assertItemFits(
      { ...session, pending: pendingAfter, context: update.attributes, contextBytes: update.bytes },
      `session ${sessionId} with its context`,
    );
    const e = new Expression();
    const pend = e.name('pending');
    e.set.push(`${e.name('context')} = ${e.value(update.attributes)}`);
    e.set.push(`contextBytes = ${e.value(update.bytes)}`, `contextRev = ${e.value(contextRev)}`);
    this.#queueClauses(e, pend, e.name(command.id), command);
    const condition = `${this.#queueCondition(e, pend)} AND contextRev = ${e.value(session.contextRev)}`;
    try {
      const after = await this.#write(sessionId, 'context', e, condition, undefined);
      return { contextRev, session: after };
    } catch (error) {
      if (!isLostCondition(error)) throw error;
      const current = toSession(await readSessionItem(this.#ctx, sessionId));
      // The revision held, so the bound is what refused it; else another update came first.
      if (current !== undefined && current.contextRev === session.contextRev) throw this.#full(current);
      throw error;
    }
  }

  /**
   * The owner numbers an upstream message and stages it as a `record` command (fenced), carrying any
   * settlement along in the same write. Returns its number, or undefined (and writes nothing) when a
   * record under the same id, the same Genesys message, is pending already or was settled within the
   * settle horizon (a retry of a write that was applied, landing after a drain wrote and settled it).
   * STORE_FENCED once another worker owns the session; STORE_CONFLICT "has ended" once it ended.
   */
  async record(
    sessionId: string,
    fence: Fence,
    record: RecordCommand,
    settlement?: Settlement,
  ): Promise<number | undefined> {
    const e = new Expression();
    const pend = e.name('pending');
    const id = e.name(record.id);
    this.#number(e, pend, id, e.value(record), e.value(1));
    e.set.push(`pendingAt = if_not_exists(pendingAt, ${e.value(this.#ctx.now())})`);
    if (settlement !== undefined) this.#settle(e, pend, settlement);
    const guard = fenceGuard(fence);
    let Attributes: Record<string, unknown> | undefined;
    try {
      ({ Attributes } = await this.#send(
        sessionId,
        'record',
        e,
        `${guard.condition} AND attribute_not_exists(${pend}.${id}) AND ${this.#notSettled(e, record.id)}`,
        fence,
        'UPDATED_NEW',
        guard,
      ));
    } catch (error) {
      if (!isLostCondition(error)) throw error;
      // A record under this id (the same Genesys message) is pending, or was settled lately: it keeps its
      // number.
      const current = toSession(await readSessionItem(this.#ctx, sessionId));
      if (
        current !== undefined &&
        (current.pending[record.id] !== undefined || settledSeq(current.settled, record.id) !== undefined)
      ) {
        return undefined;
      }
      throw error;
    }
    const seq = Attributes?.lastSeq;
    if (typeof seq !== 'number')
      throw new StoreError('STORE_FAILED', `record of session ${sessionId}: no number`);
    return seq;
  }

  /**
   * The owner turns a finished upload into the guest message that carries it: one fenced write queues the
   * send with its number and removes the upload command, so a takeover finds one or the other, never
   * both or neither. A retry finds the send pending or settled, as with submitSend.
   */
  async sendFromUpload(
    sessionId: string,
    fence: Fence,
    send: NewSend,
    uploadCommandId: string,
  ): Promise<SendOutcome> {
    const command = this.#sendCommand(send);
    const e = new Expression();
    const pend = e.name('pending');
    const id = e.name(command.id);
    this.#number(e, pend, id, e.value(command), e.value(1));
    e.set.push(`pendingBytes = if_not_exists(pendingBytes, ${e.value(0)}) + ${e.value(command.bytes)}`);
    e.remove.push(`${pend}.${e.name(uploadCommandId)}`);
    const guard = fenceGuard(fence);
    const condition = `${guard.condition} AND attribute_not_exists(${pend}.${id}) AND ${this.#notSettled(e, command.id)}`;
    try {
      const after = await this.#write(sessionId, 'upload message', e, condition, fence, guard);
      const numbered = after.pending[command.id];
      if (numbered?.type !== 'send') throw new StoreError('STORE_FAILED', 'upload message: not in the item');
      return { kind: 'queued', command: numbered, session: after };
    } catch (error) {
      if (!isLostCondition(error)) throw error;
    }
    const current = toSession(await readSessionItem(this.#ctx, sessionId));
    const retry = current && this.#retryOf(current, command);
    if (retry === undefined)
      throw new StoreError('STORE_CONFLICT', `upload message of session ${sessionId}: the session changed`);
    return retry;
  }

  /**
   * Removes what the owner carried out (fenced); see Settlement. Nothing to do: no request. More than
   * MAX_SETTLED_PER_WRITE commands take several writes (an expression is limited to 4 KB).
   */
  async settle(sessionId: string, fence: Fence, settlement: Settlement): Promise<void> {
    const { done, prune = [] } = settlement;
    for (let i = 0; i === 0 || i < done.length || i < prune.length; i += MAX_SETTLED_PER_WRITE) {
      const e = new Expression();
      this.#settle(e, e.name('pending'), {
        done: done.slice(i, i + MAX_SETTLED_PER_WRITE),
        prune: prune.slice(i, i + MAX_SETTLED_PER_WRITE),
        ...(i === 0 && settlement.ownerConn !== undefined ? { ownerConn: settlement.ownerConn } : {}),
      });
      if (!e.empty) await this.#update(sessionId, 'settlement', e, fence, 'NONE');
    }
  }

  /**
   * Takes the session out of `byOwnerPending` when nothing is pending: REMOVE pendingAt, conditioned on
   * an empty map (fenced). False when a command is pending after all (a doorbell was lost: drain it).
   */
  async clearIdle(sessionId: string, fence: Fence): Promise<boolean> {
    const e = new Expression();
    const pend = e.name('pending');
    e.remove.push('pendingAt');
    const guard = fenceGuard(fence);
    try {
      await this.#send(
        sessionId,
        'idle',
        e,
        `${guard.condition} AND size(${pend}) = ${e.value(0)}`,
        fence,
        'NONE',
        guard,
      );
      return true;
    } catch (error) {
      if (error instanceof StoreError && error.code === 'STORE_CONFLICT' && /changed/.test(error.message))
        return false;
      throw error;
    }
  }

  /**
   * A worker's pending work: one Query on `byOwnerPending` (paginated), oldest `pendingAt` first. The
   * index is sparse, so the cost is the sessions with pending work, not all owned sessions. GSI reads are
   * eventually consistent: what it lists must be confirmed by a consistent read before it is run.
   * `listPending(NO_OWNER)` lists the unowned sessions that have work.
   */
  async listPending(workerId: string): Promise<PendingWork[]> {
    const items = await queryOwnerIndex(
      this.#ctx,
      'byOwnerPending',
      workerId,
      'pk, sk, epoch, #pend, pendingAt',
      {
        '#pend': 'pending',
      },
    );
    const result: PendingWork[] = [];
    for (const item of items) {
      if (typeof item.pk !== 'string' || typeof item.pendingAt !== 'number') continue;
      const pending = item.pending;
      result.push({
        sessionId: item.pk,
        epoch: typeof item.epoch === 'number' ? item.epoch : 0,
        pendingAt: item.pendingAt,
        commandIds: typeof pending === 'object' && pending !== null ? Object.keys(pending) : [],
      });
    }
    return result;
  }

  /**
   * A session stored before the allocator existed has no `lastSeq`: it gets one from its transcript's
   * newest entry (one Query), with the maps the queue writes into, by a write conditioned on its still
   * having none. Any other session comes back as it is, with no request.
   */
  async ensureAllocator(session: SessionRecord, transcript: TranscriptStore): Promise<SessionRecord> {
    if (session.lastSeq !== undefined) return session;
    const { sessionId } = session;
    const last = await transcript.lastSeq(sessionId);
    const e = new Expression();
    const empty = e.value({});
    e.set.push(`lastSeq = ${e.value(last)}`, `seqs = if_not_exists(seqs, ${empty})`);
    e.set.push(`settled = if_not_exists(settled, ${empty})`);
    try {
      await this.#send(
        sessionId,
        'allocator',
        e,
        'attribute_exists(pk) AND attribute_not_exists(lastSeq)',
        undefined,
        'NONE',
      );
    } catch (error) {
      // Another caller did it first: fine.
      if (!(error instanceof StoreError) || error.code !== 'STORE_CONFLICT') throw error;
    }
    const current = toSession(await readSessionItem(this.#ctx, sessionId));
    if (current === undefined) throw new StoreError('STORE_NOT_FOUND', `session ${sessionId} does not exist`);
    return current;
  }

  // ---------------------------------------------------------------- expression parts

  /** `pending.<id> = command`, into the pending index, one more revision. */
  #queueClauses(e: Expression, pend: string, id: string, command: object): void {
    e.set.push(`${pend}.${id} = ${e.value(command)}`);
    e.set.push(`pendingAt = if_not_exists(pendingAt, ${e.value(this.#ctx.now())})`);
    e.touch(this.#ctx.now());
    e.add.push(`pendingRev ${e.value(1)}`);
  }

  /** The session exists, has not ended, and its queue has room for one more command. */
  #queueCondition(e: Expression, pend: string): string {
    return (
      `attribute_exists(pk) AND ${e.name('status')} <> ${e.value('ended')} ` +
      `AND size(${pend}) < ${e.value(this.options.maxPending)}`
    );
  }

  /**
   * `id` is not kept in `settled` under its name. (Entries stored before names, under the id itself, are
   * read with settledSeq until they are pruned; of the writes, only a keyed guest send checks them too.)
   */
  #notSettled(e: Expression, id: string): string {
    return `attribute_not_exists(${e.name('settled')}.${e.name(settledName(id))})`;
  }

  /** The session as it is now; STORE_NOT_FOUND, or STORE_CONFLICT "has ended". */
  async #liveSession(sessionId: string, what: string): Promise<SessionRecord> {
    const current = toSession(await readSessionItem(this.#ctx, sessionId));
    if (current === undefined) throw new StoreError('STORE_NOT_FOUND', `session ${sessionId} does not exist`);
    if (current.status === 'ended') {
      throw new StoreError('STORE_CONFLICT', `${what} of session ${sessionId}: the session has ended`);
    }
    return current;
  }

  #full(current: SessionRecord): StoreError {
    return new StoreError(
      'STORE_QUEUE_FULL',
      `session ${current.sessionId} has ${Object.keys(current.pending).length} pending commands (at most ${this.options.maxPending})`,
    );
  }

  #sendCommand(send: NewSend): SendCommand {
    const base = {
      id: send.id,
      type: 'send' as const,
      createdAt: this.#ctx.now(),
      entryId: send.entryId,
      content: send.content,
      ...(send.text === undefined ? {} : { text: send.text }),
      ...(send.clientMessageId === undefined ? {} : { clientMessageId: send.clientMessageId }),
      ...(send.fingerprint === undefined ? {} : { fingerprint: send.fingerprint }),
    };
    // The bytes include a number's worth of room: the item grows by the command and its `seqs` entry.
    return {
      ...base,
      bytes: itemSize({ [send.id]: base }) + itemSize({ [send.id]: Number.MAX_SAFE_INTEGER }),
    };
  }

  /** `pending.<id> = command`, `seqs.<id> = lastSeq + 1`, `lastSeq = lastSeq + 1`, one more revision. */
  #number(e: Expression, pend: string, id: string, command: string, one: string): void {
    e.set.push(`${pend}.${id} = ${command}`);
    e.set.push(`${e.name('seqs')}.${id} = lastSeq + ${one}`, `lastSeq = lastSeq + ${one}`);
    e.touch(this.#ctx.now());
    e.add.push(`pendingRev ${one}`);
  }

  #settle(e: Expression, pend: string, settlement: Settlement): void {
    const seqs = e.name('seqs');
    const settled = e.name('settled');
    let freed = 0;
    for (const done of settlement.done) {
      const id = e.name(done.id);
      e.remove.push(`${pend}.${id}`, `${seqs}.${id}`);
      if (done.keep !== undefined)
        e.set.push(`${settled}.${e.name(settledName(done.id))} = ${e.value(done.keep)}`);
      freed += done.bytes ?? 0;
    }
    if (freed > 0) {
      const bytes = e.value(freed);
      e.set.push(`pendingBytes = if_not_exists(pendingBytes, ${bytes}) - ${bytes}`);
    }
    for (const key of settlement.prune ?? []) e.remove.push(`${settled}.${e.name(key)}`);
    if (settlement.ownerConn !== undefined) e.set.push(`ownerConn = ${e.value(settlement.ownerConn)}`);
    if (!e.empty) e.touch(this.#ctx.now());
  }

  /** A retry of `command` as the item shows it, or undefined when the key is unused. */
  #retryOf(current: SessionRecord, command: SendCommand): SendOutcome | undefined {
    const pending = current.pending[command.id];
    if (pending?.type === 'send') {
      if (command.fingerprint !== undefined && pending.fingerprint !== command.fingerprint) throw mismatch();
      return { kind: 'pending', command: pending, session: current };
    }
    const seq = settledSeq(current.settled, command.id);
    if (seq !== undefined) return { kind: 'settled', seq, session: current };
    return undefined;
  }

  /** A fenced write with the expression alone as its change. */
  #update(
    sessionId: string,
    what: string,
    e: Expression,
    fence: Fence,
    returnValues: 'UPDATED_NEW' | 'NONE',
  ): Promise<{ Attributes?: Record<string, unknown> | undefined }> {
    const guard = fenceGuard(fence);
    return this.#send(sessionId, what, e, guard.condition, fence, returnValues, guard);
  }

  /** A write whose answer is the item after it. */
  async #write(
    sessionId: string,
    what: string,
    e: Expression,
    condition: string,
    fence: Fence | undefined,
    guard?: ReturnType<typeof fenceGuard>,
  ): Promise<SessionRecord> {
    const { Attributes } = await this.#send(sessionId, what, e, condition, fence, 'ALL_NEW', guard);
    const record = toSession(Attributes);
    if (record === undefined) {
      throw new StoreError('STORE_FAILED', `${what} of session ${sessionId}: no item returned`);
    }
    return record;
  }

  /** One UpdateItem; a lost condition is diagnosed by updateSession (not found, ended, fenced, changed). */
  #send(
    sessionId: string,
    what: string,
    e: Expression,
    condition: string,
    fence: Fence | undefined,
    returnValues: 'ALL_NEW' | 'UPDATED_NEW' | 'NONE',
    guard?: ReturnType<typeof fenceGuard>,
  ): Promise<{ Attributes?: Record<string, unknown> | undefined }> {
    const update = e.toString();
    // DynamoDB refuses placeholders the expressions do not use.
    const used = (placeholders: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(placeholders).filter(
          ([key]) => usesPlaceholder(update, key) || usesPlaceholder(condition, key),
        ),
      );
    return updateSession(this.#ctx, sessionId, what, fence, {
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: used({ ...e.names, ...(guard?.names ?? {}) }) as Record<string, string>,
      ExpressionAttributeValues: used({ ...e.values, ...(guard?.values ?? {}) }),
      ReturnValues: returnValues,
    });
  }
}

/** A condition lost to something else than the end of the session: the item is read to say what. */
function isLostCondition(error: unknown): boolean {
  return error instanceof StoreError && error.code === 'STORE_CONFLICT' && !/has ended/.test(error.message);
}

/** Whether `expression` uses `placeholder` (`#n1` must not match inside `#n12`). */
function usesPlaceholder(expression: string, placeholder: string): boolean {
  return new RegExp(`${placeholder}(?![A-Za-z0-9_])`).test(expression);
}

function mismatch(): StoreError {
  return new StoreError(
    'STORE_IDEMPOTENCY_MISMATCH',
    'send: the clientMessageId was already used for a different message',
  );
}
