/**
 * The owner's side of the command path: what a worker does with one session's commands, and how it
 * writes that session's transcript (DESIGN §2; docs/store.md proves the argument).
 *
 * - **Commands start one after the other** in the session's order (orderCommands) and finish side by
 *   side: a send is in GuestSession's queue before the next command starts, so Genesys receives the
 *   guest's messages in transcript order, and its echo is awaited without blocking the others.
 * - **Doorbells carry the commands.** A doorbell whose list of pending ids holds nothing unknown is run
 *   as it came; otherwise the runner reads the session item and `drain`s it.
 * - **The owner writes the transcript.** A send's entry is written once Genesys echoed (or refused) it;
 *   an upstream message is numbered on the session item first (`record`: one write before it is posted)
 *   and its entry written right after. A command leaves the item only after its entry is written and its
 *   event posted (a `settle`), and settlements ride on the next write to the item where they can.
 * - **After a takeover**, commands created before the runner opened may have been carried out already:
 *   a send's entry is looked up before it is sent, and sends are reconciled with Genesys' history
 *   (`maybeSent`).
 *
 * Every write and post goes through the host (the SessionRunner): it waits for the worker's lease and
 * refuses once the runner has closed. Fenced writes fail with STORE_FENCED once another worker claimed
 * the session; the host then closes without writing anything more.
 */
import { randomUUID } from 'node:crypto';
import { BoundedMap } from '../domain/bounded-map.js';
import { contextByteSize } from '../domain/context.js';
import { withDefaults } from '../domain/options.js';
import type { GuestSession, SendOptions, SendResult, UploadResult } from '../genesys/client/index.js';
import { uploadHeaders } from '../genesys/client/index.js';
import { GenesysError } from '../genesys/errors.js';
import type { ButtonResponseType } from '../genesys/requests.js';
import type { ContentItem, ServerEvent } from '../protocol/index.js';
import { StoreError } from '../store/errors.js';
import { type Fence, isEndedConflict, type SessionRecord, type SessionStore } from '../store/sessions.js';
import type { EntryFailure, TranscriptEntry, TranscriptStore } from '../store/transcript.js';
import type { TranscriptWriter } from '../store/transcript-writer.js';
import { messageEvent, statusEvent } from './events.js';
import { type CommandQueue, MAX_SETTLED_PER_WRITE, type Settlement } from './queue.js';
import { entryOf } from './reader.js';
import { Settlements } from './settlements.js';
import {
  type ContextCommand,
  type EndCommand,
  isNumbered,
  type NumberedCommand,
  orderCommands,
  type PendingCommand,
  type RecordCommand,
  type RecordDirection,
  type SendCommand,
  sendCommandId,
  type UploadCommand,
} from './types.js';

/** Thrown (and swallowed) when the runner closed while a command was under way. */
export class RunnerClosed extends Error {
  override readonly name = 'RunnerClosed';
}

/** Why a Genesys call failed, in protocol terms (the worker's failures.ts). */
export type FailureOf = (error: unknown, what: 'send' | 'upload' | 'context') => EntryFailure;

/** What the executor needs of the runner that owns the session. */
export interface ExecutorHost {
  readonly sessionId: string;
  readonly fence: Fence;
  readonly sessions: SessionStore;
  readonly transcript: TranscriptStore;
  /** The worker's grouped writes of entries and key markers. */
  readonly entries: TranscriptWriter;
  readonly queue: CommandQueue;
  /** The upstream session; throws RunnerClosed once closed. */
  guest(): GuestSession;
  /** A store write gated by the worker's lease; rejects with RunnerClosed once closed. */
  write<T>(action: () => Promise<T>): Promise<T>;
  /** Posts an event to the session's frontends, after every event posted before it. */
  post(event: ServerEvent): Promise<void>;
  /**
   * Posts an event to one connection of the session only, after every event posted before it; false
   * when that connection is gone or the post could not be made (a post the gateway failed otherwise is
   * logged and counts as delivered, as in `post`).
   */
  postTo(connectionId: string, event: ServerEvent): Promise<boolean>;
  /** The worker's control connection now (recorded on the item so doorbells need no lookup). */
  controlConnectionId(): string | undefined;
  readonly closed: boolean;
  /** Resolves once Genesys answered the first SessionResponse. */
  ready(): Promise<void>;
  /**
   * True once the upstream session is ready again (a new SessionResponse); false once the runner gives
   * up on it (declared unavailable to the frontends, closed) or after its own bound.
   */
  nextReady(): Promise<boolean>;
  /** A fenced write failed, the session ended, or something else went wrong: the runner decides. */
  onFailure(error: unknown, context: string): void;
  /** The session ended (the end command, or Genesys): the runner stops. */
  ended(): Promise<void>;
  readonly failureOf: FailureOf;
  readonly log: {
    warn(message: string, fields?: Record<string, unknown>): void;
    error(message: string, fields?: Record<string, unknown>): void;
  };
  readonly now: () => number;
  readonly counters: ExecutorCounters;
}

