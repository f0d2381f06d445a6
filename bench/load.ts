/**
 * `guest-relay load`'s own benchmark (issue 19): 200 guests through a five-step scenario
 * (examples/load/menu-and-order.yaml, the emulator's default bot) against local mode, run as a process
 * of its own (bench/relay/local-stack.ts) so that this process measures the generator alone: its CPU per
 * guest-second and its memory per active guest, what a user sizes the machine that runs it by. Bounded:
 * every guest runs the scenario once.
 *
 *   npm run bench:load                      # 200 guests, 20 a second, 1 s think time
 *   npm run bench:load -- --guests 50 --ramp 10
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runLoad } from '../cli/load/engine.js';
import type { LoadReport } from '../cli/load/model.js';
import { parseScenarioFile } from '../cli/scenarios/scenario.js';
import { spawnChild } from './relay/child.js';
import { cpuTimeMs, rssBytes } from './support/proc.js';
import { type Figure, formatTable, runWhenMain, writeResults } from './support/report.js';

const SECTION = 'load';
const SCENARIO_FILE = 'examples/load/menu-and-order.yaml';
/** The target: every guest's scenario passes. */
const TARGET_FAILURES = 0;

export interface LoadBenchOptions {
  readonly guests?: number;
  readonly ramp?: number;
  readonly thinkMs?: number;
}

export async function measureLoad(options: LoadBenchOptions = {}): Promise<Figure[]> {
  const guests = options.guests ?? 200;
  const ramp = options.ramp ?? 20;
  const think = options.thinkMs ?? 1_000;
  const stack = await spawnChild<{ url: string; token: string; deploymentId: string }>(
    'bench/relay/local-stack.ts',
    ['emulator'],
  );
  try {
    const scenarios = parseScenarioFile(SCENARIO_FILE, await readFile(SCENARIO_FILE, 'utf8')).map((s) => ({
      ...s,
      deploymentId: stack.info.deploymentId,
    }));
    const pid = stack.process.pid as number;
    const stackCpuBefore = cpuTimeMs(pid);
    const report: LoadReport = await runLoad({
      scenarios,
      target: { url: stack.info.url, token: stack.info.token },
      guests,
      rampPerSecond: ramp,
      iterations: 1,
      thinkMs: { min: think, max: think },
      thresholds: { maxErrorRate: 0 },
      settings: {
        files: [SCENARIO_FILE],
        target: 'local mode (its own process)',
        guests,
        rampPerSecond: ramp,
        iterations: 1,
        thinkMs: { min: think, max: think },
      },
      deadlineMs: 10 * 60 * 1000,
    });
    const stackCpu = cpuTimeMs(pid) - stackCpuBefore;
    const stackRss = rssBytes(pid);
    const reply = (source: string) => report.steps.find((s) => s.source === source)?.firstReply;
    const cmd = `npm run bench:load -- --guests ${guests} --ramp ${ramp}`;
    const figures: Figure[] = [
      { section: SECTION, measure: 'guests', value: report.totals.guests, unit: 'count', note: cmd },
      {
        section: SECTION,
        measure: 'scenarios failed',
        value: report.totals.failed,
        unit: 'count',
        target: { max: TARGET_FAILURES },
        note: `${report.totals.passed} of ${report.totals.iterations} passed, five steps each`,
      },
      {
        section: SECTION,
        measure: 'steps failed',
        value: report.totals.failedSteps,
        unit: 'count',
        target: { max: 0 },
      },
      {
        section: SECTION,
        measure: 'sessions ended / started',
        value: report.totals.sessionsEnded,
        unit: 'count',
        target: { min: report.totals.sessionsStarted },
        note: `${report.totals.sessionsStarted} started`,
      },
      {
        section: SECTION,
        measure: 'rate-limited sends waited out',
        value: report.totals.rateLimited,
        unit: 'count',
      },
      { section: SECTION, measure: 'peak active guests', value: report.generator.peakActive, unit: 'count' },
    ];
    for (const source of ['say: "hello"', 'say: "menu"', 'chooseQuickReply: "Show a card"']) {
      const p = reply(source);
      if (p === undefined) continue;
      figures.push(
        {
          section: SECTION,
          measure: `first reply after ${source}, median`,
          value: p.median,
          unit: 'ms',
          note: 'the default bot types 300-500 ms first',
        },
        { section: SECTION, measure: `first reply after ${source}, p95`, value: p.p95, unit: 'ms' },
      );
    }
    figures.push(
      {
        section: SECTION,
        measure: 'generator CPU per guest-second',
        value: Math.round(report.generator.cpuMsPerGuestSecond * 100) / 100,
        unit: 'ms',
        note: 'this process only (the stack runs in its own)',
      },
      {
        section: SECTION,
        measure: 'generator memory per active guest',
        value: Math.round(report.generator.rssBytesPerGuest / 1024),
        unit: 'KB',
        note: `peak RSS growth / peak active guests; peak RSS ${Math.round(report.generator.peakRssBytes / 1024 / 1024)} MiB`,
      },
      {
        section: SECTION,
        measure: 'stack CPU during the run (for scale)',
        value: Math.round(stackCpu),
        unit: 'ms',
        note: `over ${(report.durationMs / 1000).toFixed(1)} s; stack RSS at the end ${Math.round(stackRss / 1024 / 1024)} MiB`,
      },
    );
    return figures;
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      guests: { type: 'string', default: '200' },
      ramp: { type: 'string', default: '20' },
      think: { type: 'string', default: '1000' },
    },
  });
  const options = { guests: Number(values.guests), ramp: Number(values.ramp), thinkMs: Number(values.think) };
  if (
    !Number.isSafeInteger(options.guests) ||
    options.guests < 1 ||
    !(options.ramp > 0) ||
    !(options.thinkMs >= 0)
  ) {
    throw new Error('--guests must be a whole number > 0, --ramp > 0, --think (ms) ≥ 0');
  }
  const figures = await measureLoad(options);
  console.log(formatTable(figures));
  console.log(`\nwritten to ${await writeResults('load', figures, { options })}`);
}

// Run directly (not imported by `npm run bench`).
runWhenMain(import.meta.url, main);
