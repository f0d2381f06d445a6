/**
 * The worker's heartbeat against a slow store (dynalite, each beat held back on its way): beats do not
 * wait for each other, so a write slower than half the lease no longer lets it lapse.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandQueue } from '../../../src/commands/queue.js';
import { ManagementClient } from '../../../src/gateway/management-client.js';
import { silentLog } from '../../../src/logging/log.js';
import { ConnectionStore } from '../../../src/store/connections.js';
import { provisionTables } from '../../../src/store/provision.js';
import { SessionStore } from '../../../src/store/sessions.js';
import { createStoreContext, type StoreContext } from '../../../src/store/store-context.js';
import { tableNames } from '../../../src/store/tables.js';
import { TranscriptStore } from '../../../src/store/transcript.js';
import { TranscriptWriter } from '../../../src/store/transcript-writer.js';
import { type HeartbeatInput, WorkerStore } from '../../../src/store/workers.js';
import { type Engine, startDynaliteEngine } from '../../../support/engines.js';
import { leaseDurationMs } from '../../../worker/config.js';
import { Fanout } from '../../../worker/fanout.js';
import { Lease } from '../../../worker/lease.js';
import { Worker } from '../../../worker/worker.js';

/** A WorkerStore whose beats take `delayMs` longer to land, as on a store busy with other work. */
class SlowBeats extends WorkerStore {
  delayMs = 0;
  inFlight = 0;
  mostInFlight = 0;
  override async heartbeat(input: HeartbeatInput) {
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      return await super.heartbeat(input);
    } finally {
      this.inFlight--;
    }
  }
}

describe('worker heartbeat on a slow store', () => {
  let engine: Engine;
  let db: DynamoDBClient;
  let ctx: StoreContext;

  beforeAll(async () => {
    engine = await startDynaliteEngine();
    db = engine.client();
    const tables = tableNames('heartbeat-');
    await provisionTables(db, tables);
    ctx = createStoreContext({ client: db, tables, now: Date.now });
  }, 60_000);

  afterAll(async () => {
    db.destroy();
    await engine.close();
  });

  it('keeps the lease while each beat takes longer than half of it to land', async () => {
    // Lease 1.5 s, a beat every 0.4 s, each landing 0.8 s after it left: waiting for each beat before the
    // next (1.2 s apart) renewed the lease only until 0.3 s before the next landed.
    const timing = {
      heartbeatIntervalMs: 400,
      staleAfterMs: 2_500,
      sweepIntervalMs: 60_000,
      connectionsRefreshMs: 60_000,
    };
    const lease = new Lease({ durationMs: leaseDurationMs(timing.staleAfterMs) });
    const workers = new SlowBeats(ctx);
    const connections = new ConnectionStore(ctx);
    const worker = new Worker(
      {
        workerId: 'w-slow-store',
        sessions: new SessionStore(ctx),
        transcript: new TranscriptStore(ctx),
        entries: new TranscriptWriter(ctx),
        queue: new CommandQueue(ctx),
        workers,
        fanout: new Fanout({
          connections,
          gateway: new ManagementClient({ sdk: { send: async () => ({}) }, connections }),
          log: silentLog,
        }),
        lease,
        openGuest: () => {
          throw new Error('no session is opened here');
        },
        log: silentLog,
        now: Date.now,
        control: { start() {}, stop() {}, connectionId: undefined },
      },
      timing,
    );
    await worker.start();
    workers.delayMs = 800;
    let lapses = 0;
    let wasValid = true;
    const deadline = Date.now() + 4_000;
    while (Date.now() < deadline) {
      if (wasValid && !lease.valid) lapses++;
      wasValid = lease.valid;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const beats = worker.counters.heartbeats;
    await worker.stop();
    expect(lapses).toBe(0);
    expect(workers.mostInFlight).toBeGreaterThan(1);
    expect(workers.mostInFlight).toBeLessThanOrEqual(3);
    expect(beats).toBeGreaterThanOrEqual(6);
    // The row is gone after stop, and no beat still on its way wrote it again.
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(await workers.get('w-slow-store')).toBeUndefined();
  }, 30_000);
});
