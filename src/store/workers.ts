/**
 * Worker liveness: one heartbeat item per worker in the workers table. A beat is one write per worker,
 * whatever the number of sessions it owns, so heartbeat cost is O(workers). Staleness is decided by
 * comparing `heartbeatAt` with the clock, never by TTL: TTL deletion is best effort and may lag by days
 * (AWS: "Working with expired items"); `expiresAt` only cleans up dead workers' rows.
 */
import { withDefaults } from '../domain/options.js';
import { DeleteCommand, GetCommand, ScanCommand, UpdateCommand } from './document.js';
import { StoreError, toStoreError } from './errors.js';
import { assertItemFits } from './item-size.js';
import type { StoreContext } from './store-context.js';

/** A worker's heartbeat row as stored. */
export interface WorkerRecord {
  readonly workerId: string;
  /** Epoch ms of the last beat. */
  readonly heartbeatAt: number;
  /** The worker's own load figure (e.g. sessions owned); lower is preferred for new sessions. */
  readonly load: number;
  /** The worker's connection on the control API: where Lambdas ring its doorbell. Absent while down. */
  readonly controlConnectionId?: string;
  /** Epoch ms the worker process started (kept from the first beat). */
  readonly startedAt: number;
  /** TTL, epoch seconds. */
  readonly expiresAt: number;
}

export interface HeartbeatInput {
  readonly workerId: string;
  /** Omitted means the worker has no control connection right now: the stored one is removed. */
  readonly controlConnectionId?: string;
  readonly load: number;
  /** Defaults to now on the first beat; later beats never move it. */
  readonly startedAt?: number;
}

export interface WorkerStoreOptions {
  /** How long a silent worker's row lives before TTL may delete it. Far beyond any staleness window. */
  readonly rowTtlMs: number;
}

const DEFAULTS: WorkerStoreOptions = { rowTtlMs: 6 * 60 * 60 * 1000 };

/** Reads and writes worker heartbeats. */
export class WorkerStore {
  readonly #ctx: StoreContext;
  readonly #options: WorkerStoreOptions;

  constructor(ctx: StoreContext, options: Partial<WorkerStoreOptions> = {}) {
    this.#ctx = ctx;
    this.#options = withDefaults('WorkerStore', DEFAULTS, options);
  }

