/**
 * One owned guest session: its upstream GuestSession, its pending commands, and the path from upstream
 * events to the transcript and the frontends (DESIGN §2).
 *
 * - Every store write and every post to a frontend goes through `#write`: it waits for the worker's
 *   lease (after a stall, until the worker knows the session is still its own) and gives up once the
 *   runner is closed. Fenced writes (commands, status, end) fail with STORE_FENCED once another worker
 *   claimed the session: the runner then closes without writing anything more.
 * - Upstream events are handled one at a time, in the order GuestSession emits them (after its reorder
 *   window), so the transcript numbers them in that order. A command runs beside them: sending waits for
 *   Genesys' echo, which must not hold up the agent's messages.
 * - A command is completed (removed from `pending`) only after its effect is stored, so a worker that dies
 *   in between leaves it for the next owner, who re-sends with `maybeSent` (reconciled from history).
 */
import type { ChannelConstraints } from '../src/domain/constraints.js';
import { contextByteSize } from '../src/domain/context.js';
import type {
  ClosedEvent,
  EchoEvent,
  MessageEvent as GuestMessage,
  GuestSession,
  PresenceEvent,
  ReadyEvent,
  ReceiptEvent,
  SendOptions,
  TypingEvent,
  UploadResult,
} from '../src/genesys/client/index.js';
import { uploadHeaders } from '../src/genesys/client/index.js';
import { GenesysError } from '../src/genesys/errors.js';
import type { ButtonResponseType } from '../src/genesys/requests.js';
import type { ContentItem, ServerEvent } from '../src/protocol/index.js';
import { messageEvent } from '../src/relay/entries.js';
import { StoreError } from '../src/store/errors.js';
import type {
  Fence,
  PendingCommand,
  SessionRecord,
  SessionStore,
  StoredUpload,
} from '../src/store/sessions.js';
import type { EntryDirection, TranscriptEntry, TranscriptStore } from '../src/store/transcript.js';
import { failureOf } from './failures.js';
import type { Fanout } from './fanout.js';
import type { WorkerLog } from './log.js';

/** Why a runner stopped. `shutdown` releases the session; `lost` and `ended` write nothing more. */
export type CloseMode = 'shutdown' | 'lost' | 'ended';

export interface RunnerDeps {
  readonly sessions: SessionStore;
  readonly transcript: TranscriptStore;
  readonly fanout: Fanout;
  /** Resolves while the worker may write; waits across a stall until ownership was re-checked. */
  readonly ready: () => Promise<void>;
  /** A GuestSession for the stored session (the worker injects socket, fetch, clock, logger). */
  readonly openGuest: (record: SessionRecord, options: { readonly resumeFrom?: number }) => GuestSession;
  readonly log: WorkerLog;
  readonly now: () => number;
  /** Called once, when the runner has closed (for whatever reason). */
  readonly onClosed: (sessionId: string, mode: CloseMode) => void;
  readonly counters: RunnerCounters;
  /** A pending guest entry without a send command, stored longer ago than this, lost its command. */
  readonly orphanGraceMs: number;
}

/** Figures the health endpoint reports. */
export interface RunnerCounters {
  writes: number;
  orphansQueued: number;
  upstreamSends: number;
  appended: number;
  duplicatesDropped: number;
}

/** An upload waits this long for the upstream session to come back, this many times, before it fails. */
const RECONNECT_WAIT_MS = 5_000;
const RECONNECT_RETRIES = 3;
/** How many of a session's newest entries `healOrphans` looks at. */
const ORPHAN_SCAN_ENTRIES = 50;
/** `#lastActivity` reads at most this many pages backward (the queue bound is 100 unsent sends). */
const LAST_ACTIVITY_PAGE_SIZE = 50;
const LAST_ACTIVITY_PAGES = 4;

class RunnerClosed extends Error {
  override readonly name = 'RunnerClosed';
}

const END_REASONS: Readonly<Record<ClosedEvent['reason'], 'expired' | 'cleared' | 'error' | undefined>> = {
  closed: undefined,
  expired: 'expired',
  sessionLimit: undefined,
  signedIn: 'cleared',
  connectionClosed: 'cleared',
  rejected: 'error',
};

