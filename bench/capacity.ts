import { parseArgs } from 'node:util';
import type { WorkerOverrides } from '../local/system.js';
import { Fleet } from './support/fleet.js';
import { cpuTimeMs, rssBytes } from './support/proc.js';
import { type Figure, formatTable, runWhenMain, writeResults } from './support/report.js';
import { quantile, sleep } from './support/stats.js';

export interface CapacityOptions {
  /** Fleet sizes, measured in ascending order on one growing fleet. Default [1000, 5000]. */
  readonly sessions?: readonly number[];
  /** The idle window after each size but the largest, in s. Default 20. */
  readonly idleSeconds?: number;
  /** The idle window of the largest size, in s. Default 40 (see the header). */
  readonly finalIdleSeconds?: number;
  /** Sessions started at once. Default 40. */
  readonly concurrency?: number;
  /** Extra environment of the worker process. */
  readonly worker?: WorkerOverrides;
}

const SECTION = 'worker capacity';
/** The target: resident memory per idle upstream session. */
const TARGET_KB_PER_SESSION = 50;
/** Quiet after the worker is ready, and after each bring-up, before a window starts. */
const SETTLE_MS = 3_000;
/** The window with no session at all. */
const EMPTY_WINDOW_MS = 5_000;
/** RSS is the median of the readings in this last part of a window. */
const RSS_TAIL_MS = 10_000;
/** Bring-up must reach this many sessions per second, or the run gives up (a bound, not a target). */
const MIN_START_RATE = 10;
const KB = 1024;
const MB = 1024 * 1024;

/** What one idle window saw. */
interface Window {
  readonly cpuPercent: number;
  readonly rssBytes: number;
}

export async function measureCapacity(options: CapacityOptions = {}): Promise<Figure[]> {
  const sizes = [...new Set(options.sessions ?? [1000, 5000])].sort((a, b) => a - b);
  const concurrency = options.concurrency ?? 40;
  const fleet = await Fleet.start(options.worker ? { worker: options.worker } : {});
  try {
    await sleep(SETTLE_MS);
    const empty = await watchIdle(fleet.pid, EMPTY_WINDOW_MS);
    const figures: Figure[] = [
      { section: SECTION, measure: 'worker RSS, 0 sessions (ready)', value: empty.rssBytes / MB, unit: 'MB' },
      {
        section: SECTION,
        measure: 'worker CPU when idle, 0 sessions',
        value: empty.cpuPercent,
        unit: '% of a core',
        note: 'heartbeat 2 s, sweep 3 s',
      },
    ];
    for (const size of sizes) {
      const from = fleet.sessions.length;
      const upMs = await fleet.add(size - from, {
        concurrency,
        timeoutMs: 60_000 + ((size - from) / MIN_START_RATE) * 1000,
      });
      await sleep(SETTLE_MS);
      const last = size === sizes.at(-1);
      const windowMs = 1000 * (last ? (options.finalIdleSeconds ?? 40) : (options.idleSeconds ?? 20));
      const idle = await watchIdle(fleet.pid, windowMs);
      if (fleet.held !== size)
        throw new Error(`expected ${size} upstream sessions, the emulator saw ${fleet.held}`);
      figures.push(...sizeFigures({ from, size, upMs, concurrency, windowMs, idle, empty }));
    }
    return figures;
  } finally {
    await fleet.close();
  }
}

function sizeFigures(run: {
  from: number;
  size: number;
  upMs: number;
  concurrency: number;
  windowMs: number;
  idle: Window;
  empty: Window;
}): Figure[] {
  const { from, size, upMs, windowMs, idle, empty } = run;
  const after = `${Math.round((windowMs + SETTLE_MS) / 1000)} s after the bring-up`;
  return [
    {
      section: SECTION,
      measure: `bring-up, ${from} → ${size} sessions`,
      value: upMs / 1000,
      unit: 's',
      note: `${Math.round((size - from) / (upMs / 1000))} sessions/s through the public API, ${run.concurrency} at once`,
    },
    {
      section: SECTION,
      measure: `worker RSS, ${size} idle sessions`,
      value: idle.rssBytes / MB,
      unit: 'MB',
      note: after,
    },
    {
      section: SECTION,
      measure: `resident memory per idle session, ${size} sessions`,
      value: (idle.rssBytes - empty.rssBytes) / size / KB,
      unit: 'KB',
      target: { max: TARGET_KB_PER_SESSION },
      note: `(RSS − RSS with 0 sessions) / sessions, ${after}`,
    },
    {
      section: SECTION,
      measure: `worker CPU when idle, ${size} sessions`,
      value: idle.cpuPercent,
      unit: '% of a core',
      note: `over ${windowMs / 1000} s: pings, echoes, heartbeats, sweeps, orphan checks`,
    },
  ];
}

/** Watches the process for `windowMs`: its CPU over the window and its RSS over the window's tail. */
async function watchIdle(pid: number, windowMs: number): Promise<Window> {
  const cpuBefore = cpuTimeMs(pid);
  const start = performance.now();
  const tail: number[] = [];
  for (let elapsed = 0; elapsed < windowMs; elapsed = performance.now() - start) {
    if (elapsed >= windowMs - RSS_TAIL_MS) tail.push(rssBytes(pid));
    await sleep(Math.min(1_000, windowMs - elapsed));
  }
  tail.push(rssBytes(pid));
  const cpuPercent = (100 * (cpuTimeMs(pid) - cpuBefore)) / (performance.now() - start);
  return {
    cpuPercent,
    rssBytes: quantile(
      tail.sort((a, b) => a - b),
      0.5,
    ),
  };
}

function positive(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${what} must be a whole number ≥ 1`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '1000,5000' },
      'idle-seconds': { type: 'string', default: '20' },
      'final-idle-seconds': { type: 'string', default: '40' },
      concurrency: { type: 'string', default: '40' },
    },
  });
  const options = {
    sessions: values.sessions.split(',').map((part) => positive(part.trim(), '--sessions')),
    idleSeconds: positive(values['idle-seconds'], '--idle-seconds'),
    finalIdleSeconds: positive(values['final-idle-seconds'], '--final-idle-seconds'),
    concurrency: positive(values.concurrency, '--concurrency'),
  };
  const figures = await measureCapacity(options);
  console.log(formatTable(figures));
  console.log(`\nwritten to ${await writeResults('capacity', figures, { options })}`);
}

// Run directly (not imported by `npm run bench`).
runWhenMain(import.meta.url, main);