export interface ExecutorCounters {
  writes: number;
  upstreamSends: number;
  appended: number;
  duplicatesDropped: number;
}

export interface ExecutorOptions {
  /**
   * How long a settlement waits for another write to ride on before it is written alone: between half
   * and one and a half times this, at random, so that sessions busy at the same moment do not all
   * write at the same moment later.
   */
  readonly settleDelayMs: number;
  /** With nothing pending for this long (again ± half, at random), the session leaves `byOwnerPending`. */
  readonly idleAfterMs: number;
  /** Ids remembered per session: Genesys ids (de-duplication, receipts) and settled commands. */
  readonly rememberIds: number;
  /** A number in [0, 1) (the jitter above); injected by tests. */
  readonly random: () => number;
}

export const EXECUTOR_DEFAULTS: ExecutorOptions = Object.freeze({
  settleDelayMs: 1_000,
  idleAfterMs: 2_000,
  rememberIds: 512,
  random: Math.random,
});

/** An upload tries this many times, waiting for the upstream session to come back between tries. */
const RECONNECT_RETRIES = 3;

/** An upstream message to number and record. */
export interface UpstreamMessage {
  readonly direction: RecordDirection;
  readonly text?: string;
  readonly content: readonly unknown[];
  readonly sender?: RecordCommand['sender'];
  readonly genesysId?: string;
  readonly time?: string;
}

export class CommandExecutor {
  readonly #host: ExecutorHost;
  readonly #options: ExecutorOptions;
  /** Commands pending on the item that this runner knows of (running, or done and not settled yet). */
  readonly #known = new Map<string, PendingCommand>();
  /** Command ids being worked on: a doorbell and a drain must not start one twice. */
  readonly #inProgress = new Set<string>();
  /** Commands done here (settled or about to be): a late doorbell must not start them again. */
  readonly #done: BoundedMap<string, true>;
  /** Genesys ids recorded or known stored: upstream messages are numbered once. */
  readonly #genesysIds: BoundedMap<string, true>;
  /** Genesys id → number of guest entries: receipts name the Genesys id. */
  readonly #guestSeqs: BoundedMap<string, number>;
  /** Transcript writes in flight, by number (a receipt waits for its entry). */
  readonly #entryWrites = new Map<number, Promise<void>>();
  /** Commands start one after the other. */
  #dispatch: Promise<void> = Promise.resolve();
  /** Sends whose outcome is not written yet. */
  readonly #sending = new Set<Promise<void>>();
  #settleTimer: ReturnType<typeof setTimeout> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * What rides on the next write to the item (commands carried out), and what the item keeps in `settled`
   * (sends, records a drain carried out) with when each name may go.
   */
  readonly #settlements: Settlements;
  /** The control connection the item names (as far as this runner knows). */
  #ownerConn: string | undefined;
  /** Commands created before this time, on a takeover, may have been carried out already. */
  #openedAt = 0;
  #takenOver = false;
  /** A context command without flush is applied with the next message: say so when it goes. */
  #contextAwaitingMessage = false;

  constructor(host: ExecutorHost, options: Partial<ExecutorOptions> = {}) {
    this.#host = host;
    this.#options = withDefaults('CommandExecutor', EXECUTOR_DEFAULTS, options);
    this.#done = new BoundedMap(this.#options.rememberIds);
    this.#genesysIds = new BoundedMap(this.#options.rememberIds);
    this.#guestSeqs = new BoundedMap(this.#options.rememberIds);
    this.#settlements = new Settlements(host.queue.options.settleHorizonMs);
  }

