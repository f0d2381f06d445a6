/**
 * Store latency on the two local engines: a guest send (one write on the session item: admitted,
 * numbered, stored whole), by one sender in sequence and by 10 concurrent senders on one session; an
 * upstream message recorded by the owner (numbered on the item, then its entry written); and page reads
 * (50 entries, forward and backward, through the gap-free reader). And what a session in service costs in
 * DynamoDB's units: two minutes, on a simulated clock, of one keyed guest send and one agent message a
 * second, the owner settling as the worker does (keys kept for the settle horizon); the session item's
 * size once the horizon is full, and the write units its writes consume per message (an UpdateItem
 * consumes one per KB of the larger of the item before and after it: "Capacity unit consumption for
 * write operations", DynamoDB developer guide).
 *
 *   npm run bench:store
 *
 * Starts dynalite in process and DynamoDB Local (a Java child process; skipped with a note when Java is
 * missing), both on loopback, provisions fresh tables, runs a fixed number of operations and stops.
 * Prints one table (median and p99 per operation in ms, and throughput) and writes the same figures to
 * bench/results/store.json. Local engines say nothing about DynamoDB's own latency; these numbers
 * compare the store's algorithm across engines and over time (e.g. the cost of contention retries).
 */

import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CommandQueue } from '../src/commands/queue.js';
import { entryOf, readTranscript } from '../src/commands/reader.js';
import { Settlements } from '../src/commands/settlements.js';
import { DEFAULT_CONSTRAINTS } from '../src/domain/constraints.js';
import { itemSize } from '../src/store/item-size.js';
import { provisionTables } from '../src/store/provision.js';
import { type Fence, readSessionItem, SessionStore } from '../src/store/sessions.js';
import { createStoreContext, type StoreContext } from '../src/store/store-context.js';
import { tableNames } from '../src/store/tables.js';
import { fingerprintOf, TranscriptStore } from '../src/store/transcript.js';
import { type Engine, javaAvailable, startDynaliteEngine, startDynamoDbLocal } from '../support/engines.js';
import type { Figure } from './support/report.js';

const SEQUENTIAL_SENDS = 500;
const WRITERS = 10;
const SENDS_PER_WRITER = 50;
const RECORDS = 500;
const PAGE_SIZE = 50;
const PAGE_READS = 200;
const WARMUP = 20;
/** Simulated seconds of a session in service; the figures count the last SERVICE_MEASURED of them. */
const SERVICE_SECONDS = 120;
const SERVICE_MEASURED = 60;

