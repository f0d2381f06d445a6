/**
 * The worker: owns guest sessions and keeps one upstream Genesys socket for each (DESIGN §2).
 *
 * - **Heartbeat**: one write per beat to its workers row (O(workers), whatever it owns), carrying its
 *   control connection id and its load. Each beat renews the lease (lease.ts); a beat that finds the
 *   lease had lapsed (a stall, a store outage) first re-checks which sessions are still its own.
 * - **Doorbells** act on one session at once: `command` carries the commands a write queued (the runner
 *   starts them, or reads the session when the doorbell says something it did not see), `claim` claims
 *   the session, `attach` adds a frontend connection, and `typing` passes the guest's typing upstream.
 * - **Sweep** (every `sweepIntervalMs`): its own pending work (one query), unowned sessions (one query:
 *   queued before any worker was live, or released by a worker that stopped), orphans of stale workers
 *   (one scan of the workers table, one query per stale worker), the sessions the store says it owns
 *   against those it runs, and a share of its sessions' frontend connections re-read. A doorbell that
 *   was lost is made good here.
 * - **Stop** (SIGTERM): releases every session (ownerId back to none) so that the others' next sweep
 *   claims them at once, removes its row and closes its control connection.
 */
import type { Doorbell } from '../src/commands/doorbell.js';
import type { CommandQueue } from '../src/commands/queue.js';
import type { GuestSession } from '../src/genesys/client/index.js';
import type { Log } from '../src/logging/log.js';
import { StoreError } from '../src/store/errors.js';
import type { QuotaStore } from '../src/store/quotas.js';
import {
  NO_OWNER,
  type SessionOwnership,
  type SessionRecord,
  type SessionStore,
} from '../src/store/sessions.js';
import type { TranscriptStore } from '../src/store/transcript.js';
import type { TranscriptWriter } from '../src/store/transcript-writer.js';
import type { WorkerStore } from '../src/store/workers.js';
import type { Fanout } from './fanout.js';
import type { Lease } from './lease.js';
import { type CloseMode, type RunnerCounters, SessionRunner } from './session-runner.js';

export interface WorkerDeps {
  readonly workerId: string;
  readonly sessions: SessionStore;
  readonly transcript: TranscriptStore;
  readonly entries: TranscriptWriter;
  readonly queue: CommandQueue;
  readonly workers: WorkerStore;
  readonly fanout: Fanout;
  readonly lease: Lease;
  readonly openGuest: (record: SessionRecord, options: { readonly resumeFrom?: number }) => GuestSession;
  /** Why a session may not open upstream (the team policy), or undefined. Default: every session may. */
  readonly refuseUpstream?: (record: SessionRecord) => string | undefined;
  /** How long a session without a frontend and without traffic lives (the team policy). Default: forever. */
  readonly idleTimeoutMs?: (record: SessionRecord) => number;
  /** How long an upstream socket may fail before `upstream_unavailable` (default 30 s). */
  readonly upstreamUnavailableAfterMs?: number;
  /** Gives an ended session's open-sessions slot back. */
  readonly quotas?: Pick<QuotaStore, 'releaseSession'>;
  readonly log: Log;
  readonly now: () => number;
  /** The control connection: started by `start`, stopped by `stop`; its id goes into each heartbeat. */
  readonly control: { start(): void; stop(): void; readonly connectionId: string | undefined };
}

export interface WorkerTiming {
  readonly heartbeatIntervalMs: number;
  readonly staleAfterMs: number;
  readonly sweepIntervalMs: number;
  /** Each session's frontend connections are re-read from the store this often (spread over sweeps). */
  readonly connectionsRefreshMs: number;
}

export type WorkerState = 'starting' | 'running' | 'stopping' | 'stopped';

export interface WorkerHealth {
  readonly state: WorkerState;
  readonly workerId: string;
  readonly leaseValid: boolean;
  readonly controlConnectionId: string | null;
  readonly sessions: readonly string[];
  readonly counters: Readonly<WorkerCounters>;
}

