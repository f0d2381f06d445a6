/**
 * One owned guest session: its upstream GuestSession, its frontends, and the path from upstream events to
 * the transcript (DESIGN §2). What the session's commands do, and how its transcript is written, is the
 * CommandExecutor's (src/commands/executor.ts); this runner gives it the upstream session, the lease-
 * gated writes and the ordered posts, and turns Genesys' events into records and events.
 *
 * - Every store write and every post goes through `#write`: it waits for the worker's lease (after a
 *   stall, until the worker knows the session is still its own) and gives up once the runner is closed.
 *   Fenced writes fail with STORE_FENCED once another worker claimed the session: the runner then closes
 *   without writing anything more.
 * - Upstream events are handled one at a time, in the order GuestSession emits them (after its reorder
 *   window), so the allocator numbers them in that order. Commands run beside them.
 * - Posts to the frontends go out in the order they were made, to the connections the runner keeps in
 *   memory: the session item's `conns` when it opens and whenever it reads the item, those `attach`
 *   doorbells name, minus those that answered 410; re-read now and then.
 */

import { commandsOf, type Doorbell } from '../src/commands/doorbell.js';
import { CommandExecutor, initialAttributes, RunnerClosed } from '../src/commands/executor.js';
import type { CommandQueue } from '../src/commands/queue.js';
import { readTranscript } from '../src/commands/reader.js';
import type { ChannelConstraints } from '../src/domain/constraints.js';
import { UPSTREAM_FAILURE_ADVICE } from '../src/domain/upstream-failure.js';
import type {
  ClosedEvent,
  EchoEvent,
  MessageEvent as GuestMessage,
  GuestSession,
  PresenceEvent,
  ReadyEvent,
  ReceiptEvent,
  ReconnectingEvent,
  TypingEvent,
} from '../src/genesys/client/index.js';
import { SessionState } from '../src/genesys/client/index.js';
import type { GenesysError } from '../src/genesys/errors.js';
import type { Log } from '../src/logging/log.js';
import { ProtocolError, type ServerEvent } from '../src/protocol/index.js';
import { tokenExpiredEvent } from '../src/relay/expiry.js';
import { StoreError } from '../src/store/errors.js';
import type { QuotaStore } from '../src/store/quotas.js';
import { type Fence, isEndedConflict, type SessionRecord, type SessionStore } from '../src/store/sessions.js';
import type { TranscriptEntry, TranscriptStore } from '../src/store/transcript.js';
import type { TranscriptWriter } from '../src/store/transcript-writer.js';
import { failureOf } from './failures.js';
import type { Fanout } from './fanout.js';
import { isNumberedFromPush, lastActivity } from './resume-from.js';

/** Why a runner stopped. `shutdown` releases the session; `lost` and `ended` write nothing more. */
export type CloseMode = 'shutdown' | 'lost' | 'ended';

export interface RunnerDeps {
  readonly sessions: SessionStore;
  readonly transcript: TranscriptStore;
  readonly entries: TranscriptWriter;
  readonly queue: CommandQueue;
  readonly fanout: Fanout;
  /** Resolves while the worker may write; waits across a stall until ownership was re-checked. */
  readonly ready: () => Promise<void>;
  /** A GuestSession for the stored session (the worker injects socket, fetch, clock, logger). */
  readonly openGuest: (record: SessionRecord, options: { readonly resumeFrom?: number }) => GuestSession;
  /** Why the session may not open upstream (the team policy), or undefined. */
  readonly refuseUpstream?: (record: SessionRecord) => string | undefined;
  /** How long the session lives without a frontend and without traffic. */
  readonly idleTimeoutMs?: (record: SessionRecord) => number;
  /** How long the Genesys socket may fail before the frontends get `upstream_unavailable` (30 s). */
  readonly upstreamUnavailableAfterMs?: number;
  /** Gives the session's open-sessions slot back when it ends. */
  readonly quotas?: Pick<QuotaStore, 'releaseSession'>;
  /** The worker's control connection now. */
  readonly controlConnectionId: () => string | undefined;
  readonly log: Log;
  readonly now: () => number;
  /** Called once, when the runner has closed (for whatever reason). */
  readonly onClosed: (sessionId: string, mode: CloseMode) => void;
  readonly counters: RunnerCounters;
}