interface Figures {
  readonly operation: string;
  readonly count: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  /** Completed operations per second of wall time (all writers together for the concurrent case). */
  readonly opsPerSecond: number;
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

function summarise(operation: string, samples: number[], wallMs: number): Figures {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    operation,
    count: samples.length,
    medianMs: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    opsPerSecond: samples.length / (wallMs / 1000),
  };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** A session in service, in DynamoDB's units (see the file header). */
interface ServiceFigures {
  /** The session item's size at the end (bytes as DynamoDB counts them). */
  readonly itemBytes: number;
  /** Write units of the session item's writes, per message (guest and agent). */
  readonly writeUnitsPerMessage: number;
}

async function measureService(
  client: DynamoDBClient,
  tables: StoreContext['tables'],
): Promise<ServiceFigures> {
  let clock = Date.now();
  const ctx = createStoreContext({ client, tables, now: () => clock });
  const sessions = new SessionStore(ctx);
  const queue = new CommandQueue(ctx);
  const { sessionId } = await sessions.create({
    sessionId: `bench-${randomUUID()}`,
    team: 'bench',
    deploymentId: 'dep',
    constraints: DEFAULT_CONSTRAINTS,
  });
  const fence: Fence = { workerId: 'none', epoch: 0 };
  const size = async () => itemSize((await readSessionItem(ctx, sessionId)) ?? {});
  let before = await size();
  let units = 0;
  let messages = 0;
  /** One write on the item: its units (the larger of the item before and after, per KB). */
  const written = async (counted: boolean) => {
    const after = await size();
    if (counted) units += Math.ceil(Math.max(before, after) / 1024);
    before = after;
  };
  const settlements = new Settlements(queue.options.settleHorizonMs);
  const text = 'Hello, I need help with my order';
  for (let second = 0; second < SERVICE_SECONDS; second++) {
    clock += 1000;
    const counted = second >= SERVICE_SECONDS - SERVICE_MEASURED;
    // The guest's keyed send (the handler's one write).
    const clientMessageId = randomUUID();
    const entryId = randomUUID();
    const session = await sessions.get(sessionId);
    if (session === undefined) throw new Error('no session');
    const sent = await queue.submitSend(session, {
      id: `c#${clientMessageId}`,
      entryId,
      text,
      content: [],
      clientMessageId,
      fingerprint: fingerprintOf({ direction: 'guest', text, content: [] }),
    });
    if (sent.kind !== 'queued') throw new Error('a fresh send was not queued');
    await written(counted);
    // The agent's message, numbered by the owner with the last second's settlement riding along.
    const recordId = `r#${randomUUID()}`;
    const settlement = settlements.take(clock);
    await queue.record(
      sessionId,
      fence,
      {
        id: recordId,
        type: 'record',
        createdAt: clock,
        entryId: randomUUID(),
        direction: 'agent',
        text,
        content: [],
        time: new Date(clock).toISOString(),
      },
      settlement,
    );
    await written(counted);
    if (settlement !== undefined) settlements.written(settlement, clock);
    settlements.add({ id: sent.command.id, bytes: sent.command.bytes, keep: sent.command.seq });
    settlements.add({ id: recordId });
    if (counted) messages += 2;
  }
  return { itemBytes: before, writeUnitsPerMessage: units / messages };
}

async function measure(engine: Engine): Promise<{ figures: Figures[]; service: ServiceFigures }> {
  const client = engine.client();
  try {
    const tables = tableNames(`bench-${Date.now()}-`);
    await provisionTables(client, tables);
    const ctx = createStoreContext({ client, tables, now: Date.now });
    const sessions = new SessionStore(ctx);
    const queue = new CommandQueue(ctx, { maxPending: 10_000, maxPendingBytes: 350 * 1024 });
    const store = new TranscriptStore(ctx);
    const text = 'Hello, I need help with my order';
    const fence: Fence = { workerId: 'w-bench', epoch: 0 };
    const newSession = async () =>
      (
        await sessions.create({
          sessionId: `bench-${randomUUID()}`,
          team: 'bench',
          deploymentId: 'dep',
          guestToken: 'token',
          constraints: DEFAULT_CONSTRAINTS,
        })
      ).sessionId;
    const sendTo = async (sessionId: string) => {
      const session = await sessions.get(sessionId);
      if (session === undefined) throw new Error('no session');
      const entryId = randomUUID();
      return { session, message: { id: `s#${entryId}`, entryId, text, content: [] } };
    };
    // The owner settles as it goes, so the item stays the size it has in service.
    const settle = (sessionId: string, ids: string[]) =>
      queue.settle(sessionId, { workerId: 'none', epoch: 0 }, { done: ids.map((id) => ({ id })) });

    const warm = await newSession();
    for (let i = 0; i < WARMUP; i++) {
      const { session, message } = await sendTo(warm);
      await queue.submitSend(session, message);
    }

    const figures: Figures[] = [];
    const sequential: number[] = [];
    const one = await newSession();
    let wall = performance.now();
    for (let i = 0; i < SEQUENTIAL_SENDS; i++) {
      const { session, message } = await sendTo(one);
      sequential.push(await timed(() => queue.submitSend(session, message)));
      if (i % 50 === 49) await settle(one, Object.keys((await sessions.get(one))?.pending ?? {}));
    }
    figures.push(
      summarise(`guest send, 1 sender (${SEQUENTIAL_SENDS})`, sequential, performance.now() - wall),
    );

    const concurrent: number[] = [];
    const shared = await newSession();
    wall = performance.now();
    let sending = true;
    // An owner settling beside the senders, as a worker does, so the item stays its service size.
    const owner = (async () => {
      while (sending) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        await settle(shared, Object.keys((await sessions.get(shared))?.pending ?? {}));
      }
    })();
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let i = 0; i < SENDS_PER_WRITER; i++) {
          const { session, message } = await sendTo(shared);
          concurrent.push(await timed(() => queue.submitSend(session, message)));
        }
      }),
    );
    sending = false;
    await owner;
    figures.push(
      summarise(
        `guest send, ${WRITERS} senders × ${SENDS_PER_WRITER} on one session`,
        concurrent,
        performance.now() - wall,
      ),
    );

    const recorded: number[] = [];
    const paged = await newSession();
    wall = performance.now();
    // Each numbering write settles the message before it, as the worker's executor does.
    let previous: string | undefined;
    for (let i = 0; i < RECORDS; i++) {
      recorded.push(
        await timed(async () => {
          const id = `r#${randomUUID()}`;
          const command = {
            id,
            type: 'record',
            createdAt: Date.now(),
            entryId: randomUUID(),
            direction: 'agent',
            text,
            content: [],
            time: new Date().toISOString(),
          } as const;
          const settlement = previous === undefined ? undefined : { done: [{ id: previous }] };
          const seq = await queue.record(paged, { ...fence, workerId: 'none' }, command, settlement);
          if (seq === undefined) throw new Error('a fresh record was refused');
          const entry = entryOf(paged, { ...command, seq });
          if (entry !== undefined) await store.put(entry);
          previous = id;
        }),
      );
    }
    await settle(paged, Object.keys((await sessions.get(paged))?.pending ?? {}));
    figures.push(
      summarise(`upstream message, numbered + written (${RECORDS})`, recorded, performance.now() - wall),
    );

    const session = await sessions.get(paged);
    if (session === undefined) throw new Error('no session');
    for (const direction of ['forward', 'backward'] as const) {
      const reads: number[] = [];
      wall = performance.now();
      for (let i = 0; i < PAGE_READS; i++) {
        // Spread over the transcript: a reconnecting frontend asks from anywhere.
        const pivot = 1 + ((i * 37) % (RECORDS - PAGE_SIZE));
        const bound = direction === 'forward' ? { after: pivot } : { before: pivot + PAGE_SIZE + 1 };
        reads.push(
          await timed(async () => {
            const page = await readTranscript(store, session, { ...bound, limit: PAGE_SIZE, direction });
            if (page.entries.length !== PAGE_SIZE) throw new Error('short page');
          }),
        );
      }
      figures.push(summarise(`page of ${PAGE_SIZE}, ${direction}`, reads, performance.now() - wall));
    }
    return { figures, service: await measureService(client, tables) };
  } finally {
    client.destroy();
    await engine.close();
  }
}