  /** Sends whose outcome is not written yet (the end command waits for them). */
  get sending(): readonly Promise<void>[] {
    return [...this.#sending];
  }

  /**
   * The session as the runner opened it. On a takeover (`takenOver`), commands created before now may
   * have been carried out by the previous owner; `stored` are the newest entries it had written (their
   * Genesys ids are not numbered again, and receipts can find the guest's).
   */
  open(
    session: SessionRecord,
    options: { readonly takenOver: boolean; readonly stored: readonly TranscriptEntry[] },
  ): void {
    this.#openedAt = this.#host.now();
    this.#takenOver = options.takenOver;
    this.#ownerConn = session.ownerConn;
    this.#settlements.found(Object.keys(session.settled), this.#host.now());
    for (const entry of options.stored) this.#learn(entry);
    for (const command of Object.values(session.pending)) {
      if (command.type === 'record') this.#learn(entryOf(session.sessionId, command));
    }
    this.drain(session);
  }

  /**
   * A doorbell's commands: started at once when every command it says is pending is known here or came
   * with it. Otherwise nothing starts and the answer is false: a doorbell before it was lost (or is late),
   * and the caller reads the session item and drains it, so that the earlier command starts first.
   */
  accept(commands: readonly PendingCommand[], pendingIds: readonly string[]): boolean {
    const arrived = new Set(commands.map((command) => command.id));
    const unknown = pendingIds.some((id) => !arrived.has(id) && !this.#known.has(id) && !this.#done.has(id));
    if (unknown) return false;
    for (const command of orderCommands(commands)) this.#start(command);
    return true;
  }

  /** Whether every one of `ids` is under way here or done (settled or about to be). */
  knows(ids: readonly string[]): boolean {
    return ids.every((id) => this.#known.has(id) || this.#done.has(id));
  }

  /** Starts every pending command of a consistent read of the session item that is not under way. */
  drain(session: SessionRecord): void {
    this.#settlements.found(Object.keys(session.settled), this.#host.now());
    for (const command of orderCommands(Object.values(session.pending))) this.#start(command);
    if (Object.keys(session.pending).length === 0 && session.pendingAt !== undefined) this.#scheduleIdle(0);
  }

  /**
   * Numbers an upstream message and records it: one write to the session item (carrying any settlement);
   * then its `message` event is posted and its entry written, side by side. Returns the entry, or
   * undefined for a message already numbered (a duplicate by Genesys id). Call it for one message at a
   * time, in the order they are to be numbered: the events are posted in that order.
   */
  async record(message: UpstreamMessage): Promise<TranscriptEntry | undefined> {
    const host = this.#host;
    if (message.genesysId !== undefined && this.#genesysIds.has(message.genesysId)) {
      host.counters.duplicatesDropped++;
      return undefined;
    }
    const now = host.now();
    const command: RecordCommand = {
      id: `r#${message.genesysId ?? randomUUID()}`,
      type: 'record',
      createdAt: now,
      entryId: randomUUID(),
      direction: message.direction,
      content: message.content,
      time: message.time ?? new Date(now).toISOString(),
      ...(message.text === undefined ? {} : { text: message.text }),
      ...(message.sender === undefined ? {} : { sender: message.sender }),
      ...(message.genesysId === undefined ? {} : { genesysId: message.genesysId }),
    };
    const settlement = this.#takeSettlement();
    let seq: number | undefined;
    try {
      seq = await host.write(() => host.queue.record(host.sessionId, host.fence, command, settlement));
    } catch (error) {
      this.#settlements.restore(settlement);
      throw error;
    }
    if (seq === undefined) {
      // Numbered already and still on the item (a drain runs it): nothing was written.
      this.#settlements.restore(settlement);
      host.counters.duplicatesDropped++;
      return undefined;
    }
    this.#afterSettled(settlement);
    if (message.genesysId !== undefined) this.#genesysIds.set(message.genesysId, true);
    host.counters.appended++;
    const numbered: NumberedCommand = { ...command, seq };
    this.#known.set(command.id, numbered);
    const entry = entryOf(host.sessionId, numbered) as TranscriptEntry;
    this.#inProgress.add(command.id);
    this.#cancelIdle();
    // Numbered and durable on the item: the frontends get it first, the table right after. Its id does
    // not stay on the item once settled: the numbering write has answered, so no retry of it can follow
    // (a drain that settles a record keeps the id: #runRecord).
    const posted = host.post(messageEvent(entry));
    this.#writeEntry(entry, posted, { after: posted })
      .then(() => this.#finish(command.id))
      .catch((error) => {
        this.#dropFailed(command.id);
        host.onFailure(error, 'record');
      });
    return entry;
  }

  /** An Inbound echo no send of ours waits for: an earlier owner's send, settled here. */
  async foreignEcho(tracingId: string, genesysId: string): Promise<void> {
    const command = [...this.#known.values()].find(
      (c): c is SendCommand & { seq: number } => c.type === 'send' && c.entryId === tracingId,
    );
    if (command === undefined || this.#inProgress.has(command.id)) return;
    this.#inProgress.add(command.id);
    try {
      await this.#settleSend(command, { ok: true, genesysId });
    } finally {
      this.#inProgress.delete(command.id);
    }
  }

  /** A delivery or read receipt for a guest message (by its Genesys id). */
  async receipt(genesysId: string, status: 'delivered' | 'read'): Promise<void> {
    const host = this.#host;
    const seq = this.#guestSeqs.get(genesysId);
    if (seq === undefined) return;
    await this.#entryWrites.get(seq)?.catch(() => {});
    const updated = await host
      .write(() => host.transcript.updateStatus(host.sessionId, seq, { to: status }))
      .catch((e) => settledElsewhere(e));
    if (updated === undefined) return;
    await host.post({ type: 'readReceipt', sessionId: host.sessionId, sequenceId: updated.seq, status });
  }

  /**
   * Ends the session on the item: every numbered command still pending is written to the transcript
   * first (a send as failed, with `failure`: by default `session_ended`; the error that ended the session
   * when there is one), and the frontends get its `status`; then the end write, conditioned on no command
   * having come in since (else again). Nothing numbered is left only on an item that no owner will look
   * at again.
   */
  async finishEnd(
    reason: string,
    failure: { readonly code: string; readonly message: string } = {
      code: 'session_ended',
      message: 'The session ended before the message was sent.',
    },
  ): Promise<void> {
    const host = this.#host;
    await this.flush();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const session = await host.sessions.get(host.sessionId);
      if (session === undefined || session.status === 'ended') return;
      const numbered = Object.values(session.pending).filter(isNumbered);
      await Promise.all(
        numbered.map(async (command) => {
          const entry = entryOf(host.sessionId, command);
          if (entry === undefined) return;
          const final: TranscriptEntry =
            command.type === 'send'
              ? {
                  ...entry,
                  status: 'failed',
                  failure: { code: failure.code, message: failure.message },
                }
              : entry;
          // A send written already (sent or failed) is not pending any more: only unsent ones get here
          // unwritten, and rewriting a written record is the same record.
          const written =
            command.type === 'send' ? await host.transcript.get(host.sessionId, command.seq) : undefined;
          if (written !== undefined) return;
          await this.#writeEntry(final);
          // The frontends showed it as pending: they are told it failed, and why, not left waiting.
          if (final.status === 'failed') await host.post(statusEvent(final));
        }),
      );
      try {
        await host.write(() =>
          host.sessions.end(host.sessionId, reason, host.fence, { writtenRev: session.pendingRev }),
        );
        return;
      } catch (error) {
        if (isEndedConflict(error)) return;
        if (!(error instanceof StoreError && error.code === 'STORE_CONFLICT')) throw error;
        // A command came in meanwhile: write it too.
      }
    }
    // Still racing after five rounds: end it and leave the commands on the item, where readers see them.
    await host.write(() => host.sessions.end(host.sessionId, reason, host.fence));
  }

  /** Writes what is waiting to be settled now (before the runner stops or releases the session). */
  async flush(): Promise<void> {
    clearTimeout(this.#settleTimer);
    this.#settleTimer = undefined;
    const settlement = this.#takeSettlement();
    if (settlement === undefined) return;
    const host = this.#host;
    try {
      await host.write(() => host.queue.settle(host.sessionId, host.fence, settlement));
      this.#afterSettled(settlement);
    } catch (error) {
      this.#settlements.restore(settlement);
      throw error;
    }
  }

  /**
   * A sweep lists the session with nothing pending: it stays in `byOwnerPending` until an idle clear, and
   * busy sessions are listed so between two messages. Nothing to read: with work under way, its
   * settlement plans the idle clear; with one planned, nothing more. Otherwise it is planned now (a write
   * conditioned on an empty map, which drains the item if it finds work after all). Reading the item
   * here instead cost one GetItem per listed session each sweep, all at once (docs/performance.md).
   */
  listedWithNothingPending(): void {
    if (this.#host.closed || this.#underWay || this.#idleTimer !== undefined) return;
    this.#scheduleIdle(0);
  }

  /** Stops the timers (the runner closed). */
  stop(): void {
    clearTimeout(this.#settleTimer);
    this.#cancelIdle();
  }

  // ---------------------------------------------------------------- dispatch

  #start(command: PendingCommand): void {
    const host = this.#host;
    if (host.closed || this.#inProgress.has(command.id) || this.#done.has(command.id)) return;
    this.#known.set(command.id, command);
    this.#inProgress.add(command.id);
    this.#cancelIdle();
    this.#dispatch = this.#dispatch.then(
      () =>
        new Promise<void>((started) => {
          const running = this.#run(command, started).catch((error) => {
            this.#dropFailed(command.id);
            host.onFailure(error, `command ${command.type}`);
          });
          if (command.type === 'send') this.#sending.add(running);
          void running.finally(() => {
            this.#sending.delete(running);
            started();
          });
        }),
    );
  }

  async #run(command: PendingCommand, started: () => void): Promise<void> {
    switch (command.type) {
      case 'start':
        started();
        await this.#host.ready();
        return this.#finish(command.id);
      case 'send':
        return this.#runSend(command, started);
      case 'record':
        started();
        return this.#runRecord(command);
      case 'context':
        return this.#runContext(command, started);
      case 'upload':
        started();
        return this.#runUpload(command);
      case 'end':
        started();
        return this.#runEnd(command);
    }
  }

  /**
   * A command whose run failed stays pending on the item, and is forgotten here: the next doorbell that
   * lists it (or a sweep) then reads the item and starts it again, before the commands after it. Were it
   * still known, those doorbells would start the later commands at once, and the guest's messages would
   * reach Genesys out of order.
   */
  #dropFailed(id: string): void {
    this.#inProgress.delete(id);
    this.#known.delete(id);
  }

  /** A command created before this runner opened a session another worker held may have been run. */
  #maybeDone(command: PendingCommand): boolean {
    return this.#takenOver && command.createdAt <= this.#openedAt;
  }

  async #runSend(command: SendCommand & { seq: number }, started: () => void): Promise<void> {
    const host = this.#host;
    let message: { readonly text?: string; readonly content: readonly unknown[] } = command;
    if (command.legacy === true || this.#maybeDone(command)) {
      // Its entry may be written already: an earlier owner may have settled it and died before removing
      // the command. (A legacy command names an entry written before commands carried their content.)
      const written = await host.transcript.get(host.sessionId, command.seq);
      if (
        (written !== undefined && written.status !== 'pending') ||
        (command.legacy === true && written === undefined)
      ) {
        started();
        this.#learn(written);
        return this.#finish(command.id, command.seq);
      }
      if (written !== undefined) message = written;
    }
    const guest = host.guest();
    let outcome: { ok: true; genesysId: string } | { ok: false; error: unknown };
    try {
      host.counters.upstreamSends++;
      const sending: Promise<SendResult> = guest.send(
        sendOptionsOf(message, command.entryId, this.#maybeDone(command)),
      );
      started();
      outcome = { ok: true, genesysId: (await sending).genesysId };
    } catch (error) {
      started();
      outcome = { ok: false, error };
    }
    if (host.closed) throw new RunnerClosed();
    if (!outcome.ok) {
      const { error } = outcome;
      if (
        error instanceof GenesysError &&
        (error.code === 'GENESYS_CLOSED' || error.code === 'GENESYS_QUEUE_FULL')
      ) {
        // Our own close, or too much at once: it stays pending for the next attempt (or owner).
        throw new RunnerClosed();
      }
    }
    await this.#settleSend(command, outcome);
  }

  /** Writes a send's outcome (its entry, its key's marker), posts its status, and settles it. */
  async #settleSend(
    command: SendCommand & { seq: number },
    outcome: { ok: true; genesysId: string } | { ok: false; error: unknown },
  ): Promise<void> {
    const host = this.#host;
    let entry: TranscriptEntry;
    if (command.legacy === true) {
      const update = outcome.ok
        ? { to: 'sent' as const, from: ['pending' as const], genesysId: outcome.genesysId }
        : {
            to: 'failed' as const,
            from: ['pending' as const],
            failure: host.failureOf(outcome.error, 'send'),
          };
      const updated = await host
        .write(() => host.transcript.updateStatus(host.sessionId, command.seq, update))
        .catch((e) => settledElsewhere(e));
      if (updated === undefined) return this.#finish(command.id);
      entry = updated;
    } else {
      const base = entryOf(host.sessionId, command) as TranscriptEntry;
      entry = outcome.ok
        ? { ...base, status: 'sent', genesysId: outcome.genesysId, storedAt: host.now() }
        : { ...base, status: 'failed', failure: host.failureOf(outcome.error, 'send'), storedAt: host.now() };
      const key = command.clientMessageId;
      const fingerprint = command.fingerprint;
      // The entry and its key's marker usually travel in one request (TranscriptWriter).
      await Promise.all([
        this.#writeEntry(entry),
        key === undefined || fingerprint === undefined
          ? undefined
          : host.write(() => host.entries.putKey(host.sessionId, key, { seq: command.seq, fingerprint })),
      ]);
    }
    this.#learn(entry);
    await host.post(statusEvent(entry));
    if (outcome.ok && this.#contextAwaitingMessage) {
      this.#contextAwaitingMessage = false;
      await this.#postContext(undefined, 'applied');
    }
    return this.#finish(command.id, command.seq);
  }