/** Figures the health endpoint reports. */
export interface RunnerCounters {
  writes: number;
  upstreamSends: number;
  appended: number;
  duplicatesDropped: number;
}

/**
 * `#lastActivity` reads the transcript backward in pages of this size: at most LAST_ACTIVITY_SEARCH_PAGES
 * while looking for an entry numbered from a push, and LAST_ACTIVITY_PAGES in all to cover the backfill's
 * slack before it (1,000 entries in its 10 s).
 */
const LAST_ACTIVITY_PAGE_SIZE = 50;
const LAST_ACTIVITY_SEARCH_PAGES = 4;
const LAST_ACTIVITY_PAGES = 20;
/** How long an idle session with a frontend still open is left before its frontends are checked again. */
const IDLE_RECHECK_MS = 60_000;
/** An upstream message whose numbering write failed (store unavailable) is tried again this often. */
const RECORD_ATTEMPTS = 5;
/** The default of RunnerDeps.upstreamUnavailableAfterMs (worker config UPSTREAM_UNAVAILABLE_AFTER_MS). */
const UPSTREAM_UNAVAILABLE_AFTER_MS = 30_000;
/** A request waiting for the upstream session gives up this long after the bound if no trouble was reported. */
const NEXT_READY_MARGIN_MS = 5_000;
/** Genesys' own words in an event are cut to this many characters. */
const GENESYS_MESSAGE_LIMIT = 300;