export class SessionRunner {
  readonly sessionId: string;
  readonly fence: Fence;
  readonly #deps: RunnerDeps;
  #guest: GuestSession | undefined;
  /** Upstream events, one at a time. */
  #chain: Promise<void> = Promise.resolve();
  /** Command ids being worked on (a doorbell or a sweep must not start them twice). */
  readonly #inProgress = new Set<string>();
  #closed: CloseMode | undefined;
  #closing: Promise<void> | undefined;
  /** Commands created before this runner opened a session another worker held may have been sent. */
  #openedAt = 0;
  #takenOver = false;
  #status: SessionRecord['status'] = 'starting';
  #constraints: ChannelConstraints | undefined;
  #readyOnce: Promise<void>;
  #resolveReady!: () => void;
  /** A context command without flush is applied with the next message: say so when it goes. */
  #contextAwaitingMessage = false;
  #draining = false;
  /** Commands start one after the other (see #drain). */
  #dispatch: Promise<void> = Promise.resolve();
  /** Sends whose outcome is not stored yet. */
  readonly #sending = new Set<Promise<void>>();
  #drainAgain = false;

  constructor(sessionId: string, fence: Fence, deps: RunnerDeps) {
    this.sessionId = sessionId;
    this.fence = fence;
    this.#deps = deps;
    this.#readyOnce = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Opens the upstream session and drains the pending commands. False when the session is not ours. */
  async open(): Promise<boolean> {
    const record = await this.#deps.sessions.get(this.sessionId);
    if (record === undefined || record.status === 'ended') {
      await this.close('ended');
      return false;
    }
    if (!this.#isOurs(record)) {
      await this.close('lost');
      return false;
    }
    this.#openedAt = this.#deps.now();
    // Epoch 1 is the first claim; a later epoch, or a session already past `starting`, had an owner.
    this.#takenOver = record.epoch > 1 || record.status !== 'starting';
    // A new session has nothing stored that could be orphaned yet: its first check is one interval away.
    if (!this.#takenOver) this.orphansCheckedAt = this.#openedAt;
    this.#status = record.status;
    this.#constraints = record.constraints;
    const resumeFrom = this.#takenOver ? await this.#lastActivity(record) : undefined;
    const guest = this.#deps.openGuest(record, resumeFrom === undefined ? {} : { resumeFrom });
    this.#guest = guest;
    const attributes = this.#initialAttributes(record);
    if (Object.keys(attributes).length > 0) guest.setCustomAttributes(attributes);
    guest.on('ready', (event) => this.#serial(() => this.#onReady(event)));
    guest.on('message', (event) => this.#serial(() => this.#onMessage(event)));
    guest.on('echo', (event) => this.#serial(() => this.#onEcho(event)));
    guest.on('receipt', (event) => this.#serial(() => this.#onReceipt(event)));
    guest.on('presence', (event) => this.#serial(() => this.#onPresence(event)));
    guest.on('typing', (event) => void this.#onTyping(event));
    guest.on('closed', (event) => this.#serial(() => this.#onUpstreamClosed(event)));
    guest.on('reconnecting', (event) =>
      this.#deps.log.info('upstream reconnecting', { sessionId: this.sessionId, ...event }),
    );
    guest.on('error', (event) =>
      this.#deps.log.warn('upstream problem', {
        sessionId: this.sessionId,
        context: event.context,
        error: event.error,
      }),
    );
    guest.start().catch(() => {
      // The outcome arrives as `closed` (handled there) or the session reconnects by itself.
    });
    this.drain();
    return true;
  }

  /** Reads the pending commands and starts those not already running. Safe to call at any time. */
  drain(): void {
    if (this.#closed) return;
    if (this.#draining) {
      this.#drainAgain = true;
      return;
    }
    this.#draining = true;
    void this.#drain()
      .catch((error) => this.#onFailure(error, 'drain'))
      .finally(() => {
        this.#draining = false;
        if (this.#drainAgain && !this.#closed) {
          this.#drainAgain = false;
          this.drain();
        }
      });
  }

  /** When `healOrphans` last ran (epoch ms). */
  orphansCheckedAt = 0;

  /**
   * Finds guest entries that were stored but never got their `send` command (the handler died between
   * the two writes: durable first, so the message is stored) and queues the command, so the message is
   * sent after all. Looks at the newest entries only: an orphan is found within one check interval.
   */
  async healOrphans(): Promise<void> {
    this.orphansCheckedAt = this.#deps.now();
    if (this.#closed) return;
    const page = await this.#deps.transcript.page(this.sessionId, {
      limit: ORPHAN_SCAN_ENTRIES,
      direction: 'backward',
    });
    const cutoff = this.#deps.now() - this.#deps.orphanGraceMs;
    const candidates = page.entries.filter(
      (entry) =>
        entry.direction === 'guest' &&
        entry.status === 'pending' &&
        entry.storedAt <= cutoff &&
        !this.#inProgress.has(entry.entryId),
    );
    // Almost always none: an idle session costs one read per check, not two.
    if (candidates.length === 0) return;
    const record = await this.#deps.sessions.get(this.sessionId);
    if (record === undefined || !this.#isOurs(record)) return;
    // An upload in progress sends its own entry (found by its key); leave those to it.
    if (Object.values(record.pending).some((command) => command.type === 'upload')) return;
    let queued = 0;
    for (const entry of candidates) {
      if (record.pending[entry.entryId] !== undefined) continue;
      try {
        const result = await this.#write(() =>
          this.#deps.sessions.addPending(this.sessionId, {
            id: entry.entryId,
            type: 'send',
            seq: entry.seq,
            createdAt: this.#deps.now(),
          }),
        );
        if (result.added) queued++;
      } catch (error) {
        this.#onFailure(error, 'orphan entry');
      }
    }
    if (queued > 0) {
      this.#deps.counters.orphansQueued += queued;
      this.#deps.log.warn('stored messages had no send command (their handler died): queued them', {
        sessionId: this.sessionId,
        count: queued,
      });
      this.drain();
    }
  }

  /** The guest is typing: tell Genesys (GuestSession rate-limits it). */
  typing(): void {
    if (this.#closed || this.#guest === undefined) return;
    this.#guest.typing();
  }

  /**
   * Stops the runner. `shutdown`: close the upstream socket (the Genesys session lives on) and release
   * the session so another worker claims it at once; commands in flight stay pending for it.
   */
  close(mode: CloseMode): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = mode;
    this.#closing = (async () => {
      const guest = this.#guest;
      if (guest !== undefined) {
        try {
          await guest.close();
        } catch {
          // Closing a session that already finished is fine.
        }
      }
      if (mode === 'shutdown') {
        try {
          await this.#deps.sessions.release(this.sessionId, this.fence);
          this.#deps.counters.writes++;
        } catch (error) {
          this.#deps.log.warn('release failed; the session becomes claimable when this worker is stale', {
            sessionId: this.sessionId,
            error,
          });
        }
      }
      this.#deps.log.info('session closed', { sessionId: this.sessionId, mode });
      this.#deps.onClosed(this.sessionId, mode);
    })();
    return this.#closing;
  }