  async #runRecord(command: RecordCommand & { seq: number }): Promise<void> {
    const host = this.#host;
    const entry = entryOf(host.sessionId, command) as TranscriptEntry;
    this.#learn(entry);
    // Found on the item (an earlier owner numbered it): it may never have reached the frontends. Its id
    // stays on the item for the settle horizon: the numbering write may still be on its way, retried by
    // the SDK after an answer that was lost, and must then number nothing.
    await this.#writeEntry(entry, host.post(messageEvent(entry)));
    return this.#finish(command.id, command.seq);
  }

  async #runContext(command: ContextCommand, started: () => void): Promise<void> {
    const host = this.#host;
    const guest = host.guest();
    const fresh = await host.sessions.get(host.sessionId);
    if (fresh === undefined) throw new RunnerClosed();
    guest.setCustomAttributes({ ...fresh.context });
    // Set before the next command starts, so they ride on the next message sent after them.
    started();
    if (command.flush === true) {
      try {
        await guest.flushCustomAttributes();
        await this.#postContext(fresh, 'applied');
      } catch (error) {
        if (host.closed) throw new RunnerClosed();
        const failure = host.failureOf(error, 'context');
        await host.post(errorEvent(failure, 'context'));
      }
    } else {
      // Stored on the session: they ride on the next message (a new owner re-applies them at open).
      this.#contextAwaitingMessage = true;
    }
    return this.#finish(command.id);
  }

  async #postContext(record: SessionRecord | undefined, state: 'pending' | 'applied'): Promise<void> {
    const host = this.#host;
    const current = record ?? (await host.sessions.get(host.sessionId));
    if (current === undefined) return;
    await host.post({
      type: 'context',
      sessionId: host.sessionId,
      attributes: { ...current.context },
      bytes: current.contextBytes,
      maxBytes: current.constraints.maxCustomDataBytes,
      state,
    });
  }

  async #runUpload(command: UploadCommand): Promise<void> {
    const host = this.#host;
    const guest = host.guest();
    const { upload } = command;
    const stored = await host.sessions.getUpload(host.sessionId, upload.uploadId);
    const ref = { sessionId: host.sessionId, uploadId: upload.uploadId };
    if (stored === undefined) {
      await host.post({
        type: 'uploadFailed',
        ...ref,
        code: 'attachment_not_found',
        message: 'The upload was not found.',
      });
      return this.#finish(command.id);
    }
    let result: UploadResult;
    try {
      if (upload.inline === true && stored.data !== undefined) {
        const bytes = Buffer.from(stored.data, 'base64');
        result = await this.#whenConnected(() =>
          guest.upload({ fileName: upload.filename, fileType: upload.contentType, bytes }),
        );
      } else {
        const slot = await this.#whenConnected(() =>
          guest.requestUploadSlot({
            fileName: upload.filename,
            fileType: upload.contentType,
            fileSize: upload.size,
          }),
        );
        const put: ServerEvent = {
          type: 'upload',
          ...ref,
          attachmentId: slot.attachmentId,
          method: 'PUT',
          url: slot.url,
          headers: uploadHeaders(slot.headers, upload.contentType),
        };
        // The URL lets its holder put a file into the session as the guest: only the asker gets it.
        if (upload.connectionId === undefined) await host.post(put);
        else if (!(await host.postTo(upload.connectionId, put))) {
          await host.post({
            type: 'uploadFailed',
            ...ref,
            code: 'attachment_not_found',
            message:
              'The connection that asked for this upload closed before its upload URL came: send the upload again.',
          });
          return this.#finish(command.id);
        }
        result = await guest.awaitUpload(slot.attachmentId);
      }
    } catch (error) {
      if (host.closed) throw new RunnerClosed();
      const failure = host.failureOf(error, 'upload');
      await host.post({ type: 'uploadFailed', ...ref, code: failure.code, message: failure.message });
      return this.#finish(command.id);
    }
    await host.post({
      type: 'uploaded',
      ...ref,
      attachmentId: result.attachmentId,
      ...(result.downloadUrl === undefined ? {} : { downloadUrl: result.downloadUrl }),
    });
    if (!stored.send) return this.#finish(command.id);
    // The message that carries the file replaces the upload command in one write.
    const key = stored.clientMessageId ?? `upload:${upload.uploadId}`;
    const entryId = randomUUID();
    const content = [attachmentContent(upload.filename, upload.contentType, result)];
    const outcome = await host.write(() =>
      host.queue.sendFromUpload(
        host.sessionId,
        host.fence,
        {
          id: sendCommandId(key, entryId),
          entryId,
          content,
          clientMessageId: key,
          ...(stored.caption === undefined ? {} : { text: stored.caption }),
        },
        command.id,
      ),
    );
    this.#inProgress.delete(command.id);
    this.#known.delete(command.id);
    this.#done.set(command.id, true);
    if (outcome.kind === 'settled') return;
    const entry = entryOf(host.sessionId, outcome.command);
    if (outcome.kind === 'queued' && entry !== undefined) await host.post(messageEvent(entry));
    this.#start(outcome.command);
  }

  /**
   * Requests other than sends fail at once while the upstream socket is down (GENESYS_CONNECTION_LOST):
   * wait for the session to be ready again and retry, a bounded number of times. A reconnect in progress
   * is not a reason to fail an upload: it fails (`upstream_unavailable`) only once the runner has told
   * the frontends that Genesys is unavailable (UPSTREAM_UNAVAILABLE_AFTER_MS), so the two agree.
   */
  async #whenConnected<T>(action: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await action();
      } catch (error) {
        const lost = error instanceof GenesysError && error.code === 'GENESYS_CONNECTION_LOST';
        if (!lost || attempt >= RECONNECT_RETRIES || this.#host.closed) throw error;
        if (!(await this.#host.nextReady())) throw error;
      }
    }
  }

  async #runEnd(_command: EndCommand): Promise<void> {
    const host = this.#host;
    // Messages queued before the end go first (GuestSession's end() would refuse what is still queued).
    await Promise.all(this.sending);
    const guest = host.guest();
    try {
      await guest.end();
    } catch {
      // Ending upstream is best effort: the session ends here whatever Genesys answers.
    }
    await this.finishEnd('guest');
    await host.post({ type: 'sessionEnded', sessionId: host.sessionId, reason: 'guest' });
    await host.ended();
  }

  // ---------------------------------------------------------------- the transcript and the item

  /**
   * Writes an entry (and waits for `alongside`, e.g. its post), remembered so a receipt can wait. With
   * `after`, the write starts once that settles (a post that must not wait for the table).
   */
  #writeEntry(
    entry: TranscriptEntry,
    alongside?: Promise<unknown>,
    options: { readonly after?: Promise<unknown> } = {},
  ): Promise<void> {
    const host = this.#host;
    const put = (options.after ?? Promise.resolve())
      .catch(() => {})
      .then(() => host.write(() => host.entries.put(entry)));
    const writing = Promise.all([put, alongside]).then(() => {});
    this.#entryWrites.set(entry.seq, writing);
    void writing
      .catch(() => {})
      .finally(() => {
        if (this.#entryWrites.get(entry.seq) === writing) this.#entryWrites.delete(entry.seq);
      });
    return writing;
  }

  #learn(entry: TranscriptEntry | undefined): void {
    if (entry?.genesysId === undefined) return;
    this.#genesysIds.set(entry.genesysId, true);
    if (entry.direction === 'guest') this.#guestSeqs.set(entry.genesysId, entry.seq);
  }

  /**
   * The command is carried out: it leaves the item with the next write (or alone, shortly). With `keep`
   * (its number) its id stays on the item for the settle horizon: a send's (a keyed send's key; and the
   * SDK may retry the write of any send, late, after it was applied) and that of a record a drain carried
   * out (a late retry of its numbering then numbers nothing).
   */
  #finish(id: string, keep?: number): void {
    const command = this.#known.get(id);
    this.#inProgress.delete(id);
    this.#done.set(id, true);
    this.#settlements.add({
      id,
      ...(command?.type === 'send' ? { bytes: command.bytes } : {}),
      ...(keep === undefined ? {} : { keep }),
    });
    this.#scheduleSettle();
  }

  #scheduleSettle(): void {
    this.#settleTimer ??= setTimeout(() => {
      this.#settleTimer = undefined;
      this.flush().catch((error) => this.#host.onFailure(error, 'settlement'));
    }, this.#jittered(this.#options.settleDelayMs));
  }

  /** The settlement for the next write, or undefined when there is nothing to say. */
  #takeSettlement(): Settlement | undefined {
    const taken = this.#settlements.take(this.#host.now(), MAX_SETTLED_PER_WRITE);
    const conn = this.#host.controlConnectionId();
    const ownerConn = conn !== undefined && conn !== this.#ownerConn ? conn : undefined;
    if (taken === undefined && ownerConn === undefined) return undefined;
    if (this.#settlements.waiting > 0) this.#scheduleSettle();
    return { ...(taken ?? { done: [], prune: [] }), ...(ownerConn === undefined ? {} : { ownerConn }) };
  }

  #afterSettled(settlement: Settlement | undefined): void {
    if (settlement === undefined) return;
    for (const done of settlement.done) this.#known.delete(done.id);
    this.#settlements.written(settlement, this.#host.now());
    if (settlement.ownerConn !== undefined) this.#ownerConn = settlement.ownerConn;
    if (!this.#underWay) {
      this.#scheduleIdle(this.#jittered(this.#options.idleAfterMs));
    }
  }

  /** Commands known here (running, or done and not settled yet) or settlements not written yet. */
  get #underWay(): boolean {
    return this.#known.size > 0 || this.#settlements.waiting > 0;
  }

  /** Work started, or the runner stopped: no idle clear is planned. */
  #cancelIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** `ms` ± half of it, at random. */
  #jittered(ms: number): number {
    return ms * (0.5 + this.#options.random());
  }

  /** With nothing pending, take the session out of `byOwnerPending`; if that finds work, drain it. */
  #scheduleIdle(delay: number): void {
    this.#cancelIdle();
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      const host = this.#host;
      if (host.closed || this.#underWay) return;
      host
        .write(() => host.queue.clearIdle(host.sessionId, host.fence))
        .then(async (idle) => {
          if (idle) return;
          // A command is pending that no doorbell brought: read the item and start it.
          const session = await host.sessions.get(host.sessionId);
          if (session !== undefined) this.drain(session);
        })
        .catch((error) => host.onFailure(error, 'idle'));
    }, delay);
  }
}