/** The Genesys socket has been failing since `since`; the latest reason, and whether it was reported. */
interface UpstreamTrouble {
  readonly since: number;
  failures: number;
  last: ReconnectingEvent;
  reported: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** How an upstream close ends the session (`rejected` has its own path: #onRejected). */
const END_REASONS: Readonly<
  Record<Exclude<ClosedEvent['reason'], 'rejected'>, 'expired' | 'cleared' | undefined>
> = {
  closed: undefined,
  expired: 'expired',
  sessionLimit: undefined,
  signedIn: 'cleared',
  connectionClosed: 'cleared',
};

export class SessionRunner {
  readonly sessionId: string;
  readonly fence: Fence;
  readonly #deps: RunnerDeps;
  readonly #executor: CommandExecutor;
  #guest: GuestSession | undefined;
  /** Upstream events, one at a time. */
  #chain: Promise<void> = Promise.resolve();
  /** Posts to the frontends, in order. */
  #posting: Promise<void> = Promise.resolve();
  /** The session's frontend connections. */
  readonly #connections = new Set<string>();
  #closed: CloseMode | undefined;
  #closing: Promise<void> | undefined;
  #status: SessionRecord['status'] = 'starting';
  #constraints: ChannelConstraints | undefined;
  readonly #readyOnce: Promise<void>;
  #resolveReady!: () => void;
  #draining = false;
  #drainAgain = false;
  /**
   * Whether the upstream session was ready once, under this owner or an earlier one (the session is past
   * `starting`): a session that never was ends when Genesys stays away; a live one keeps trying.
   */
  #everReady = false;
  #trouble: UpstreamTrouble | undefined;
  /** Requests waiting for the upstream session to be ready again (`#nextReady`). */
  readonly #readyWaiters = new Set<(ready: boolean) => void>();
  /** Who last spoke to the guest: a Typing event that does not say who types is theirs. */
  #lastSpeaker: 'agent' | 'bot' | undefined;
  /** When the frontend connections were last read from the store (epoch ms). */
  connectionsReadAt = 0;
  /** When a command, a doorbell or an upstream event last came (epoch ms): idle sessions end. */
  #activeAt: number;
  /** The idle check found a frontend: not asked again before this (epoch ms). */
  #idleCheckAfter = 0;
  /** The session as last read (whose it is: quota release, idle timeout, the team policy). */
  #record: SessionRecord | undefined;
  /** When each connection's access token expires, from its row (null: the row names no expiry). */
  readonly #tokenExpiry = new Map<string, number | null>();

  constructor(sessionId: string, fence: Fence, deps: RunnerDeps) {
    this.sessionId = sessionId;
    this.fence = fence;
    this.#deps = deps;
    this.#activeAt = deps.now();
    this.#readyOnce = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
    const runner = this;
    this.#executor = new CommandExecutor({
      sessionId,
      fence,
      sessions: deps.sessions,
      transcript: deps.transcript,
      entries: deps.entries,
      queue: deps.queue,
      guest: () => this.#requireGuest(),
      write: (action) => this.#write(action),
      post: (event) => this.#post(event),
      postTo: (connectionId, event) => this.#postTo(connectionId, event),
      controlConnectionId: deps.controlConnectionId,
      get closed() {
        return runner.#closed !== undefined;
      },
      ready: () => this.#readyOnce,
      nextReady: () => this.#nextReady(),
      onFailure: (error, context) => this.#onFailure(error, context),
      ended: () => this.close('ended'),
      failureOf,
      log: deps.log,
      now: deps.now,
      counters: deps.counters,
    });
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Opens the upstream session and starts the pending commands. False when the session is not ours. */
  async open(): Promise<boolean> {
    let record = await this.#deps.sessions.get(this.sessionId);
    if (record !== undefined) this.#record = record;
    if (record === undefined || record.status === 'ended') {
      await this.close('ended');
      return false;
    }
    if (!this.#isOurs(record)) {
      await this.close('lost');
      return false;
    }
    record = await this.#deps.queue.ensureAllocator(record, this.#deps.transcript);
    this.#record = record;
    const refused = this.#deps.refuseUpstream?.(record);
    if (refused !== undefined) {
      await this.#refuse(record, refused);
      return false;
    }
    // Epoch 1 is the first claim; a later epoch, or a session already past `starting`, had an owner.
    const takenOver = record.epoch > 1 || record.status !== 'starting';
    this.#status = record.status;
    this.#constraints = record.constraints;
    // A conversation that was live before this owner is not ended because this owner cannot reach Genesys.
    this.#everReady = record.status !== 'starting';
    const [activity] = await Promise.all([
      takenOver ? this.#lastActivity(record) : undefined,
      this.#learnConnections(record),
    ]);
    const guest = this.#deps.openGuest(
      record,
      activity === undefined ? {} : { resumeFrom: activity.resumeFrom },
    );
    this.#guest = guest;
    const attributes = initialAttributes(record, (message) =>
      this.#deps.log.warn(message, { sessionId: this.sessionId }),
    );
    if (Object.keys(attributes).length > 0) guest.setCustomAttributes(attributes);
    guest.on('ready', (event) => this.#serial(() => this.#onReady(event)));
    guest.on('message', (event) => {
      this.#activeAt = this.#deps.now();
      this.#serial(() => this.#onMessage(event));
    });
    guest.on('echo', (event) => this.#serial(() => this.#onEcho(event)));
    guest.on('receipt', (event) => this.#serial(() => this.#onReceipt(event)));
    guest.on('presence', (event) => this.#serial(() => this.#onPresence(event)));
    guest.on('typing', (event) => void this.#onTyping(event));
    guest.on('closed', (event) => this.#serial(() => this.#onUpstreamClosed(event)));
    guest.on('reconnecting', (event) => {
      this.#deps.log.info('upstream reconnecting', { sessionId: this.sessionId, ...event });
      this.#onUpstreamTrouble(event);
    });
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
    this.#executor.open(record, { takenOver, stored: activity?.entries ?? [] });
    return true;
  }

  /** A doorbell for this session: its commands, its frontend connection, or the guest's typing. */
  onDoorbell(doorbell: Doorbell): void {
    if (this.#closed) return;
    this.#activeAt = this.#deps.now();
    if (doorbell.connectionId !== undefined) this.#connections.add(doorbell.connectionId);
    if (doorbell.reason === 'typing') {
      this.#guest?.typing();
      return;
    }
    if (doorbell.reason !== 'command') return;
    // Another epoch's doorbell (rung before a claim) cannot be trusted to list this epoch's work.
    if (
      doorbell.epoch !== this.fence.epoch ||
      !this.#executor.accept(commandsOf(doorbell), doorbell.pending ?? [])
    ) {
      this.drain();
    }
  }

  /**
   * What a sweep found pending (eventually consistent): the session is read only when it names a command
   * this runner has not seen. Nothing pending at all: the executor plans the idle clear that takes the
   * session out of the pending index, unless one is planned or work is under way.
   */
  checkPending(commandIds: readonly string[]): void {
    if (this.#closed) return;
    if (commandIds.length === 0) this.#executor.listedWithNothingPending();
    else if (!this.#executor.knows(commandIds)) this.drain();
  }

  /** Reads the session item (consistent) and starts the commands not already running. */
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

  /**
   * Run by each sweep, in memory unless something is due: connections whose access token expired get a
   * `token_expired` error and are closed; a session without a frontend and without traffic for its
   * team's idle timeout is ended upstream (`sessionEnded` reason `expired`), freeing its slot.
   */
  async housekeep(now: number): Promise<void> {
    if (this.#closed || this.#record === undefined) return;
    await this.#closeExpiredConnections(now);
    const timeout = this.#deps.idleTimeoutMs?.(this.#record);
    if (timeout === undefined || now - this.#activeAt < timeout || now < this.#idleCheckAfter) return;
    if (await this.#hasLiveFrontend()) {
      // An open page without traffic keeps its session; asked again in a while, not every sweep.
      this.#idleCheckAfter = now + Math.min(IDLE_RECHECK_MS, timeout);
      return;
    }
    if (this.#closed) return;
    this.#deps.log.info('idle session ended', { sessionId: this.sessionId, idleMs: now - this.#activeAt });
    const guest = this.#guest;
    try {
      await guest?.end();
    } catch (error) {
      this.#deps.log.warn('ending an idle session upstream failed', { sessionId: this.sessionId, error });
    }
    await this.#executor.finishEnd('expired');
    await this.#post({ type: 'sessionEnded', sessionId: this.sessionId, reason: 'expired' });
    await this.close('ended');
  }

  async #closeExpiredConnections(now: number): Promise<void> {
    const expired: string[] = [];
    for (const connectionId of [...this.#connections]) {
      if (!this.#tokenExpiry.has(connectionId)) {
        const row = await this.#deps.fanout.connection(connectionId);
        if (row === undefined) {
          // Disconnected: its $disconnect takes it off the item; nothing to post to.
          this.#connections.delete(connectionId);
          continue;
        }
        this.#tokenExpiry.set(connectionId, row.tokenExpiresAt ?? null);
      }
      const at = this.#tokenExpiry.get(connectionId);
      if (typeof at === 'number' && at <= now) expired.push(connectionId);
    }
    if (expired.length === 0) return;
    const event = tokenExpiredEvent();
    await this.#write(async () => {
      await this.#deps.fanout.post(this.sessionId, expired, event);
      await this.#deps.fanout.close(this.sessionId, expired);
      await this.#deps.sessions.detachConnections(this.sessionId, expired);
    });
    for (const connectionId of expired) {
      this.#connections.delete(connectionId);
      this.#tokenExpiry.delete(connectionId);
    }
    this.#deps.log.info('connections closed: token expired', {
      sessionId: this.sessionId,
      count: expired.length,
    });
  }

  /**
   * Whether a frontend connection of the session is still there: the item's connections, each checked
   * against its row (a `$disconnect` deletes it; API Gateway sends one best effort, so a connection the
   * item still names may be gone). Gone ones are taken off the item.
   */
  async #hasLiveFrontend(): Promise<boolean> {
    const record = await this.#deps.sessions.get(this.sessionId);
    if (record === undefined || record.status === 'ended') return false;
    const listed = record.conns ?? (await this.#deps.fanout.connectionsOf(this.sessionId));
    const gone: string[] = [];
    let live = false;
    for (const connectionId of listed) {
      if ((await this.#deps.fanout.connection(connectionId)) === undefined) gone.push(connectionId);
      else live = true;
    }
    for (const connectionId of gone) this.#connections.delete(connectionId);
    if (gone.length > 0) await this.#write(() => this.#deps.sessions.detachConnections(this.sessionId, gone));
    return live;
  }

  /** A session the team policy does not allow upstream: told why, and ended without touching Genesys. */
  async #refuse(record: SessionRecord, reason: string): Promise<void> {
    this.#deps.log.warn('session refused upstream by the team policy', { sessionId: this.sessionId });
    await this.#learnConnections(record);
    await this.#endWithError(new ProtocolError('deployment_not_allowed', reason));
  }

  /**
   * Ends the session for `error`'s reason: its unsent messages fail, and the frontends get the error,
   * then `sessionEnded` with the same code and message (and Genesys' own code, when it refused).
   */
  async #endWithError(error: ProtocolError, genesysCode?: number): Promise<void> {
    await this.#executor.finishEnd('error', {
      code: error.code,
      message: `The session ended before the message was sent: ${error.message}`,
    });
    await this.#post(error.toEvent());
    await this.#post({
      type: 'sessionEnded',
      sessionId: this.sessionId,
      reason: 'error',
      code: error.code,
      message: error.message,
      ...(genesysCode === undefined ? {} : { genesysCode }),
    });
    await this.close('ended');
  }

  /** Reads the session's frontend connections from the store again (one GetItem). */
  async refreshConnections(): Promise<void> {
    const record = await this.#deps.sessions.get(this.sessionId);
    if (record !== undefined) await this.#learnConnections(record);
  }

  /**
   * The connections the session item names. A session stored before it named them lists them by the
   * connections table's index instead (which may lag: it only ever adds here, and a 410 removes).
   */
  async #learnConnections(record: SessionRecord): Promise<void> {
    this.connectionsReadAt = this.#deps.now();
    const listed = record.conns ?? (await this.#deps.fanout.connectionsOf(this.sessionId));
    for (const connectionId of listed) this.#connections.add(connectionId);
  }

  /**
   * Stops the runner. `shutdown`: write what waits to be settled, close the upstream socket (the Genesys
   * session lives on) and release the session so another worker claims it at once; commands in flight
   * stay pending for it.
   */
  close(mode: CloseMode): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      if (mode === 'shutdown') {
        await this.#executor.flush().catch((error) => {
          this.#deps.log.warn('settlement before release failed; the next owner redoes it', {
            sessionId: this.sessionId,
            error,
          });
        });
      }
      this.#closed = mode;
      this.#giveUpWaiters();
      this.#executor.stop();
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
      const owner = this.#record;
      if (mode === 'ended' && owner !== undefined && this.#deps.quotas !== undefined) {
        // Idempotent; a release lost here is made good when the quota is next found full.
        await this.#deps.quotas
          .releaseSession({ team: owner.team, subject: owner.subject }, this.sessionId)
          .catch((error) =>
            this.#deps.log.warn('quota release failed', { sessionId: this.sessionId, error }),
          );
      }
      this.#deps.log.info('session closed', { sessionId: this.sessionId, mode });
      this.#deps.onClosed(this.sessionId, mode);
    })();
    return this.#closing;
  }

  #isOurs(record: SessionRecord): boolean {
    return record.ownerId === this.fence.workerId && record.epoch === this.fence.epoch;
  }

  /**
   * Where the backfill of a taken-over session starts, and the newest entries (their Genesys ids are not
   * numbered again): the transcript read backward until the backfill's horizon is covered
   * (worker/resume-from.ts).
   */
  async #lastActivity(record: SessionRecord): Promise<{ resumeFrom: number; entries: TranscriptEntry[] }> {
    const activity = await lastActivity(
      (cursor) =>
        readTranscript(this.#deps.transcript, record, {
          limit: LAST_ACTIVITY_PAGE_SIZE,
          direction: 'backward',
          ...(cursor === undefined ? {} : { cursor }),
        }),
      { createdAt: record.createdAt, searchPages: LAST_ACTIVITY_SEARCH_PAGES, maxPages: LAST_ACTIVITY_PAGES },
    );
    if (!activity.covered && activity.entries.some(isNumberedFromPush)) {
      this.#deps.log.warn('takeover: the backfill starts at the oldest entry read', {
        sessionId: this.sessionId,
        entriesRead: activity.entries.length,
        resumeFrom: new Date(activity.resumeFrom).toISOString(),
      });
    }
    return activity;
  }

  // ---------------------------------------------------------------- writes and posts

  /** Every store write and post goes through here: lease first, and nothing once closed. */
  async #write<T>(action: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new RunnerClosed();
    await this.#deps.ready();
    if (this.#closed) throw new RunnerClosed();
    const result = await action();
    this.#deps.counters.writes++;
    return result;
  }

  /** Posts to every frontend connection of the session, after every earlier post (see #postIn). */
  #post(event: ServerEvent): Promise<void> {
    return this.#postIn(event, () => [...this.#connections]).then(() => undefined);
  }

  /** Posts to one connection only, in the same order as #post; false when it is gone (see #postIn). */
  #postTo(connectionId: string, event: ServerEvent): Promise<boolean> {
    return this.#postIn(event, () => [connectionId]);
  }

  /**
   * Posts `event` to the connections `to()` names when its turn comes, after every earlier post.
   * Resolves when it is done, never rejects (a failure is logged): true when no connection was gone, false
   * when one was (it is forgotten here and on the item) or the post could not be made at all.
   */
  #postIn(event: ServerEvent, to: () => string[]): Promise<boolean> {
    let delivered = false;
    const posting = this.#posting.then(() =>
      this.#write(async () => {
        const gone = await this.#deps.fanout.post(this.sessionId, to(), event);
        delivered = gone.length === 0;
        if (delivered) return;
        for (const connectionId of gone) this.#connections.delete(connectionId);
        // Their $disconnect may never come (API Gateway sends it best effort): the item forgets them.
        await this.#deps.sessions.detachConnections(this.sessionId, gone);
      }).catch((error) => this.#onFailure(error, `post ${event.type}`)),
    );
    this.#posting = posting;
    return posting.then(() => delivered);
  }

  #serial(task: () => Promise<void>): void {
    this.#chain = this.#chain.then(task).catch((error) => this.#onFailure(error, 'upstream event'));
  }

  #onFailure(error: unknown, context: string): void {
    if (error instanceof RunnerClosed) return;
    if (error instanceof StoreError && error.code === 'STORE_FENCED') {
      this.#deps.log.warn('session lost to another worker', { sessionId: this.sessionId, context });
      void this.close('lost');
      return;
    }
    if (isEndedConflict(error)) {
      void this.close('ended');
      return;
    }
    this.#deps.log.error('session work failed', { sessionId: this.sessionId, context, error });
  }

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
    this.#record = record;
    await this.#learnConnections(record);
    this.#executor.drain(record);
  }

  #requireGuest(): GuestSession {
    if (this.#guest === undefined || this.#closed) throw new RunnerClosed();
    return this.#guest;
  }

  /**
   * True once the upstream session is ready again (a new SessionResponse, or ready already when asked);
   * false once it is declared unavailable (`#upstreamUnavailable`, after the frontends were told why),
   * once the runner closes, or, should no upstream trouble ever be reported, after the unavailability
   * bound and a margin.
   */
  #nextReady(): Promise<boolean> {
    const guest = this.#guest;
    if (guest === undefined || this.#closed !== undefined || this.#trouble?.reported === true) {
      return Promise.resolve(false);
    }
    // Back already (the socket was lost and found again before the caller asked): try again now.
    if (guest.state === SessionState.ready) return Promise.resolve(true);
    const bound =
      (this.#deps.upstreamUnavailableAfterMs ?? UPSTREAM_UNAVAILABLE_AFTER_MS) + NEXT_READY_MARGIN_MS;
    return new Promise((resolve) => {
      const settle = (ready: boolean): void => {
        clearTimeout(timer);
        off();
        this.#readyWaiters.delete(settle);
        resolve(ready);
      };
      const off = guest.on('ready', () => settle(true));
      const timer = setTimeout(() => settle(false), bound);
      timer.unref?.();
      this.#readyWaiters.add(settle);
    });
  }

  /** Tells every `#nextReady` waiter that the session will not be ready for it. */
  #giveUpWaiters(): void {
    for (const settle of [...this.#readyWaiters]) settle(false);
  }

  // ---------------------------------------------------------------- upstream events

  async #onReady(event: ReadyEvent): Promise<void> {
    this.#resolveReady();
    this.#everReady = true;
    const trouble = this.#trouble;
    if (trouble !== undefined) {
      clearTimeout(trouble.timer);
      this.#trouble = undefined;
      await this.#post({
        type: 'upstream',
        sessionId: this.sessionId,
        state: 'connected',
        message: `Connected to Genesys again after ${trouble.failures} failed attempt(s).`,
      });
    }
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
    await this.#post({
      type: 'connect',
      sessionId: this.sessionId,
      resumed: !event.newSession,
      lastSequenceId: updated.lastSeq ?? 0,
      status,
      constraints: updated.constraints as Extract<ServerEvent, { type: 'connect' }>['constraints'],
      deploymentId: updated.deploymentId,
    });
  }

  async #onMessage(event: GuestMessage): Promise<void> {
    if (event.author === 'agent' || event.author === 'bot') this.#lastSpeaker = event.author;
    const message = {
      direction: event.author,
      content: event.content,
      genesysId: event.genesysId,
      ...(event.text === undefined ? {} : { text: event.text }),
      ...(event.sender === undefined ? {} : { sender: event.sender }),
      ...(event.time === undefined ? {} : { time: event.time }),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#executor.record(message);
        return;
      } catch (error) {
        // A store that is briefly unavailable must not lose the agent's message: try again, paced.
        const retry = error instanceof StoreError && error.code === 'STORE_UNAVAILABLE';
        if (!retry || attempt >= RECORD_ATTEMPTS || this.#closed) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  /** An Inbound echo that no send of ours is waiting for: an earlier owner's send, settled here. */
  async #onEcho(event: EchoEvent): Promise<void> {
    if (event.own || event.tracingId === undefined) return;
    await this.#executor.foreignEcho(event.tracingId, event.genesysId);
  }

  async #onReceipt(event: ReceiptEvent): Promise<void> {
    const status = event.status.toLowerCase();
    if (status !== 'delivered' && status !== 'read') return;
    await this.#executor.receipt(event.messageId, status);
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
    // No recorded Genesys Typing event names its originating entity (reference §5). When it does not,
    // the one typing is whoever spoke last in the conversation (the bot that keeps answering, or the
    // agent it handed over to); before anyone has, the agent ("showAgentTypingIndicator").
    const from = event.author === 'system' ? (this.#lastSpeaker ?? 'agent') : event.author;
    await this.#post({
      type: 'typing',
      sessionId: this.sessionId,
      from,
      state: event.durationMs > 0 ? 'on' : 'off',
      durationMs: event.durationMs,
    });
  }

  /** Genesys refused the session for good: its reason reaches the frontends, and the session ends. */
  async #onRejected(error: GenesysError | undefined): Promise<void> {
    const { message, genesysCode } = rejectionOf(error);
    this.#deps.log.warn('upstream session refused', { sessionId: this.sessionId, genesysCode, error });
    await this.#endWithError(
      new ProtocolError('upstream_rejected', message, {
        ...(genesysCode === undefined ? {} : { details: { genesysCode } }),
      }),
      genesysCode,
    );
  }

  /**
   * The Genesys socket failed and the client tries again: every frontend is told why and when the next
   * attempt is; after `upstreamUnavailableAfterMs` of failures, `#upstreamUnavailable`.
   */
  #onUpstreamTrouble(event: ReconnectingEvent): void {
    if (this.#closed) return;
    const now = this.#deps.now();
    let trouble = this.#trouble;
    if (trouble === undefined) {
      trouble = { since: now, failures: 0, last: event, reported: false, timer: undefined };
      this.#trouble = trouble;
      const bound = this.#deps.upstreamUnavailableAfterMs ?? UPSTREAM_UNAVAILABLE_AFTER_MS;
      const timer = setTimeout(() => this.#serial(() => this.#upstreamUnavailable()), bound);
      timer.unref?.();
      trouble.timer = timer;
    }
    trouble.failures++;
    trouble.last = event;
    const seconds = Math.max(1, Math.round(event.delayMs / 1000));
    void this.#post({
      type: 'upstream',
      sessionId: this.sessionId,
      state: 'retrying',
      reason: event.reason,
      detail: event.detail,
      message: `${upstreamProblem(event)} Trying again in ${seconds} s.`,
      attempt: trouble.failures,
      retryAt: new Date(now + event.delayMs).toISOString(),
    });
  }

  /**
   * The Genesys socket has failed for the whole bound: the frontends get `upstream_unavailable`. A session
   * that never connected ends (nothing of it exists upstream; its unsent messages fail); one that did
   * keeps trying, and its messages wait.
   */
  async #upstreamUnavailable(): Promise<void> {
    const trouble = this.#trouble;
    if (trouble === undefined || trouble.reported || this.#closed) return;
    trouble.reported = true;
    const { last } = trouble;
    const waited = Math.round((this.#deps.now() - trouble.since) / 1000);
    const message =
      `Genesys could not be reached for ${waited} s (${trouble.failures} attempts). ${upstreamProblem(last)}` +
      (this.#everReady
        ? ' The session keeps trying; messages wait until Genesys is back.'
        : ' The session has ended; start a new one once Genesys can be reached.');
    this.#deps.log.warn('upstream unavailable', {
      sessionId: this.sessionId,
      reason: last.reason,
      detail: last.detail,
      attempts: trouble.failures,
    });
    await this.#post({
      type: 'upstream',
      sessionId: this.sessionId,
      state: 'unavailable',
      reason: last.reason,
      detail: last.detail,
      message,
      attempt: trouble.failures,
    });
    const unavailable = new ProtocolError('upstream_unavailable', message, {
      details: { reason: last.reason, detail: last.detail },
    });
    if (this.#everReady) {
      await this.#post(unavailable.toEvent());
      this.#giveUpWaiters();
      return;
    }
    await this.#guest?.close().catch((error: unknown) => {
      this.#deps.log.warn('closing an unreachable upstream session failed', {
        sessionId: this.sessionId,
        error,
      });
    });
    await this.#endWithError(unavailable);
  }

  async #onUpstreamClosed(event: ClosedEvent): Promise<void> {
    // `closed` follows our own close() or end(): whoever called it carries on from there.
    if (this.#closed || event.reason === 'closed') return;
    clearTimeout(this.#trouble?.timer);
    if (event.reason === 'rejected') {
      await this.#onRejected(event.error);
      return;
    }
    const reason = END_REASONS[event.reason];
    if (reason === undefined) {
      // Not ended by Genesys (too many sockets on the token, or a close we did not ask for): let the
      // worker decide; a session still ours is opened again by a sweep (its reconciliation).
      this.#deps.log.warn('upstream session closed', { sessionId: this.sessionId, reason: event.reason });
      await this.close('lost');
      return;
    }
    await this.#executor.finishEnd(reason);
    await this.#post({ type: 'sessionEnded', sessionId: this.sessionId, reason });
    await this.close('ended');
  }
}

