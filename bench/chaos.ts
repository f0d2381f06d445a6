/**
 * `npm run chaos [-- --sessions 40 --rounds 12 --workers 3 --seed 1 --faults 12 --timing fast
 * --deadline 240 --worker-log FILE]`: many sessions talking both ways through the local system while the emulator drops
 * sockets, forces 429s, reorders and duplicates pushes, the gateway cuts frontend connections and a worker
 * is SIGKILLed; then every transcript is compared with what each side sent (bench/chaos/run.ts). Prints
 * the lost / duplicated / out-of-order counts and the faults, writes bench/results/chaos.json, and exits
 * 1 if any count is not 0 or the run failed (2 for bad arguments). `--worker-log` keeps every worker's
 * log lines (JSON lines) for a closer look at a run.
 */
import { parseArgs } from 'node:util';
import { chaosFigures, formatChaos } from './chaos/report.js';
import { CHAOS_DEFAULTS, chaosFailed, runChaos } from './chaos/run.js';
import { writeResults } from './support/report.js';

const NUMERIC = ['sessions', 'rounds', 'workers', 'seed', 'faults', 'deadline'] as const;
type Numeric = Record<(typeof NUMERIC)[number], number>;

function readArgs(): Numeric & { timing: 'fast' | 'production'; workerLog?: string } {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: String(CHAOS_DEFAULTS.sessions) },
      rounds: { type: 'string', default: String(CHAOS_DEFAULTS.rounds) },
      workers: { type: 'string', default: String(CHAOS_DEFAULTS.workers) },
      seed: { type: 'string', default: String(CHAOS_DEFAULTS.seed) },
      faults: { type: 'string', default: String(CHAOS_DEFAULTS.faults) },
      deadline: { type: 'string', default: String(CHAOS_DEFAULTS.deadlineMs / 1000) },
      timing: { type: 'string', default: CHAOS_DEFAULTS.timing },
      'worker-log': { type: 'string' },
    },
  });
  const numbers = Object.fromEntries(NUMERIC.map((key) => [key, Number(values[key])])) as Numeric;
  const bad = NUMERIC.filter((key) => !Number.isSafeInteger(numbers[key]) || numbers[key] < 0);
  const { timing } = values;
  if (bad.length > 0 || (timing !== 'fast' && timing !== 'production')) {
    console.error('--sessions, --rounds, --workers, --seed, --faults, --deadline (s): whole numbers;');
    console.error('--timing: fast or production');
    process.exit(2);
  }
  const workerLog = values['worker-log'];
  return { ...numbers, timing, ...(workerLog === undefined ? {} : { workerLog }) };
}

const args = readArgs();
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
try {
  const result = await runChaos({
    sessions: args.sessions,
    rounds: args.rounds,
    workers: args.workers,
    seed: args.seed,
    faults: args.faults,
    timing: args.timing,
    deadlineMs: args.deadline * 1000,
    ...(args.workerLog === undefined ? {} : { workerLog: args.workerLog }),
    log: (line) => console.error(`[${new Date().toISOString().slice(11, 23)} +${elapsed()}] ${line}`),
  });
  console.log(formatChaos(result));
  for (const problem of result.problems) console.log(`problem: ${problem}`);
  const path = await writeResults('chaos', chaosFigures(result), { options: result.options });
  console.log(`written: ${path}`);
  const failed = chaosFailed(result);
  console.log(failed ? 'CHAOS FAILED' : 'chaos: nothing lost, duplicated or out of order');
  process.exit(failed ? 1 : 0);
} catch (error) {
  console.error(`CHAOS FAILED after ${elapsed()}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
