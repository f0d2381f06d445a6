/**
 * `npm run fuzz [-- --per-case 200 --flood 300 --seed 1]`: hostile frames against a local stack's public
 * API; prints, per kind of frame, how many got their documented answer, then exits 1 if any did not.
 */
import { parseArgs } from 'node:util';
import { failed, runFuzz } from './fuzz/run.js';

const { values } = parseArgs({
  options: {
    'per-case': { type: 'string', default: '200' },
    flood: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
  },
});
const perCase = Number(values['per-case']);
const floodCount = Number(values.flood);
const seed = Number(values.seed);
if (![perCase, floodCount, seed].every((n) => Number.isSafeInteger(n) && n >= 0)) {
  console.error('--per-case, --flood and --seed must be whole numbers');
  process.exit(2);
}
const report = await runFuzz({ perCase, flood: floodCount, seed });
const rows = report.cases.map((c) => ({
  frame: c.name,
  sent: c.sent,
  'documented answer': c.expected,
  unexpected: c.unexpected.join('; ') || '-',
}));
console.table(rows);
console.log(
  `flood: ${report.flood.sent} sends at once on one session: ${report.flood.accepted} stored, ${report.flood.rateLimited} rate_limited, ${report.flood.busy} service_unavailable, ${report.flood.other} other ${JSON.stringify(report.flood.otherCodes)}`,
);
console.log(`afterwards: ${report.afterwards}`);
console.log(
  `memory: RSS ${report.rssBeforeMb} MB before, ${report.rssAfterMb} MB after; ${(report.durationMs / 1000).toFixed(1)} s`,
);
process.exit(failed(report) ? 1 : 0);
