/**
 * Transcript store latency on the two local engines: append (one writer in sequence, and 10 concurrent
 * writers on one session) and page reads (50 entries, forward and backward).
 *
 *   npm run bench:store
 *
 * Starts dynalite in process and DynamoDB Local (a Java child process; skipped with a note when Java is
 * missing), both on loopback, provisions fresh tables, runs a fixed number of operations and stops.
 * Prints one table (median and p99 per operation in ms, and throughput) and writes the same figures to
 * bench/results/store.json. Local engines say nothing about DynamoDB's own latency; these numbers
 * compare the store's algorithm across engines and over time (e.g. the cost of contention retries).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { provisionTables } from '../src/store/provision.js';
import { createStoreContext } from '../src/store/store-context.js';
import { tableNames } from '../src/store/tables.js';
import { TranscriptStore } from '../src/store/transcript.js';
import {
  type Engine,
  javaAvailable,
  startDynaliteEngine,
  startDynamoDbLocal,
} from '../test/store/engines.js';
import type { Figure } from './support/report.js';

const SEQUENTIAL_APPENDS = 500;
const WRITERS = 10;
const APPENDS_PER_WRITER = 50;
const PAGE_SIZE = 50;
const PAGE_READS = 200;
const WARMUP = 20;

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

async function measure(engine: Engine): Promise<Figures[]> {
  const client = engine.client();
  try {
    const tables = tableNames(`bench-${Date.now()}-`);
    await provisionTables(client, tables);
    const store = new TranscriptStore(createStoreContext({ client, tables, now: Date.now }));
    const text = 'Hello, I need help with my order';

    for (let i = 0; i < WARMUP; i++) await store.append('warmup', { direction: 'guest', text });

    const figures: Figures[] = [];
    const sequential: number[] = [];
    let wall = performance.now();
    for (let i = 0; i < SEQUENTIAL_APPENDS; i++) {
      sequential.push(await timed(() => store.append('sequential', { direction: 'guest', text })));
    }
    figures.push(summarise(`append, 1 writer (${SEQUENTIAL_APPENDS})`, sequential, performance.now() - wall));

    const concurrent: number[] = [];
    wall = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let i = 0; i < APPENDS_PER_WRITER; i++) {
          concurrent.push(await timed(() => store.append('concurrent', { direction: 'agent', text })));
        }
      }),
    );
    figures.push(
      summarise(`append, ${WRITERS} writers × ${APPENDS_PER_WRITER}`, concurrent, performance.now() - wall),
    );

    for (const direction of ['forward', 'backward'] as const) {
      const reads: number[] = [];
      wall = performance.now();
      for (let i = 0; i < PAGE_READS; i++) {
        // Spread over the transcript: a reconnecting frontend asks from anywhere.
        const pivot = 1 + ((i * 37) % (SEQUENTIAL_APPENDS - PAGE_SIZE));
        const bound = direction === 'forward' ? { after: pivot } : { before: pivot + PAGE_SIZE + 1 };
        reads.push(
          await timed(async () => {
            const page = await store.page('sequential', { ...bound, limit: PAGE_SIZE, direction });
            if (page.entries.length !== PAGE_SIZE) throw new Error('short page');
          }),
        );
      }
      figures.push(summarise(`page of ${PAGE_SIZE}, ${direction}`, reads, performance.now() - wall));
    }
    return figures;
  } finally {
    client.destroy();
    await engine.close();
  }
}

export interface StoreBench {
  readonly results: Record<string, Figures[]>;
  readonly notes: string[];
}

/** Both engines (DynamoDB Local only where Java is present), every operation. */
export async function runStoreBench(): Promise<StoreBench> {
  const results: Record<string, Figures[]> = {};
  const notes: string[] = [];
  results.dynalite = await measure(await startDynaliteEngine());
  if (javaAvailable()) {
    results['DynamoDB Local'] = await measure(await startDynamoDbLocal());
  } else {
    notes.push('DynamoDB Local skipped: no Java runtime (java -version failed).');
  }
  return { results, notes };
}

/** The same figures as rows of the `npm run bench` table (median and p99 per engine and operation). */
export function storeFigures(bench: StoreBench): Figure[] {
  return Object.entries(bench.results).flatMap(([engine, figures]) =>
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
  );
}

async function main(): Promise<void> {
  const { results, notes } = await runStoreBench();
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
  const output = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...notes];
  process.stdout.write(`${output.join('\n')}\n`);

  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'store.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify(
      {
        node: process.version,
        measuredAt: new Date().toISOString(),
        settings: { SEQUENTIAL_APPENDS, WRITERS, APPENDS_PER_WRITER, PAGE_SIZE, PAGE_READS },
        results,
        notes,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write('Written bench/results/store.json\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