export interface WorkerCounters extends RunnerCounters {
  heartbeats: number;
  heartbeatFailures: number;
  claims: number;
  sessionsLost: number;
  sweeps: number;
  upstreamFramesHeld: number;
}

/** The store's list of a worker's sessions is compared with its runners every this many sweeps. */
const RECONCILE_EVERY = 5;

/** Heartbeats on their way at once, at most: a store that slow gets no more of them. */
const MAX_BEATS_IN_FLIGHT = 3;

export class Worker {
  readonly #d: WorkerDeps;
  readonly #t: WorkerTiming;
  readonly #runners = new Map<string, SessionRunner>();
  /** Sessions being claimed or opened right now (a doorbell and a sweep must not race for one). */
  readonly #adopting = new Set<string>();
  /** Frontend connections whose `attach` doorbell came while their session was being opened here. */
  readonly #attachedMeanwhile = new Map<string, Set<string>>();
  #state: WorkerState = 'starting';
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** Beats on their way to the store (several when it is slow: see #scheduleHeartbeat). */
  readonly #beats = new Set<Promise<void>>();
  /** A check of every session's ownership that has not begun yet: lapsed beats that come meanwhile share it. */
  #queuedCheck: Promise<boolean> | undefined;
  #lastCheck: Promise<unknown> = Promise.resolve();
  #sweepTimer: ReturnType<typeof setTimeout> | undefined;
  #sweeping: Promise<void> | undefined;
  readonly #startedAt: number;
  readonly counters: WorkerCounters = {
    writes: 0,
    upstreamSends: 0,
    appended: 0,
    duplicatesDropped: 0,
    heartbeats: 0,
    heartbeatFailures: 0,
    claims: 0,
    sessionsLost: 0,
    sweeps: 0,
    upstreamFramesHeld: 0,
  };

  constructor(deps: WorkerDeps, timing: WorkerTiming) {
    this.#d = deps;
    this.#t = timing;
    this.#startedAt = deps.now();
  }

  get workerId(): string {
    return this.#d.workerId;
  }

  health(): WorkerHealth {
    return {
      state: this.#state,
      workerId: this.#d.workerId,
      leaseValid: this.#d.lease.valid,
      controlConnectionId: this.#d.control.connectionId ?? null,
      sessions: [...this.#runners.keys()].sort(),
      counters: { ...this.counters },
    };
  }

  /** First beat (so that the worker is live), control connection, then the timers and a first sweep. */
  async start(): Promise<void> {
    await this.#beat();
    this.#d.control.start();
    this.#state = 'running';
    this.#scheduleHeartbeat();
    this.#scheduleSweep(0);
  }

  /** The control connection changed: tell the Lambdas at once, and re-read the work (doorbells may be lost). */
  onControlConnection(): void {
    if (this.#state !== 'running') return;
    void this.#trackedBeat().then(() => this.sweep());
  }

  onDoorbell(doorbell: Doorbell): void {
    if (this.#state !== 'running') return;
    const runner = this.#runners.get(doorbell.sessionId);
    if (runner !== undefined) runner.onDoorbell(doorbell);
    else if (doorbell.reason === 'command' || doorbell.reason === 'claim') {
      void this.#adopt(doorbell.sessionId, doorbell.connectionId);
    } else if (doorbell.reason === 'attach' && doorbell.connectionId !== undefined) {
      // Being claimed: the claim may have read the session before this connection was attached.
      if (this.#adopting.has(doorbell.sessionId)) {
        const waiting = this.#attachedMeanwhile.get(doorbell.sessionId) ?? new Set<string>();
        waiting.add(doorbell.connectionId);
        this.#attachedMeanwhile.set(doorbell.sessionId, waiting);
      }
    }
  }

  /** Releases every session, removes the worker's row, closes the control connection. */
  async stop(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'stopping';
    clearTimeout(this.#heartbeatTimer);
    clearTimeout(this.#sweepTimer);
    this.#d.control.stop();
    await this.#sweeping?.catch(() => {});
    // A beat that lands after the row is removed would write it again.
    await Promise.all(this.#beats);
    await Promise.all([...this.#runners.values()].map((runner) => runner.close('shutdown')));
    try {
      await this.#d.workers.remove(this.#d.workerId);
    } catch (error) {
      this.#d.log.warn('could not remove the worker row; it goes stale by itself', { error });
    }
    this.#d.lease.revoke();
    this.#d.lease.releaseWaiters();
    this.#state = 'stopped';
    this.#d.log.info('worker stopped', { workerId: this.#d.workerId });
  }

  // ---------------------------------------------------------------- heartbeat

  /**
   * A beat every HEARTBEAT_INTERVAL_MS, whether or not the last one has landed (up to
   * MAX_BEATS_IN_FLIGHT at once). Waiting for each beat before the next made the lease lapse whenever
   * one write took more than (lease − interval) / 2; now only a write slower than lease − interval does.
   */
  #scheduleHeartbeat(): void {
    this.#heartbeatTimer = setTimeout(() => {
      if (this.#state !== 'running') return;
      this.#scheduleHeartbeat();
      if (this.#beats.size < MAX_BEATS_IN_FLIGHT) void this.#trackedBeat();
    }, this.#t.heartbeatIntervalMs);
  }

  /** A beat that `stop` waits for. */
  #trackedBeat(): Promise<void> {
    const beat = this.#beat().finally(() => this.#beats.delete(beat));
    this.#beats.add(beat);
    return beat;
  }

  async #beat(): Promise<void> {
    const sentAt = this.#d.lease.now();
    try {
      await this.#d.workers.heartbeat({
        workerId: this.#d.workerId,
        load: this.#runners.size,
        ...(this.#d.control.connectionId === undefined
          ? {}
          : { controlConnectionId: this.#d.control.connectionId }),
      });
      this.counters.heartbeats++;
    } catch (error) {
      this.counters.heartbeatFailures++;
      this.#d.log.warn('heartbeat failed', { error });
      return;
    }
    // The lease lapsed before this beat landed (a stall, or a slow write): others may have found this
    // worker stale and claimed sessions meanwhile. Find out before the renewal lets anything be written or
    // sent. While it is valid nobody can have: it ends a margin before others call the worker stale, and
    // every renewal either came while it was valid or after such a check.
    if (!this.#d.lease.valid && this.#runners.size > 0) {
      this.#d.log.warn('lease had lapsed: checking which sessions are still ours', {
        sessions: this.#runners.size,
        beatMs: Math.round(this.#d.lease.now() - sentAt),
      });
      if (!(await this.#checkOwnership())) return;
    }
    this.#d.lease.renew(sentAt);
  }

  /**
   * One check of every session's ownership that begins after this call (a check already under way may
   * have read a session before a claim this beat must see): joins the next one if it has not begun, else
   * queues one after the running one.
   */
  #checkOwnership(): Promise<boolean> {
    if (this.#queuedCheck !== undefined) return this.#queuedCheck;
    const check = this.#lastCheck.then(() => {
      this.#queuedCheck = undefined;
      return this.#verifyAll();
    });
    this.#queuedCheck = check;
    this.#lastCheck = check.catch(() => {});
    return check;
  }

  /**
   * Closes the runners whose session another worker claimed, or that ended (one read per 100 sessions).
   * False when the store could not say: the lease then stays lapsed (nothing is written or sent) and the
   * next beat checks again.
   */
  async #verifyAll(): Promise<boolean> {
    const runners = [...this.#runners.values()];
    let owners: Map<string, SessionOwnership>;
    try {
      owners = await this.#d.sessions.ownersOf(runners.map((runner) => runner.sessionId));
    } catch (error) {
      this.#d.log.warn('ownership check failed: the lease stays lapsed until the next beat checks again', {
        sessions: runners.length,
        error,
      });
      return false;
    }
    await Promise.all(
      runners.map(async (runner) => {
        const record = owners.get(runner.sessionId);
        const ours =
          record !== undefined &&
          record.status !== 'ended' &&
          record.ownerId === this.#d.workerId &&
          record.epoch === runner.fence.epoch;
        if (!ours) await runner.close(record?.status === 'ended' ? 'ended' : 'lost');
      }),
    );
    return true;
  }

  // ---------------------------------------------------------------- sweep

  #scheduleSweep(delay: number): void {
    this.#sweepTimer = setTimeout(() => {
      void this.sweep().finally(() => {
        if (this.#state === 'running') this.#scheduleSweep(this.#t.sweepIntervalMs);
      });
    }, delay);
  }

  /** One sweep (also run after every control connection change). Concurrent calls share one run. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweepOnce()
      .catch((error) => this.#d.log.warn('sweep failed', { error }))
      .finally(() => {
        this.#sweeping = undefined;
      });
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<void> {
    if (this.#state !== 'running' || !this.#d.lease.valid) return;
    this.counters.sweeps++;
    const me = this.#d.workerId;
    // 1. My pending work: a runner reads its session only when the list names a command it does not know
    //    (a doorbell was lost), so a sweep of busy sessions costs one query, not one read per session.
    for (const work of await this.#d.queue.listPending(me)) {
      const runner = this.#runners.get(work.sessionId);
      if (runner !== undefined) runner.checkPending(work.commandIds);
      else void this.#adopt(work.sessionId);
    }
    // 2. Unowned sessions: queued with no worker live, or released by a worker that stopped.
    for (const owned of await this.#d.sessions.listOwned(NO_OWNER)) void this.#adopt(owned.sessionId);
    // 3. Orphans: the sessions of workers whose heartbeat is stale.
    const now = this.#d.now();
    for (const worker of await this.#d.workers.listAll()) {
      if (worker.workerId === me || worker.heartbeatAt > now - this.#t.staleAfterMs) continue;
      const orphans = await this.#d.sessions.listOwned(worker.workerId);
      if (orphans.length === 0) {
        await this.#d.workers.removeIfStale(worker.workerId, worker.heartbeatAt);
        continue;
      }
      for (const orphan of shuffled(orphans)) void this.#adopt(orphan.sessionId);
    }
    // 4. Frontend connections whose attach doorbell was lost, a share of the sessions per sweep.
    for (const runner of this.#connectionRefreshesDue()) {
      await runner
        .refreshConnections()
        .catch((error) =>
          this.#d.log.warn('connections refresh failed', { sessionId: runner.sessionId, error }),
        );
    }
    // 5. Idle sessions end (no frontend, no traffic past the team's timeout); expired tokens lose their
    //    connections. Both are checked in memory: no request unless something is due.
    for (const runner of [...this.#runners.values()]) {
      await runner
        .housekeep(now)
        .catch((error) => this.#d.log.warn('housekeeping failed', { sessionId: runner.sessionId, error }));
    }
    // 6. What the store says I own against what I run, every RECONCILE_EVERY sweeps: it lists every owned
    //    session, and what it finds (a session left closed after a lost upstream) can wait a few seconds.
    if (this.counters.sweeps % RECONCILE_EVERY === 1) await this.#reconcile();
  }

  /** Opens what the store says is mine and I do not run; closes what I run that moved (the index lags). */
  async #reconcile(): Promise<void> {
    const me = this.#d.workerId;
    const listed = new Set((await this.#d.sessions.listOwned(me)).map((owned) => owned.sessionId));
    for (const sessionId of listed) if (!this.#runners.has(sessionId)) void this.#adopt(sessionId);
    for (const runner of this.#runners.values()) {
      if (listed.has(runner.sessionId)) continue;
      const record = await this.#d.sessions.get(runner.sessionId);
      if (record === undefined || record.status === 'ended') await runner.close('ended');
      else if (record.ownerId !== me || record.epoch !== runner.fence.epoch) await runner.close('lost');
    }
  }

  /**
   * The runners whose connections are due to be re-read, most overdue first, and no more than this
   * sweep's share: a refresh interval holds `connectionsRefreshMs / sweepIntervalMs` sweeps, so each
   * re-reads about that fraction of the sessions (twice it, to catch up). Thousands of sessions opened
   * together are then re-read spread over the interval, and one sweep stays short.
   */
  #connectionRefreshesDue(): SessionRunner[] {
    const now = this.#d.now();
    const due = [...this.#runners.values()].filter(
      (runner) => now - runner.connectionsReadAt >= this.#t.connectionsRefreshMs,
    );
    const sweepsPerInterval = Math.max(1, this.#t.connectionsRefreshMs / this.#t.sweepIntervalMs);
    const share = Math.ceil((2 * this.#runners.size) / sweepsPerInterval);
    return due.sort((a, b) => a.connectionsReadAt - b.connectionsReadAt).slice(0, share);
  }

  // ---------------------------------------------------------------- ownership

  /**
   * Claims the session (if it is not ours yet) and opens a runner for it; `connectionId` (a claim rung by
   * a start) joins its fan-out. Never throws.
   */
  async #adopt(sessionId: string, connectionId?: string): Promise<void> {
    if (this.#state !== 'running' || this.#runners.has(sessionId) || this.#adopting.has(sessionId)) return;
    this.#adopting.add(sessionId);
    try {
      await this.#d.lease.ready();
      if (this.#state !== 'running') return;
      const controlConnectionId = this.#d.control.connectionId;
      const claim = await this.#d.sessions.claim(sessionId, this.#d.workerId, {
        staleAfterMs: this.#t.staleAfterMs,
        ...(controlConnectionId === undefined ? {} : { controlConnectionId }),
      });
      if (claim.claimed) this.counters.claims++;
      this.#d.log.info('session claimed', { sessionId, epoch: claim.epoch, new: claim.claimed });
      const runner = new SessionRunner(
        sessionId,
        { workerId: this.#d.workerId, epoch: claim.epoch },
        {
          sessions: this.#d.sessions,
          transcript: this.#d.transcript,
          entries: this.#d.entries,
          queue: this.#d.queue,
          fanout: this.#d.fanout,
          ready: () => this.#d.lease.ready(),
          openGuest: this.#d.openGuest,
          ...(this.#d.refuseUpstream === undefined ? {} : { refuseUpstream: this.#d.refuseUpstream }),
          ...(this.#d.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: this.#d.idleTimeoutMs }),
          ...(this.#d.upstreamUnavailableAfterMs === undefined
            ? {}
            : { upstreamUnavailableAfterMs: this.#d.upstreamUnavailableAfterMs }),
          ...(this.#d.quotas === undefined ? {} : { quotas: this.#d.quotas }),
          controlConnectionId: () => this.#d.control.connectionId,
          log: this.#d.log,
          now: this.#d.now,
          onClosed: (id, mode) => this.#onRunnerClosed(id, mode, runner),
          counters: this.counters,
        },
      );
      this.#runners.set(sessionId, runner);
      try {
        if (!(await runner.open())) this.#runners.delete(sessionId);
        else {
          const attached = [...(this.#attachedMeanwhile.get(sessionId) ?? []), connectionId];
          for (const id of attached) {
            if (id !== undefined)
              runner.onDoorbell({ type: 'doorbell', sessionId, reason: 'attach', connectionId: id });
          }
        }
      } catch (error) {
        // Not opened (the store failed, or the session names no endpoint): the next sweep tries again.
        this.#runners.delete(sessionId);
        await runner.close('lost');
        throw error;
      }
    } catch (error) {
      if (
        error instanceof StoreError &&
        ['STORE_CLAIM_REFUSED', 'STORE_CONFLICT', 'STORE_NOT_FOUND'].includes(error.code)
      ) {
        // Someone else has it, it ended, or it is gone: nothing to do.
        return;
      }
      this.#d.log.warn('could not take a session', { sessionId, error });
    } finally {
      this.#adopting.delete(sessionId);
      this.#attachedMeanwhile.delete(sessionId);
    }
  }

  #onRunnerClosed(sessionId: string, mode: CloseMode, runner: SessionRunner): void {
    if (this.#runners.get(sessionId) === runner) this.#runners.delete(sessionId);
    if (mode === 'lost') this.counters.sessionsLost++;
  }

  get startedAt(): number {
    return this.#startedAt;
  }
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
