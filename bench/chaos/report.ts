/**
 * How a chaos run is shown: plain-text tables of the counts per check and of the faults (what
 * `npm run chaos` prints), and the same as benchmark Figures for bench/results/chaos.json.
 */
import type { Figure } from '../support/report.js';
import type { Counts } from './compare.js';
import { FAULT_KINDS, FIRED_MEANS } from './faults.js';
import type { ChaosResult } from './run.js';

const COUNT_KEYS = ['lost', 'duplicated', 'outOfOrder', 'unexpected'] as const;
const COUNT_TITLES = ['lost', 'duplicated', 'out of order', 'unexpected'];

/** Columns padded to their widest cell; numbers right-aligned. */
function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (row: readonly string[], numeric: boolean) =>
    row
      .map((cell, i) =>
        numeric && i > 0 && /^[\d.]+$/.test(cell)
          ? cell.padStart(widths[i] ?? 0)
          : cell.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [
    line(header, false),
    line(
      widths.map((w) => '-'.repeat(w)),
      false,
    ),
    ...cells.slice(1).map((r) => line(r, true)),
  ].join('\n');
}

function checkRows(result: ChaosResult): [string, Counts][] {
  return [
    ['stored transcript', result.checks.stored],
    ['received by Genesys', result.checks.upstream],
    ['received by frontends', result.checks.frontend],
    ['total', result.total],
  ];
}

export function formatChaos(result: ChaosResult): string {
  const { options: o, frontends, killedWorker } = result;
  const counts = table(
    ['check', ...COUNT_TITLES],
    checkRows(result).map(([name, c]) => [name, ...COUNT_KEYS.map((k) => c[k])]),
  );
  const faults = table(
    ['fault', 'injected', 'took effect', 'as'],
    FAULT_KINDS.map((kind) => [
      kind,
      result.faults[kind].injected,
      result.faults[kind].fired,
      FIRED_MEANS[kind],
    ]),
  );
  const kill =
    killedWorker === undefined
      ? 'no worker killed (one worker only)'
      : `${killedWorker.name} SIGKILLed with ${killedWorker.sessions} sessions; all had a new owner after ${
          killedWorker.takeoverMs === undefined ? 'never' : `${(killedWorker.takeoverMs / 1000).toFixed(1)} s`
        }`;
  return [
    `chaos: ${o.sessions} sessions × ${o.rounds} rounds, ${o.workers} workers, seed ${o.seed}, timing ${o.timing}: ` +
      `${result.messages.guestToAgent} messages guest → agent, ${result.messages.agentToGuest} agent → guest ` +
      `in ${(result.durationMs / 1000).toFixed(1)} s`,
    '',
    counts,
    '',
    faults,
    '',
    `frontends: ${frontends.drops} drops, ${frontends.resumes} resumes, ${frontends.resentSends} sends sent again ` +
      `(same clientMessageId), ${frontends.retryableErrors} retryable errors answered`,
    `worker: ${kill}`,
    `settled: ${result.settled ? 'every transcript complete' : 'NOT every transcript complete'}; ` +
      `failed sends: ${result.failedSends}`,
  ].join('\n');
}

/** The counts (target 0), the faults (target: took effect at least once), the kill and the run's size. */
export function chaosFigures(result: ChaosResult): Figure[] {
  const figures: Figure[] = [];
  for (const [check, c] of checkRows(result)) {
    for (const [i, key] of COUNT_KEYS.entries()) {
      figures.push({
        section: 'chaos',
        measure: `${check}: ${COUNT_TITLES[i]}`,
        value: c[key],
        unit: 'count',
        target: { max: 0 },
      });
    }
  }
  for (const kind of FAULT_KINDS) {
    figures.push({
      section: 'chaos faults',
      measure: kind,
      value: result.faults[kind].fired,
      unit: 'count',
      target: { min: 1 },
      note: `${FIRED_MEANS[kind]}; injected ${result.faults[kind].injected}×`,
    });
  }
  if (result.killedWorker !== undefined) {
    figures.push({
      section: 'chaos',
      measure: `takeover after SIGKILL (${result.killedWorker.sessions} sessions)`,
      value: (result.killedWorker.takeoverMs ?? Number.NaN) / 1000,
      unit: 's',
    });
  }
  figures.push(
    { section: 'chaos', measure: 'frontend resumes', value: result.frontends.resumes, unit: 'count' },
    { section: 'chaos', measure: 'sends sent again', value: result.frontends.resentSends, unit: 'count' },
    {
      section: 'chaos',
      measure: 'messages each way',
      value: result.messages.guestToAgent,
      unit: 'count',
      note: `${result.options.sessions} sessions × ${result.options.rounds} rounds`,
    },
    { section: 'chaos', measure: 'run', value: result.durationMs / 1000, unit: 's' },
  );
  return figures;
}