/** STORE_CONFLICT on a status move: another writer (an earlier owner) settled the entry first. */
function settledElsewhere(error: unknown): undefined {
  if (error instanceof StoreError && error.code === 'STORE_CONFLICT') return undefined;
  throw error;
}

function errorEvent(failure: EntryFailure, action: string): ServerEvent {
  return {
    type: 'error',
    code: failure.code as Extract<ServerEvent, { type: 'error' }>['code'],
    message: failure.message,
    error: failure.message,
    retryable: false,
    action,
  };
}

function attachmentContent(filename: string, mime: string, result: UploadResult): ContentItem {
  return {
    kind: 'attachment',
    id: result.attachmentId,
    filename,
    mime,
    mediaType: mime.startsWith('image/')
      ? 'image'
      : mime.startsWith('video/')
        ? 'video'
        : mime.startsWith('audio/')
          ? 'audio'
          : 'file',
    ...(result.downloadUrl === undefined ? {} : { url: result.downloadUrl }),
  };
}

/** The protocol's camelCase button kinds in Genesys' spelling. */
const BUTTON_TYPES: Readonly<
  Record<Extract<ContentItem, { kind: 'buttonResponse' }>['type'], ButtonResponseType>
> = {
  quickReply: 'QuickReply',
  button: 'Button',
  datePicker: 'DatePicker',
  listPicker: 'ListPicker',
  form: 'Form',
};