  /**
   * Records one beat: one UpdateItem. `startedAt` uses if_not_exists so a restart under the same id is the
   * caller's to signal (by removing the row first) and a beat never rewrites history. A beat never moves
   * `heartbeatAt` back: a worker may have several beats on their way when the store is slow, and an older
   * one that lands after a newer one changes nothing (the row as it is is returned, after one more read).
   */
  async heartbeat(input: HeartbeatInput): Promise<WorkerRecord> {
    const now = this.#ctx.now();
    const expiresAt = Math.ceil((now + this.#options.rowTtlMs) / 1000);
    const projected = {
      workerId: input.workerId,
      heartbeatAt: now,
      load: input.load,
      startedAt: input.startedAt ?? now,
      expiresAt,
      ...(input.controlConnectionId === undefined ? {} : { controlConnectionId: input.controlConnectionId }),
    };
    assertItemFits(projected, `worker ${input.workerId}`);
    const values: Record<string, unknown> = {
      ':now': now,
      ':load': input.load,
      ':started': input.startedAt ?? now,
      ':exp': expiresAt,
    };
    let update =
      'SET heartbeatAt = :now, #load = :load, startedAt = if_not_exists(startedAt, :started), #exp = :exp';
    if (input.controlConnectionId === undefined) {
      update += ' REMOVE controlConnectionId';
    } else {
      update += ', controlConnectionId = :cc';
      values[':cc'] = input.controlConnectionId;
    }
    try {
      const { Attributes } = await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.workers,
          Key: { workerId: input.workerId },
          UpdateExpression: update,
          ExpressionAttributeNames: { '#load': 'load', '#exp': 'expiresAt' },
          ExpressionAttributeValues: values,
          ConditionExpression: 'attribute_not_exists(heartbeatAt) OR heartbeatAt <= :now',
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toWorker(Attributes) ?? projected;
    } catch (error) {
      const failure = toStoreError(error, `heartbeat of worker ${input.workerId}`);
      if (failure.code !== 'STORE_CONFLICT') throw failure;
    }
    const newer = await this.get(input.workerId);
    if (newer === undefined) {
      throw new StoreError('STORE_CONFLICT', `heartbeat of worker ${input.workerId}: the row went meanwhile`);
    }
    return newer;
  }

  /** The worker's row (consistent read); undefined when absent or past its TTL. */
  async get(workerId: string): Promise<WorkerRecord | undefined> {
    try {
      const { Item } = await this.#ctx.db.send(
        new GetCommand({ TableName: this.#ctx.tables.workers, Key: { workerId }, ConsistentRead: true }),
      );
      const worker = toWorker(Item);
      // TTL deletion lags: a row past its expiry is treated as gone.
      return worker && worker.expiresAt * 1000 > this.#ctx.now() ? worker : undefined;
    } catch (error) {
      throw toStoreError(error, `read of worker ${workerId}`);
    }
  }

  /** The worker's row if it beat within the last `staleAfterMs` (one consistent read), else undefined. */
  async getLive(workerId: string, staleAfterMs: number): Promise<WorkerRecord | undefined> {
    const worker = await this.get(workerId);
    return worker !== undefined && isFresh(worker, this.#ctx.now(), staleAfterMs) ? worker : undefined;
  }

  /** Whether the worker beat within the last `staleAfterMs`. A missing row counts as not live. */
  async isLive(workerId: string, staleAfterMs: number): Promise<boolean> {
    return (await this.getLive(workerId, staleAfterMs)) !== undefined;
  }

  /**
   * The live workers, least loaded first (ties by id, so the order is stable). One Scan of the workers
   * table, paginated: O(workers), which is small; a GSI would not make it cheaper.
   */
  async listLive(options: { readonly staleAfterMs: number }): Promise<WorkerRecord[]> {
    const now = this.#ctx.now();
    const live = await this.#scan(
      {
        FilterExpression: 'heartbeatAt > :cut AND #exp > :nowSec',
        ExpressionAttributeNames: { '#exp': 'expiresAt' },
        ExpressionAttributeValues: { ':cut': now - options.staleAfterMs, ':nowSec': Math.floor(now / 1000) },
      },
      (worker) => isFresh(worker, now, options.staleAfterMs),
      'scan of live workers',
    );
    return live.sort((a, b) => a.load - b.load || (a.workerId < b.workerId ? -1 : 1));
  }

  /**
   * Every worker row, live or not (one Scan, paginated: O(workers)). A sweep uses it to find stale
   * workers whose sessions need a new owner. Rows past their TTL are left out, as in `get`.
   */
  async listAll(): Promise<WorkerRecord[]> {
    const now = this.#ctx.now();
    const all = await this.#scan(
      { ConsistentRead: true },
      (worker) => worker.expiresAt * 1000 > now,
      'scan of workers',
    );
    return all.sort((a, b) => (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0));
  }

  /** One paginated Scan of the workers table, keeping the rows `keep` accepts. */
  async #scan(
    input: Omit<ConstructorParameters<typeof ScanCommand>[0], 'TableName' | 'ExclusiveStartKey'>,
    keep: (worker: WorkerRecord) => boolean,
    context: string,
  ): Promise<WorkerRecord[]> {
    const kept: WorkerRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.#ctx.db.send(
          new ScanCommand({
            TableName: this.#ctx.tables.workers,
            ...input,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          const worker = toWorker(item);
          if (worker && keep(worker)) kept.push(worker);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      throw toStoreError(error, context);
    }
    return kept;
  }

  /**
   * Deletes a dead worker's row, only if it has not beaten since `heartbeatAt` (a worker that was only
   * stalled and beats again keeps its row). True when deleted. Called once its sessions have new owners,
   * so that later sweeps do not query for them again.
   */
  async removeIfStale(workerId: string, heartbeatAt: number): Promise<boolean> {
    try {
      await this.#ctx.db.send(
        new DeleteCommand({
          TableName: this.#ctx.tables.workers,
          Key: { workerId },
          ConditionExpression: 'heartbeatAt = :hb',
          ExpressionAttributeValues: { ':hb': heartbeatAt },
        }),
      );
      return true;
    } catch (error) {
      const mapped = toStoreError(error, `removal of stale worker ${workerId}`);
      if (mapped.code === 'STORE_CONFLICT') return false;
      throw mapped;
    }
  }

  /** Deletes the worker's row (a clean shutdown). Idempotent. */
  async remove(workerId: string): Promise<void> {
    try {
      await this.#ctx.db.send(new DeleteCommand({ TableName: this.#ctx.tables.workers, Key: { workerId } }));
    } catch (error) {
      throw toStoreError(error, `removal of worker ${workerId}`);
    }
  }
}

function isFresh(worker: WorkerRecord, now: number, staleAfterMs: number): boolean {
  return worker.heartbeatAt > now - staleAfterMs && worker.expiresAt * 1000 > now;
}

function toWorker(item: Record<string, unknown> | undefined): WorkerRecord | undefined {
  if (!item || typeof item.workerId !== 'string' || typeof item.heartbeatAt !== 'number') return undefined;
  return {
    workerId: item.workerId,
    heartbeatAt: item.heartbeatAt,
    load: typeof item.load === 'number' ? item.load : 0,
    startedAt: typeof item.startedAt === 'number' ? item.startedAt : item.heartbeatAt,
    expiresAt: typeof item.expiresAt === 'number' ? item.expiresAt : 0,
    ...(typeof item.controlConnectionId === 'string'
      ? { controlConnectionId: item.controlConnectionId }
      : {}),
  };
}