/** The socket's trouble in a person's words: the reason, its detail, and what to check. */
function upstreamProblem(event: Pick<ReconnectingEvent, 'reason' | 'detail'>): string {
  return `The connection to Genesys failed (${event.reason}: ${event.detail}). ${UPSTREAM_FAILURE_ADVICE[event.reason]}`;
}

/** What to check when Genesys refuses a session, by the status or code it refused with. */
function refusalAdvice(genesysCode: number | undefined, message: string): string {
  if (genesysCode === 404 || /deployment/i.test(message)) {
    return 'Check the deployment id and its region: Genesys does not know this deployment there.';
  }
  if (genesysCode === 403) {
    return "Check the origin (GENESYS_ORIGIN) against the deployment's allowed domains.";
  }
  if (genesysCode === 401) return 'Genesys did not accept the guest credentials of this session.';
  return 'Check the deployment id, its region and the allowed origin.';
}

/** The events of a session Genesys refused: its code and words, and what to check. */
function rejectionOf(error: GenesysError | undefined): {
  readonly message: string;
  readonly genesysCode?: number;
} {
  const genesysCode = error?.genesysCode;
  const said = (error?.message ?? 'Genesys refused the session.').slice(0, GENESYS_MESSAGE_LIMIT);
  return {
    message: `Genesys refused the session: ${said}${genesysCode === undefined ? '' : ` (code ${genesysCode})`}. ${refusalAdvice(genesysCode, said)}`,
    ...(genesysCode === undefined ? {} : { genesysCode }),
  };
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
