import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ANSI } from '../../../cli/io.js';
import type { LoadReport, Percentiles, StepStats, TimeBucket } from '../../../cli/load/model.js';
import { escapeHtml, formatProgress, formatStepTable, renderHtml, toJson } from '../../../cli/load/report.js';

const HOSTILE = `Checkout <script>alert("pwned")</script> & 'co'`;
const LONG_SOURCE = `say: "It's 12345, placed on Monday; please check the delivery address too"`;

const pct = (median: number, p95: number, p99: number, max: number, count = 100): Percentiles => ({
  count,
  median,
  p95,
  p99,
  max,
});

const STEPS: StepStats[] = [
  {
    key: 'scenarios/order-status.yaml:4',
    scenario: 'Order status',
    source: 'say: "Where is my order?"',
    kind: 'say',
    count: 512,
    failures: [],
    firstReply: pct(412, 1240, 1893, 2710, 512),
    duration: pct(420, 1250, 1900, 2720, 512),
  },
  {
    key: 'scenarios/order-status.yaml:5',
    scenario: 'Order status',
    source: 'waitForReplyContaining: "order number"',
    kind: 'waitForReplyContaining',
    count: 512,
    failures: [
      { reason: 'timeout', count: 3 },
      { reason: 'unexpected_reply', count: 1 },
    ],
    duration: pct(35, 160, 410, 10_000, 512),
  },
  {
    key: 'scenarios/order-status.yaml:6',
    scenario: 'Order status',
    source: LONG_SOURCE,
    kind: 'say',
    count: 508,
    failures: [
      { reason: 'timeout', count: 3 },
      { reason: 'error:rate_limited', count: 1 },
    ],
    firstReply: pct(530.4, 1402.6, 2050, 3980, 504),
    duration: pct(540, 1410, 2060, 10_000, 508),
  },
  {
    key: 'scenarios/checkout.yaml:3',
    scenario: HOSTILE,
    source: 'chooseQuickReply: "Pay <now>"',
    kind: 'chooseQuickReply',
    count: 300,
    failures: [{ reason: 'error:session_ended', count: 2 }],
    firstReply: pct(388, 902, 1310, 1650, 298),
    duration: pct(395, 910, 1320, 1660, 300),
  },
  {
    key: 'scenarios/checkout.yaml:4',
    scenario: HOSTILE,
    source: 'waitForReplyContaining: "Thanks & bye"',
    kind: 'waitForReplyContaining',
    count: 298,
    failures: [],
    duration: pct(12, 40, 95, 180, 298),
  },
];

/** A minute of 1 s buckets: a ramp to 200 guests over 20 s, then a bot outage from 30 s to 34 s. */
function timeline(): TimeBucket[] {
  return Array.from({ length: 60 }, (_, i): TimeBucket => {
    const outage = i >= 30 && i < 35;
    const active = Math.min(200, (i + 1) * 10);
    const steps = Math.round(active * 0.35);
    const base = 380 + (i % 7) * 9;
    return {
      atMs: i * 1000,
      active,
      steps,
      errors: outage ? 2 - (i % 2) : i === 12 ? 1 : 0,
      ...(outage ? {} : { firstReply: pct(base, base * 2.6, base * 3.8, base * 5, steps) }),
    };
  });
}

function sampleReport(): LoadReport {
  const steps = STEPS.reduce((sum, s) => sum + s.count, 0);
  const failedSteps = STEPS.reduce((sum, s) => sum + s.failures.reduce((n, f) => n + f.count, 0), 0);
  return {
    startedAt: '2026-05-04T10:00:00.000Z',
    durationMs: 60_000,
    stoppedBy: 'duration',
    settings: {
      files: ['scenarios/order-status.yaml', 'scenarios/checkout.yaml'],
      target: 'wss://relay.example.test/ws',
      guests: 200,
      rampPerSecond: 10,
      durationMs: 60_000,
      thinkMs: { min: 500, max: 1500 },
    },
    totals: {
      guests: 200,
      iterations: 812,
      passed: 802,
      failed: 10,
      steps,
      failedSteps,
      errorRate: failedSteps / steps,
      rateLimited: 7,
      sessionsStarted: 200,
      sessionsEnded: 200,
    },
    steps: STEPS,
    bucketMs: 1000,
    timeline: timeline(),
    thresholds: [
      {
        name: 'max-p95',
        limit: 1000,
        actual: 1240,
        passed: false,
        what: 'p95 of the time to the first reply, ms',
      },
      {
        name: 'max-error-rate',
        limit: 0.01,
        actual: failedSteps / steps,
        passed: true,
        what: 'failed steps / steps',
      },
    ],
    generator: {
      cpuMsPerGuestSecond: 1.234,
      peakRssBytes: 152_400_000,
      rssBytesPerGuest: 317_850,
      peakActive: 200,
    },
  };
}

// Set LOAD_REPORT_SAMPLE=/tmp/load-report-sample.html to look at the page this test renders.
const samplePath = process.env.LOAD_REPORT_SAMPLE;
if (samplePath) writeFileSync(samplePath, renderHtml(sampleReport()));