export interface StoreBench {
  readonly results: Record<string, Figures[]>;
  /** A session in service, per engine (the same on both when the engines agree on the item). */
  readonly service: Record<string, ServiceFigures>;
  readonly notes: string[];
}

/** Both engines (DynamoDB Local only where Java is present), every operation. */
export async function runStoreBench(): Promise<StoreBench> {
  const results: Record<string, Figures[]> = {};
  const service: Record<string, ServiceFigures> = {};
  const notes: string[] = [];
  ({ figures: results.dynalite, service: service.dynalite } = await measure(await startDynaliteEngine()));
  if (javaAvailable()) {
    const engine = 'DynamoDB Local';
    ({ figures: results[engine], service: service[engine] } = await measure(await startDynamoDbLocal()));
  } else {
    notes.push('DynamoDB Local skipped: no Java runtime (java -version failed).');
  }
  return { results, service, notes };
}

/** The same figures as rows of the `npm run bench` table (median and p99 per engine and operation). */
export function storeFigures(bench: StoreBench): Figure[] {
  return Object.entries(bench.results)
    .flatMap(([engine, figures]) =>
      figures.flatMap((f): Figure[] => [
        {
          section: 'store',
          measure: `${engine}: ${f.operation}, median`,
          value: f.medianMs,
          unit: 'ms',
          note: `${f.opsPerSecond.toFixed(0)} ops/s`,
        },
        { section: 'store', measure: `${engine}: ${f.operation}, p99`, value: f.p99Ms, unit: 'ms' },
      ]),
    )
    .concat(Object.entries(bench.service).flatMap(([engine, service]) => serviceFigures(engine, service)));
}

/** A session in service as rows (see measureService). */
function serviceFigures(engine: string, service: ServiceFigures): Figure[] {
  const conditions = `a keyed guest send and an agent message a second, after ${SERVICE_SECONDS - SERVICE_MEASURED} s`;
  return [
    {
      section: 'store',
      measure: `${engine}: session item in service`,
      value: service.itemBytes / 1024,
      unit: 'KB',
      note: conditions,
    },
    {
      section: 'store',
      measure: `${engine}: write units per message in service`,
      value: service.writeUnitsPerMessage,
      unit: 'WCU',
      note: `${conditions}; the session item's writes`,
    },
  ];
}

async function main(): Promise<void> {
  const bench = await runStoreBench();
  const { results, notes } = bench;
  const rows = Object.entries(results).flatMap(([engine, figures]) =>
    figures.map((f) => [
      engine,
      f.operation,
      f.medianMs.toFixed(2),
      f.p99Ms.toFixed(2),
      f.opsPerSecond.toFixed(0),
    ]),
  );
  const header = ['engine', 'operation', 'median ms', 'p99 ms', 'ops/s'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const service = Object.entries(bench.service).map(
    ([engine, f]) =>
      `${engine}: a session in service (${serviceFigures(engine, f)[0]?.note}): item ${(f.itemBytes / 1024).toFixed(2)} KB, ` +
      `${f.writeUnitsPerMessage.toFixed(2)} write units per message`,
  );
  const output = [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    ...service,
    ...notes,
  ];
  process.stdout.write(`${output.join('\n')}\n`);

  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'store.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify(
      {
        node: process.version,
        measuredAt: new Date().toISOString(),
        settings: {
          SEQUENTIAL_SENDS,
          WRITERS,
          SENDS_PER_WRITER,
          RECORDS,
          PAGE_SIZE,
          PAGE_READS,
          SERVICE_SECONDS,
          SERVICE_MEASURED,
        },
        results,
        service: bench.service,
        notes,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write('Written bench/results/store.json\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