  /**
   * What rides on the first message: guestInfo and metadata (protocol.md, `connect`) under the context,
   * which wins on a shared key. If together they would exceed the deployment's budget, guestInfo and
   * metadata are left out (the guest's own context is what the relay checked and promised to send).
   */
  #initialAttributes(record: SessionRecord): Record<string, string> {
    const extra: Record<string, string> = {};
    for (const [key, value] of Object.entries(record.guestInfo ?? {})) extra[key] = value;
    for (const [key, value] of Object.entries(record.metadata ?? {})) extra[key] = String(value);
    const combined = { ...extra, ...record.context };
    if (contextByteSize(combined) <= record.constraints.maxCustomDataBytes) return combined;
    this.#deps.log.warn('guestInfo and metadata do not fit the custom attribute budget: not sent', {
      sessionId: this.sessionId,
    });
    return { ...record.context };
  }

  #isOurs(record: SessionRecord): boolean {
    return record.ownerId === this.fence.workerId && record.epoch === this.fence.epoch;
  }

  /**
   * The time (epoch ms) of the newest entry Genesys has seen: history before it is already stored. Guest
   * entries not yet sent do not count: a guest who kept sending while no worker held the socket stores
   * them with the current time, and starting the backfill there would skip an agent message said in the
   * meantime. So the transcript is read backward past them (they are bounded by the queue); when none
   * of the newest entries qualifies, the whole history is backfilled (duplicates are dropped by key).
   */
  async #lastActivity(record: SessionRecord): Promise<number> {
    let cursor: string | undefined;
    for (let pages = 0; pages < LAST_ACTIVITY_PAGES; pages++) {
      const page = await this.#deps.transcript.page(this.sessionId, {
        limit: LAST_ACTIVITY_PAGE_SIZE,
        direction: 'backward',
        ...(cursor === undefined ? {} : { cursor }),
      });
      const seen = page.entries.find(
        (e) => e.direction !== 'guest' || (e.status !== 'pending' && e.status !== 'failed'),
      );
      if (seen !== undefined) {
        const time = Date.parse(seen.time);
        return Number.isFinite(time) ? time : record.createdAt;
      }
      cursor = page.cursor;
      if (cursor === undefined) break;
    }
    return record.createdAt;
  }

  // ---------------------------------------------------------------- writes

  /** Every store write and post goes through here: lease first, and nothing once closed. */
  async #write<T>(action: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new RunnerClosed();
    await this.#deps.ready();
    if (this.#closed) throw new RunnerClosed();
    const result = await action();
    this.#deps.counters.writes++;
    return result;
  }

  #post(event: ServerEvent): Promise<unknown> {
    return this.#write(() => this.#deps.fanout.post(this.sessionId, event)).catch((error) =>
      this.#onFailure(error, `post ${event.type}`),
    );
  }

  #serial(task: () => Promise<void>): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#closed) return;
      try {
        await task();
      } catch (error) {
        this.#onFailure(error, 'upstream event');
      }
    });
  }

  /** A fenced write lost: the session moved to another worker (or ended). Anything else is logged. */
  #onFailure(error: unknown, context: string): void {
    if (error instanceof RunnerClosed) return;
    if (error instanceof StoreError && error.code === 'STORE_FENCED') {
      this.#deps.log.warn('session lost to another worker', { sessionId: this.sessionId, context });
      void this.close('lost');
      return;
    }
    if (error instanceof StoreError && error.code === 'STORE_CONFLICT' && /has ended/.test(error.message)) {
      void this.close('ended');
      return;
    }
    this.#deps.log.error('session work failed', { sessionId: this.sessionId, context, error });
  }

  async #complete(command: PendingCommand): Promise<void> {
    try {
      await this.#write(() => this.#deps.sessions.completePending(this.sessionId, [command.id], this.fence));
    } finally {
      this.#inProgress.delete(command.id);
    }
  }

  // ---------------------------------------------------------------- commands

  async #drain(): Promise<void> {
    const record = await this.#deps.sessions.get(this.sessionId);
    if (record === undefined || record.status === 'ended') {
      await this.close('ended');
      return;
    }
    if (!this.#isOurs(record)) {
      await this.close('lost');
      return;
    }
    const commands = Object.values(record.pending).sort(
      (a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    if (commands.length === 0 && record.pendingAt !== undefined) {
      // A completion that crashed between its two writes left `pendingAt` behind: clear it.
      await this.#write(() => this.#deps.sessions.completePending(this.sessionId, [], this.fence));
    }
    for (const command of commands) {
      if (this.#inProgress.has(command.id) || this.#closed) continue;
      this.#inProgress.add(command.id);
      // Commands start in order (a send is queued upstream before the next command starts); their
      // outcomes (echoes, uploads) are awaited side by side.
      this.#dispatch = this.#dispatch.then(
        () =>
          new Promise<void>((started) => {
            const running = this.#run(command, record, started).catch((error) => {
              this.#inProgress.delete(command.id);
              this.#onFailure(error, `command ${command.type}`);
            });
            if (command.type === 'send') this.#sending.add(running);
            void running.finally(() => {
              this.#sending.delete(running);
              started();
            });
          }),
      );
    }
  }

  async #run(command: PendingCommand, record: SessionRecord, started: () => void): Promise<void> {
    switch (command.type) {
      case 'start':
        started();
        await this.#readyOnce;
        return this.#complete(command);
      case 'send':
        return this.#runSend(command, started);
      case 'context':
        return this.#runContext(command, record, started);
      case 'upload':
        started();
        return this.#runUpload(command);
      case 'end':
        started();
        return this.#runEnd(command);
      default:
        this.#deps.log.warn('unknown command dropped', { sessionId: this.sessionId, type: command.type });
        return this.#complete(command);
    }
  }

  #maybeSent(command: PendingCommand): boolean {
    return this.#takenOver && command.createdAt <= this.#openedAt;
  }

  async #runSend(command: PendingCommand, started: () => void): Promise<void> {
    const entry =
      command.seq === undefined ? undefined : await this.#deps.transcript.get(this.sessionId, command.seq);
    if (entry === undefined || entry.status !== 'pending') {
      // Already settled (or nothing to send): the command is done.
      started();
      return this.#complete(command);
    }
    await this.#sendEntry(entry, this.#maybeSent(command), started);
    return this.#complete(command);
  }

  /**
   * Sends a pending guest entry and stores its outcome (sent with Genesys' id, or failed). `started` is
   * called once the send is in GuestSession's queue, which keeps upstream order equal to ours.
   */
  async #sendEntry(
    entry: TranscriptEntry,
    maybeSent: boolean,
    started: () => void = () => {},
  ): Promise<void> {
    const guest = this.#requireGuest();
    const options = sendOptionsOf(entry, maybeSent);
    let outcome: { ok: true; genesysId: string } | { ok: false; error: unknown };
    try {
      this.#deps.counters.upstreamSends++;
      const sending = guest.send(options);
      started();
      const result = await sending;
      outcome = { ok: true, genesysId: result.genesysId };
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (this.#closed) throw new RunnerClosed();
    if (!outcome.ok) {
      const error = outcome.error;
      if (
        error instanceof GenesysError &&
        (error.code === 'GENESYS_CLOSED' || error.code === 'GENESYS_QUEUE_FULL')
      ) {
        // Our own close, or too much at once: it stays pending for the next attempt (or owner).
        throw new RunnerClosed();
      }
      const failure = failureOf(error, 'send');
      const updated = await this.#write(() =>
        this.#deps.transcript.updateStatus(this.sessionId, entry.seq, {
          to: 'failed',
          failure,
          from: ['pending'],
        }),
      ).catch((e) => this.#settledElsewhere(e));
      if (updated) await this.#post(statusEvent(updated));
      return;
    }
    const updated = await this.#write(() =>
      this.#deps.transcript.updateStatus(this.sessionId, entry.seq, {
        to: 'sent',
        from: ['pending'],
        genesysId: outcome.genesysId,
      }),
    ).catch((e) => this.#settledElsewhere(e));
    if (updated) await this.#post(statusEvent(updated));
    if (this.#contextAwaitingMessage) {
      this.#contextAwaitingMessage = false;
      await this.#postContext(undefined, 'applied');
    }
  }

  /** STORE_CONFLICT on a status move: another writer (an earlier owner) settled the entry first. */
  #settledElsewhere(error: unknown): undefined {
    if (error instanceof StoreError && error.code === 'STORE_CONFLICT') return undefined;
    throw error;
  }

  async #runContext(command: PendingCommand, record: SessionRecord, started: () => void): Promise<void> {
    const guest = this.#requireGuest();
    const fresh = (await this.#deps.sessions.get(this.sessionId)) ?? record;
    guest.setCustomAttributes({ ...fresh.context });
    // Set before the next command starts, so they ride on the next message sent after them.
    started();
    if (command.flush === true) {
      try {
        await guest.flushCustomAttributes();
        await this.#postContext(fresh, 'applied');
      } catch (error) {
        if (this.#closed) throw new RunnerClosed();
        const failure = failureOf(error, 'context');
        await this.#post(errorEvent(failure, 'context'));
      }
    } else {
      // Stored on the session: they ride on the next message (a new owner re-applies them at open).
      this.#contextAwaitingMessage = true;
    }
    return this.#complete(command);
  }

  async #postContext(record: SessionRecord | undefined, state: 'pending' | 'applied'): Promise<void> {
    const current = record ?? (await this.#deps.sessions.get(this.sessionId));
    if (current === undefined) return;
    await this.#post({
      type: 'context',
      sessionId: this.sessionId,
      attributes: { ...current.context },
      bytes: current.contextBytes,
      maxBytes: current.constraints.maxCustomDataBytes,
      state,
    });
  }

  async #runUpload(command: PendingCommand): Promise<void> {
    const guest = this.#requireGuest();
    const upload = command.upload;
    if (upload === undefined) return this.#complete(command);
    const stored = await this.#deps.sessions.getUpload(this.sessionId, upload.uploadId);
    const ref = { sessionId: this.sessionId, uploadId: upload.uploadId };
    const key = stored?.clientMessageId ?? `upload:${upload.uploadId}`;
    // A previous owner finished the upload and stored its message: only the send may be left to do.
    const existing = await this.#deps.transcript.findByKey(this.sessionId, { clientMessageId: key });
    if (existing !== undefined) {
      if (existing.status === 'pending') await this.#sendEntry(existing, true);
      return this.#complete(command);
    }
    if (stored === undefined) {
      await this.#post({
        type: 'uploadFailed',
        ...ref,
        code: 'attachment_not_found',
        message: 'The upload was not found.',
      });
      return this.#complete(command);
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
        await this.#post({
          type: 'upload',
          ...ref,
          attachmentId: slot.attachmentId,
          method: 'PUT',
          url: slot.url,
          headers: uploadHeaders(slot.headers, upload.contentType),
        });
        result = await guest.awaitUpload(slot.attachmentId);
      }
    } catch (error) {
      if (this.#closed) throw new RunnerClosed();
      const failure = failureOf(error, 'upload');
      await this.#post({ type: 'uploadFailed', ...ref, code: failure.code, message: failure.message });
      return this.#complete(command);
    }
    await this.#post({
      type: 'uploaded',
      ...ref,
      attachmentId: result.attachmentId,
      ...(result.downloadUrl === undefined ? {} : { downloadUrl: result.downloadUrl }),
    });
    if (stored.send) await this.#sendUploaded(stored, key, upload.filename, upload.contentType, result);
    return this.#complete(command);
  }

  /**
   * Requests other than sends fail at once while the upstream socket is down (GENESYS_CONNECTION_LOST):
   * wait for the session to be ready again and retry, a bounded number of times, before telling the
   * frontend `upstream_unavailable`. A reconnect in progress is not a reason to fail an upload.
   */
  async #whenConnected<T>(action: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await action();
      } catch (error) {
        const lost = error instanceof GenesysError && error.code === 'GENESYS_CONNECTION_LOST';
        if (!lost || attempt >= RECONNECT_RETRIES || this.#closed) throw error;
        if (!(await this.#nextReady(RECONNECT_WAIT_MS))) throw error;
      }
    }
  }

  /** True once the upstream session is ready again (a new SessionResponse), false after `ms`. */
  #nextReady(ms: number): Promise<boolean> {
    const guest = this.#guest;
    if (guest === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const off = guest.on('ready', () => {
        clearTimeout(timer);
        off();
        resolve(true);
      });
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, ms);
    });
  }

  async #sendUploaded(
    stored: StoredUpload,
    key: string,
    filename: string,
    mime: string,
    result: UploadResult,
  ): Promise<void> {
    const content: ContentItem[] = [
      {
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
      },
    ];
    const { entry, created } = await this.#write(() =>
      this.#deps.transcript.append(this.sessionId, {
        direction: 'guest',
        status: 'pending',
        content,
        clientMessageId: key,
        ...(stored.caption === undefined ? {} : { text: stored.caption }),
      }),
    );
    if (created) await this.#post(messageEvent(entry));
    if (entry.status === 'pending') await this.#sendEntry(entry, !created);
  }

  async #runEnd(command: PendingCommand): Promise<void> {
    // Messages queued before the end go first (GuestSession's end() would refuse what is still queued).
    await Promise.all([...this.#sending]);
    const guest = this.#requireGuest();
    try {
      await guest.end();
    } catch {
      // Ending upstream is best effort: the session ends here whatever Genesys answers.
    }
    await this.#write(() => this.#deps.sessions.end(this.sessionId, command.reason ?? 'guest', this.fence));
    await this.#post({ type: 'sessionEnded', sessionId: this.sessionId, reason: 'guest' });
    await this.close('ended');
  }

  #requireGuest(): GuestSession {
    if (this.#guest === undefined || this.#closed) throw new RunnerClosed();
    return this.#guest;
  }

  // ---------------------------------------------------------------- upstream events

  async #onReady(event: ReadyEvent): Promise<void> {
    this.#resolveReady();
    const status = event.readOnly ? 'readOnly' : 'active';
    const constraintsChanged = JSON.stringify(this.#constraints) !== JSON.stringify(event.constraints);
    if (status === this.#status && !constraintsChanged) return;
    const updated = await this.#write(() =>
      this.#deps.sessions.updateStatus(this.sessionId, status, this.fence, {
        constraints: event.constraints,
      }),
    );
    this.#status = updated.status;
    this.#constraints = updated.constraints;
    const lastSequenceId = await this.#deps.transcript.lastSeq(this.sessionId);
    await this.#post({
      type: 'connect',
      sessionId: this.sessionId,
      resumed: !event.newSession,
      lastSequenceId,
      status,
      constraints: updated.constraints as Extract<ServerEvent, { type: 'connect' }>['constraints'],
      deploymentId: updated.deploymentId,
    });
  }

  async #onMessage(event: GuestMessage): Promise<void> {
    const direction: EntryDirection = event.author;
    const { entry, created } = await this.#write(() =>
      this.#deps.transcript.append(this.sessionId, {
        direction,
        content: event.content as ContentItem[],
        genesysId: event.genesysId,
        ...(event.text === undefined ? {} : { text: event.text }),
        ...(event.sender === undefined ? {} : { sender: event.sender }),
        ...(event.time === undefined ? {} : { time: event.time }),
      }),
    );
    if (created) this.#deps.counters.appended++;
    else this.#deps.counters.duplicatesDropped++;
    // A backfilled message that an earlier owner stored may never have reached the frontends.
    if (created || event.fromHistory) await this.#post(messageEvent(entry));
  }

  /** An Inbound echo that no send of ours is waiting for: an earlier owner's send, settled here. */
  async #onEcho(event: EchoEvent): Promise<void> {
    if (event.own || event.tracingId === undefined) return;
    const pending = await this.#pendingSendByEntryId(event.tracingId);
    if (pending === undefined) return;
    const updated = await this.#write(() =>
      this.#deps.transcript.updateStatus(this.sessionId, pending, {
        to: 'sent',
        from: ['pending'],
        genesysId: event.genesysId,
      }),
    ).catch((e) => this.#settledElsewhere(e));
    if (updated) await this.#post(statusEvent(updated));
  }

  async #pendingSendByEntryId(entryId: string): Promise<number | undefined> {
    const record = await this.#deps.sessions.get(this.sessionId);
    const command = record?.pending[entryId];
    return command?.type === 'send' ? command.seq : undefined;
  }

  async #onReceipt(event: ReceiptEvent): Promise<void> {
    const status = event.status.toLowerCase();
    if (status !== 'delivered' && status !== 'read') return;
    const entry = await this.#deps.transcript.findByKey(this.sessionId, { genesysId: event.messageId });
    if (entry === undefined || entry.direction !== 'guest') return;
    const updated = await this.#write(() =>
      this.#deps.transcript.updateStatus(this.sessionId, entry.seq, { to: status }),
    ).catch((e) => this.#settledElsewhere(e));
    if (updated === undefined) return;
    await this.#post({ type: 'readReceipt', sessionId: this.sessionId, sequenceId: updated.seq, status });
  }

  async #onPresence(event: PresenceEvent): Promise<void> {
    if (event.type === 'disconnect' && event.readOnly === true && this.#status !== 'readOnly') {
      const updated = await this.#write(() =>
        this.#deps.sessions.updateStatus(this.sessionId, 'readOnly', this.fence),
      );
      this.#status = updated.status;
    }
    const presence = PRESENCES.get(event.type);
    if (presence === undefined) return;
    await this.#post({
      type: 'presence',
      sessionId: this.sessionId,
      from: event.author,
      presence,
      ...(event.readOnly === undefined ? {} : { readOnly: event.readOnly }),
    });
  }

  async #onTyping(event: TypingEvent): Promise<void> {
    // Genesys' Outbound Typing events name no originating entity (reference §5): they are the agent's
    // side typing ("showAgentTypingIndicator"); only a bot's are marked as such.
    await this.#post({
      type: 'typing',
      sessionId: this.sessionId,
      from: event.author === 'bot' ? 'bot' : 'agent',
      state: event.durationMs > 0 ? 'on' : 'off',
      durationMs: event.durationMs,
    });
  }

  async #onUpstreamClosed(event: ClosedEvent): Promise<void> {
    // `closed` follows our own close() or end(): whoever called it carries on from there.
    if (this.#closed || event.reason === 'closed') return;
    const reason = END_REASONS[event.reason];
    if (reason === undefined) {
      // Not ended by Genesys (too many sockets on the token, or a close we did not ask for): let the
      // worker decide; a session still ours is opened again by the next sweep.
      this.#deps.log.warn('upstream session closed', { sessionId: this.sessionId, reason: event.reason });
      await this.close('lost');
      return;
    }
    await this.#write(() => this.#deps.sessions.end(this.sessionId, reason, this.fence));
    await this.#post({ type: 'sessionEnded', sessionId: this.sessionId, reason });
    await this.close('ended');
  }
}