// biome-ignore lint/suspicious/noControlCharactersInRegex: an ANSI colour code starts with ESC
const stripAnsi = (text: string): string => text.replace(/\u001b\[\d+m/g, '');

describe('formatStepTable', () => {
  const table = formatStepTable(sampleReport());
  const lines = table.split('\n');

  it('has a row for every step, with its runs, failures and first-reply figures', () => {
    const row = (text: string): string => lines.find((line) => line.includes(text)) ?? '';
    expect(row('say: "Where is my order?"')).toMatch(/512\s+0\s+412\s+1240\s+1893\s+2710$/);
    expect(row('waitForReplyContaining: "order number"')).toMatch(
      /512\s+4\s+-\s+-\s+-\s+-\s+timeout 3, unexpected_reply 1$/,
    );
    expect(row('chooseQuickReply: "Pay <now>"')).toMatch(
      /300\s+2\s+388\s+902\s+1310\s+1650\s+error:session_ended 2$/,
    );
    expect(row('waitForReplyContaining: "Thanks & bye"')).toMatch(/298\s+0\s+-\s+-\s+-\s+-$/);
    expect(table).toContain(HOSTILE.slice(0, 27));
  });

  it('shortens a long step source to 40 characters and rounds ms', () => {
    const row = lines.find((line) => line.includes('say: "It\'s 12345')) ?? '';
    expect(row).toContain(`${LONG_SOURCE.slice(0, 39)}…`);
    expect(row).not.toContain(LONG_SOURCE);
    expect(row).toMatch(/508\s+4\s+530\s+1403\s+2050\s+3980\s+timeout 3, error:rate_limited 1$/);
  });

  it('aligns the columns: every figure of a column ends where its header does', () => {
    const header = lines.find((line) => line.trimStart().startsWith('scenario')) ?? '';
    const end = header.indexOf('max') + 'max'.length;
    const rows = lines.filter((line) => STEPS.some((s) => line.includes(s.source.slice(0, 20))));
    expect(rows).toHaveLength(5);
    for (const [row, max] of rows.map((r, i) => [r, String(STEPS[i]?.firstReply?.max ?? '-')] as const)) {
      expect(row.slice(0, end).endsWith(max)).toBe(true);
      expect(row[end] ?? ' ').toBe(' ');
    }
  });

  it('gives the totals, the thresholds with MISSED and PASS, and the generator cost', () => {
    expect(table).toMatch(/guests\s+200 of 200/);
    expect(table).toMatch(/iterations\s+812 \(802 passed, 10 failed\)/);
    expect(table).toMatch(/steps\s+2130 \(10 failed\)/);
    expect(table).toMatch(/error rate\s+0\.47%/);
    expect(table).toMatch(/rate-limited\s+7 sends waited out/);
    expect(table).toMatch(/sessions\s+200 started, 200 ended/);
    expect(table).toMatch(/stopped by\s+duration after 1 min 00 s/);
    expect(table).toMatch(/max-p95\s+1000 ms\s+1240 ms\s+MISSED/);
    expect(table).toMatch(/max-error-rate\s+1\.00%\s+0\.47%\s+PASS/);
    expect(table).toMatch(/CPU\s+1\.2 ms per guest-second/);
    expect(table).toMatch(/peak RSS\s+145\.3 MiB \(310\.4 KiB per guest\)/);
    expect(table).toMatch(/peak active\s+200 guests/);
  });

  it('lays out the same text in colour as without', () => {
    const coloured = formatStepTable(sampleReport(), ANSI);
    expect(coloured).not.toBe(table);
    expect(stripAnsi(coloured)).toBe(table);
  });

  it('keeps escape codes and newlines from a scenario file out of the terminal', () => {
    const report = sampleReport();
    const step = { ...(report.steps[0] as StepStats), scenario: 'evil\u001b[2J', source: 'say: "a\nb"' };
    const out = formatStepTable({ ...report, steps: [step] });
    expect(out).not.toContain('\u001b');
    expect(out).toContain('evil?[2J');
    expect(out).toContain('say: "a b"');
  });

  it('prints a run without steps, thresholds or timeline without NaN', () => {
    const report = sampleReport();
    const out = formatStepTable({
      ...report,
      steps: [],
      thresholds: [],
      timeline: [],
      totals: { ...report.totals, steps: 0, failedSteps: 0, errorRate: 0 },
    });
    expect(out).toContain('no step ran');
    expect(out).toContain('none set');
    expect(out).not.toContain('NaN');
  });
});

describe('formatProgress', () => {
  it('says time, guests, step rate, errors and p95 on one line', () => {
    expect(
      formatProgress({
        elapsedMs: 12_000,
        active: 35,
        started: 37,
        target: 200,
        stepsPerSecond: 41.23,
        errors: 0,
        p95Ms: 411.6,
      }),
    ).toBe('12.0 s  guests 37/200 active 35  steps 41.2/s  errors 0  p95 412 ms');
  });

  it('leaves out the p95 before the first reply', () => {
    const line = formatProgress({
      elapsedMs: 250,
      active: 1,
      started: 1,
      target: 10,
      stepsPerSecond: 0,
      errors: 0,
    });
    expect(line).toBe('0.3 s  guests 1/10 active 1  steps 0.0/s  errors 0');
  });
});

describe('toJson', () => {
  it('round-trips the report', () => {
    const report = sampleReport();
    expect(JSON.parse(toJson(report))).toEqual(report);
  });

  it("writes keys in the model's order whatever order the report was built in", () => {
    const { generator, timeline: buckets, startedAt, ...rest } = sampleReport();
    const shuffled: LoadReport = { generator, timeline: buckets, ...rest, startedAt };
    const keys = Object.keys(JSON.parse(toJson(shuffled)));
    expect(keys).toEqual([
      'startedAt',
      'durationMs',
      'stoppedBy',
      'settings',
      'totals',
      'steps',
      'bucketMs',
      'timeline',
      'thresholds',
      'generator',
    ]);
  });
});

describe('escapeHtml', () => {
  it('escapes tags, quotes and ampersands', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;',
    );
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
    expect(escapeHtml('"><img src=x onerror=alert(1)>')).not.toMatch(/[<>"]/);
  });
});

describe('renderHtml', () => {
  const html = renderHtml(sampleReport());

  it('is one self-contained page with three charts', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html.match(/<\/svg>/g)).toHaveLength(3);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link|@import|url\(/i);
    expect(html).not.toContain('NaN');
  });

  it('escapes what comes from the scenario files', () => {
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('chooseQuickReply: &quot;Pay &lt;now&gt;&quot;');
    expect(html).toContain('Thanks &amp; bye');
    const hostile = renderHtml({
      ...sampleReport(),
      stoppedBy: '<b>x</b>',
      settings: { ...sampleReport().settings, target: '"><script>', files: ['</code><script>'] },
      thresholds: [{ name: '<i>', limit: 1, actual: 2, passed: false, what: '<u>' }],
      steps: [
        { ...(STEPS[0] as StepStats), key: '<k>', kind: '<k>', failures: [{ reason: '<r>', count: 1 }] },
      ],
    });
    expect(hostile).not.toMatch(/<(script|b|i|u|k|r)>/);
  });

  it('shows the verdict, the cards, the per-step figures, the failures by reason and the generator', () => {
    expect(html).toContain('<span class="verdict fail">FAIL</span>');
    expect(html).toContain('2026-05-04 10:00:00 UTC');
    expect(html).toContain('200 guests, ramp 10.0/s, for 1 min 00 s, think 500–1500 ms');
    expect(html).toMatch(/first reply p95<\/div><div class="value">1240 ms/);
    expect(html).toMatch(/error rate<\/div><div class="value">0\.47%/);
    expect(html).toContain('<strong>MISSED</strong>');
    for (const step of STEPS) expect(html).toContain(escapeHtml(step.source));
    for (const figure of ['412', '1240', '1893', '2710', '1403']) expect(html).toContain(`>${figure}</td>`);
    expect(html).toMatch(
      /<td class="reason"><code>timeout<\/code><\/td><td class="num">6<\/td><td class="num">60\.00%/,
    );
    expect(html).toContain('145.3 MiB');
    expect(html).toContain('1.2 ms per guest-second');
  });

  it('breaks the latency lines where a bucket has no first reply', () => {
    const latency = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    const paths = [...latency.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(paths).toHaveLength(3);
    for (const d of paths) expect(d.match(/M/g)).toHaveLength(2);
  });

  it('draws an empty timeline without NaN', () => {
    const page = renderHtml({ ...sampleReport(), timeline: [], durationMs: 0 });
    expect(page.match(/<svg/g)).toHaveLength(3);
    expect(page).toContain('no data');
    expect(page).not.toContain('NaN');
    expect(page).not.toContain('Infinity');
  });

  it('draws a timeline without any latency sample without NaN', () => {
    const buckets = sampleReport().timeline.map(({ firstReply: _, ...bucket }) => bucket);
    const page = renderHtml({ ...sampleReport(), timeline: buckets });
    expect(page.match(/<svg/g)).toHaveLength(3);
    expect(page).toContain('no first reply in any bucket');
    expect(page).not.toContain('NaN');
  });

  it('draws a run without steps or thresholds, and buckets of zero samples, without NaN', () => {
    const report = sampleReport();
    const page = renderHtml({
      ...report,
      steps: [],
      thresholds: [],
      timeline: report.timeline.map((b) => ({ ...b, firstReply: pct(0, 0, 0, 0, 0) })),
      totals: { ...report.totals, steps: 0, failedSteps: 0, errorRate: 0 },
      generator: { ...report.generator, cpuMsPerGuestSecond: Number.NaN },
    });
    expect(page).toContain('no thresholds');
    expect(page).not.toContain('NaN');
  });
});
