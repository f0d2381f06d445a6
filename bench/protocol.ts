/**
 * How long parseClientFrame takes per frame, for typical and hostile frames. Every Lambda invocation
 * parses one frame, so this is a floor under the relay's per-message cost.
 *
 *   npm run bench:protocol
 *
 * Prints one row per frame kind: median and p99 of the time per parse, over ROUNDS rounds of BATCH parses
 * each (a batch amortises the timer's own cost), and the ratio to JSON.parse of the same text.
 */
import { constraintsFromSessionResponse } from '../src/domain/constraints.js';
import { parseClientFrame } from '../src/protocol/index.js';
import { PNG_1X1_BASE64 } from '../support/seed-frames.js';

const ROUNDS = 200;
const BATCH = 50;

const constraints = constraintsFromSessionResponse({
  connected: true,
  maxCustomDataBytes: 2048,
  allowedMedia: { inbound: { fileTypes: [{ type: 'image/*' }], maxFileSizeKB: 10240 } },
});

const frames: Record<string, string> = {
  'send (seed, short text)': JSON.stringify({ action: 'send', text: 'Hello, I need help with my order' }),
  'send (4,000 characters)': JSON.stringify({
    action: 'send',
    text: 'x'.repeat(4000),
    clientMessageId: 'c-1',
  }),
  'context (20 nested keys)': JSON.stringify({
    action: 'context',
    data: Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`k${i}`, { value: i, label: `item ${i}` }]),
    ),
  }),
  'upload (inline PNG)': JSON.stringify({
    action: 'upload',
    filename: 'a.png',
    contentType: 'image/png',
    data: PNG_1X1_BASE64,
  }),
  'hostile: 200 KB frame': JSON.stringify({ action: 'send', text: 'x'.repeat(200 * 1024) }),
  'hostile: depth 1,000': `{"action":"context","data":${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}}`,
  'hostile: invalid JSON': '{"action":"send","text":"unterminated',
};

function time(fn: () => void): number[] {
  const perCall: number[] = [];
  for (let warm = 0; warm < 20; warm++) fn();
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) fn();
    perCall.push(Number(process.hrtime.bigint() - start) / BATCH / 1000);
  }
  return perCall.sort((a, b) => a - b);
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

const rows = Object.entries(frames).map(([kind, raw]) => {
  const parse = time(() => parseClientFrame(raw, { constraints }));
  const json = time(() => {
    try {
      JSON.parse(raw);
    } catch {
      // The invalid-JSON row measures the failure path on purpose.
    }
  });
  const result = parseClientFrame(raw, { constraints });
  return {
    frame: kind,
    bytes: Buffer.byteLength(raw),
    outcome: result.ok ? result.frame.action : result.error.code,
    'median µs': quantile(parse, 0.5).toFixed(1),
    'p99 µs': quantile(parse, 0.99).toFixed(1),
    '× JSON.parse': (quantile(parse, 0.5) / Math.max(quantile(json, 0.5), 0.001)).toFixed(1),
  };
});

console.log(`parseClientFrame, ${ROUNDS} rounds × ${BATCH} parses, Node ${process.version}`);
console.table(rows);