const PRESENCES: ReadonlyMap<string, 'join' | 'disconnect' | 'clear' | 'signIn' | 'sessionExpired'> = new Map(
  [
    ['join', 'join'],
    ['disconnect', 'disconnect'],
    ['clear', 'clear'],
    ['signIn', 'signIn'],
    ['sessionExpired', 'sessionExpired'],
  ],
);

function statusEvent(entry: TranscriptEntry): ServerEvent {
  return {
    type: 'status',
    sessionId: entry.sessionId,
    sequenceId: entry.seq,
    status: entry.status,
    ...(entry.clientMessageId === undefined ? {} : { clientMessageId: entry.clientMessageId }),
    ...(entry.failure === undefined ? {} : { failure: entry.failure }),
  };
}

function errorEvent(failure: { code: string; message: string }, action: string): ServerEvent {
  return {
    type: 'error',
    code: failure.code as Extract<ServerEvent, { type: 'error' }>['code'],
    message: failure.message,
    error: failure.message,
    retryable: false,
    action,
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

/** The upstream send of a stored guest entry: its text, attachment and quick-reply answer. */
function sendOptionsOf(entry: TranscriptEntry, maybeSent: boolean): SendOptions {
  const content = entry.content as ContentItem[];
  const attachmentIds = content.flatMap((item) => (item.kind === 'attachment' ? [item.id] : []));
  const reply = content.find((item) => item.kind === 'buttonResponse');
  return {
    tracingId: entry.entryId,
    ...(entry.text === undefined ? {} : { text: entry.text }),
    ...(attachmentIds.length === 0 ? {} : { attachmentIds }),
    ...(reply?.kind === 'buttonResponse'
      ? { buttonResponse: { text: reply.text, payload: reply.payload, type: BUTTON_TYPES[reply.type] } }
      : {}),
    ...(maybeSent ? { maybeSent: true } : {}),
  };
}