/** The upstream send of a guest message: its text, attachment and quick-reply answer. */
function sendOptionsOf(
  message: { readonly text?: string; readonly content: readonly unknown[] },
  tracingId: string,
  maybeSent: boolean,
): SendOptions {
  const content = message.content as ContentItem[];
  const attachmentIds = content.flatMap((item) => (item.kind === 'attachment' ? [item.id] : []));
  const reply = content.find((item) => item.kind === 'buttonResponse');
  return {
    tracingId,
    ...(message.text === undefined ? {} : { text: message.text }),
    ...(attachmentIds.length === 0 ? {} : { attachmentIds }),
    ...(reply?.kind === 'buttonResponse'
      ? { buttonResponse: { text: reply.text, payload: reply.payload, type: BUTTON_TYPES[reply.type] } }
      : {}),
    ...(maybeSent ? { maybeSent: true } : {}),
  };
}

/** What rides on the first message: guestInfo and metadata under the context (which wins on a key). */
export function initialAttributes(
  record: SessionRecord,
  warn: (message: string) => void,
): Record<string, string> {
  const extra: Record<string, string> = {};
  for (const [key, value] of Object.entries(record.guestInfo ?? {})) extra[key] = value;
  for (const [key, value] of Object.entries(record.metadata ?? {})) extra[key] = String(value);
  const combined = { ...extra, ...record.context };
  if (contextByteSize(combined) <= record.constraints.maxCustomDataBytes) return combined;
  warn('guestInfo and metadata do not fit the custom attribute budget: not sent');
  return { ...record.context };
}
