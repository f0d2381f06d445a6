/**
 * The reports of `guest-relay load`, pure functions of a LoadReport (model.ts): the end-of-run table for a
 * terminal, the live progress line, JSON, and one self-contained HTML page. The page holds inline CSS and
 * inline SVG only (no script, nothing fetched, not even an SVG namespace URL), so that it opens from disk,
 * offline, in a CI artifact viewer, and prints.
 *
 * Every string that comes from the user's files (scenario names, step sources, failure reasons) is
 * escaped for HTML, and stripped of control characters for a terminal. Figures are formatted alike in
 * every report: ms as integers, rates with one decimal, percentages with two; a figure that is not a
 * finite number prints as `-` (never `NaN`).
 */
import type { Colors } from '../io.js';
import { PLAIN } from '../io.js';
import type {
  LoadReport,
  Percentiles,
  ProgressSnapshot,
  StepStats,
  ThresholdResult,
  TimeBucket,
} from './model.js';

/** The colours of the terminal table: the CLI's own (`io.color`). */
export type ReportColors = Pick<Colors, 'bold' | 'dim' | 'red' | 'green'>;

// ---------------------------------------------------------------------------------------------------
// Figures, formatted alike in every report

const DASH = '-';

const ms = (value: number): string => (Number.isFinite(value) ? String(Math.round(value)) : DASH);
const whole = ms;
const rate = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : DASH);
const percent = (ratio: number): string => (Number.isFinite(ratio) ? `${(ratio * 100).toFixed(2)}%` : DASH);

function bytes(value: number): string {
  if (!Number.isFinite(value)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value;
  let unit = 0;
  while (Math.abs(scaled) >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(scaled)} B` : `${scaled.toFixed(1)} ${units[unit]}`;
}

/** `42.0 s`, `5 min 03 s`, `1 h 02 min`. */
function duration(valueMs: number): string {
  if (!Number.isFinite(valueMs)) return DASH;
  const seconds = valueMs / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`;
  return `${Math.floor(total / 3600)} h ${String(Math.floor((total % 3600) / 60)).padStart(2, '0')} min`;
}

/** `2026-05-04 10:00:00 UTC`, or the text as given when it is no date. */
function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${whole(count)} ${count === 1 ? one : many}`;
}

/**
 * A threshold's limit or actual figure in its own unit. The model names the figure (`what`) but not its
 * unit, so it is read from the name: an error rate is a ratio, a percentile is in ms.
 */
function thresholdFigure(threshold: ThresholdResult, value: number): string {
  if (/rate|ratio/i.test(threshold.name)) return percent(value);
  if (/\bp\d+\b|latency|reply|\bms\b/i.test(`${threshold.name} ${threshold.what}`)) return `${ms(value)} ms`;
  if (!Number.isFinite(value)) return DASH;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

const measured = (p: Percentiles | undefined): p is Percentiles => p !== undefined && p.count > 0;

/** median, p95, p99, max of the time to the first reply, or dashes for a step that sends nothing. */
function latencies(step: StepStats): readonly [string, string, string, string] {
  const p = step.firstReply;
  return measured(p) ? [ms(p.median), ms(p.p95), ms(p.p99), ms(p.max)] : [DASH, DASH, DASH, DASH];
}

function failedCount(step: StepStats): number {
  return step.failures.reduce((sum, failure) => sum + failure.count, 0);
}

/** Most frequent first (the model says they are; a report should not depend on it), then by name. */
function byCount<T extends { readonly reason: string; readonly count: number }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

// ---------------------------------------------------------------------------------------------------
// The terminal

/** One line of user text for a terminal: whitespace runs collapsed, control characters (escape codes) shown as `?`. */
function oneLine(text: string): string {
  return [...text.replace(/\s+/g, ' ').trim()]
    .map((char) => {
      const code = char.charCodeAt(0);
      return code < 0x20 || (code >= 0x7f && code < 0xa0) ? '?' : char;
    })
    .join('');
}

const width = (text: string): number => [...text].length;

function shorten(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

const SOURCE_WIDTH = 40;
const SCENARIO_WIDTH = 28;
const REASON_WIDTH = 32;
const TOP_REASONS = 3;

/** `timeout 3, error:rate_limited 1, +2 more`. */
function topReasons(step: StepStats): string {
  const sorted = byCount(step.failures);
  const shown = sorted
    .slice(0, TOP_REASONS)
    .map((f) => `${shorten(oneLine(f.reason), REASON_WIDTH)} ${whole(f.count)}`);
  const more = sorted.length - TOP_REASONS;
  return [...shown, ...(more > 0 ? [`+${more} more`] : [])].join(', ');
}

interface Cell {
  readonly text: string;
  readonly paint?: (text: string) => string;
}

type Align = 'left' | 'right';

/**
 * Columns as wide as their widest cell, measured on the plain text, then painted: colour codes take no
 * room on screen. The last column is not padded, so lines carry no trailing spaces.
 */
function columns(
  header: readonly string[],
  align: readonly Align[],
  rows: readonly (readonly Cell[])[],
  c: ReportColors,
  indent = '',
): string[] {
  const widths = header.map((title, i) =>
    Math.max(width(title), ...rows.map((row) => width(row[i]?.text ?? ''))),
  );
  const line = (cells: readonly Cell[]): string =>
    indent +
    cells
      .map((cell, i) => {
        const room = ' '.repeat(Math.max(0, (widths[i] ?? 0) - width(cell.text)));
        const painted = cell.paint && cell.text !== '' ? cell.paint(cell.text) : cell.text;
        if (align[i] === 'right') return `${room}${painted}`;
        return i === cells.length - 1 ? painted : `${painted}${room}`;
      })
      .join('  ');
  const bold = (text: string): Cell => ({ text, paint: c.bold });
  return [line(header.map(bold)), ...rows.map(line)].map((text) => text.trimEnd());
}

function labelled(entries: readonly (readonly [string, string])[], indent = '  '): string[] {
  const w = Math.max(0, ...entries.map(([label]) => width(label)));
  return entries.map(([label, value]) => `${indent}${label.padEnd(w)}  ${value}`);
}

/**
 * The end-of-run table: one row per step (the time to the first reply in ms), then the totals, the
 * thresholds and what the generator cost. The failure reasons come last in a row, after the figures,
 * so that a long reason does not push the numbers apart.
 */
export function formatStepTable(report: LoadReport, color: ReportColors = PLAIN): string {
  const c = color;
  const out: string[] = [c.bold('Steps') + c.dim(' (time to the first reply, ms)')];

  if (report.steps.length === 0) {
    out.push(c.dim('  no step ran'));
  } else {
    let previous: string | undefined;
    const rows = report.steps.map((step): Cell[] => {
      const scenario = step.scenario === previous ? '' : shorten(oneLine(step.scenario), SCENARIO_WIDTH);
      previous = step.scenario;
      const failed = failedCount(step);
      const figures = latencies(step).map(
        (text): Cell => (text === DASH ? { text, paint: c.dim } : { text }),
      );
      return [
        { text: scenario },
        { text: shorten(oneLine(step.source), SOURCE_WIDTH) },
        { text: whole(step.count) },
        failed > 0 ? { text: whole(failed), paint: c.red } : { text: '0', paint: c.dim },
        ...figures,
        { text: topReasons(step), paint: c.red },
      ];
    });
    out.push(
      ...columns(
        ['scenario', 'step', 'runs', 'failed', 'median', 'p95', 'p99', 'max', 'failures'],
        ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
        rows,
        c,
        '  ',
      ),
    );
  }

  const t = report.totals;
  const errorRate = percent(t.errorRate);
  out.push(
    '',
    c.bold('Totals'),
    ...labelled([
      ['guests', `${whole(t.guests)} of ${whole(report.settings.guests)}`],
      [
        'iterations',
        `${whole(t.iterations)} (${c.green(`${whole(t.passed)} passed`)}, ${t.failed > 0 ? c.red(`${whole(t.failed)} failed`) : `${whole(t.failed)} failed`})`,
      ],
      [
        'steps',
        `${whole(t.steps)} (${t.failedSteps > 0 ? c.red(`${whole(t.failedSteps)} failed`) : '0 failed'})`,
      ],
      ['error rate', t.failedSteps > 0 ? c.red(errorRate) : errorRate],
      ['rate-limited', `${plural(t.rateLimited, 'send')} waited out`],
      ['sessions', `${whole(t.sessionsStarted)} started, ${whole(t.sessionsEnded)} ended`],
      ['stopped by', `${oneLine(report.stoppedBy)} after ${duration(report.durationMs)}`],
    ]),
  );

  out.push('', c.bold('Thresholds'));
  if (report.thresholds.length === 0) {
    out.push(c.dim('  none set'));
  } else {
    const rows = report.thresholds.map((threshold): Cell[] => [
      { text: oneLine(threshold.name) },
      { text: thresholdFigure(threshold, threshold.limit) },
      { text: thresholdFigure(threshold, threshold.actual) },
      threshold.passed
        ? { text: 'PASS', paint: c.green }
        : { text: 'MISSED', paint: (s) => c.bold(c.red(s)) },
      { text: oneLine(threshold.what), paint: c.dim },
    ]);
    out.push(
      ...columns(
        ['name', 'limit', 'actual', 'result', 'what'],
        ['left', 'right', 'right', 'left', 'left'],
        rows,
        c,
        '  ',
      ),
    );
  }

  const g = report.generator;
  out.push(
    '',
    c.bold('Generator') + c.dim(' (this process)'),
    ...labelled([
      ['CPU', `${rate(g.cpuMsPerGuestSecond)} ms per guest-second`],
      ['peak RSS', `${bytes(g.peakRssBytes)} (${bytes(g.rssBytesPerGuest)} per guest)`],
      ['peak active', plural(g.peakActive, 'guest')],
    ]),
  );
  return `${out.join('\n')}\n`;
}

/** One live line: `12.0 s  guests 37/200 active 35  steps 41.2/s  errors 0  p95 412 ms`. */
export function formatProgress(snapshot: ProgressSnapshot): string {
  const s = snapshot;
  const parts = [
    Number.isFinite(s.elapsedMs) ? `${(s.elapsedMs / 1000).toFixed(1)} s` : DASH,
    `guests ${whole(s.started)}/${whole(s.target)} active ${whole(s.active)}`,
    `steps ${rate(s.stepsPerSecond)}/s`,
    `errors ${whole(s.errors)}`,
  ];
  if (s.p95Ms !== undefined) parts.push(`p95 ${ms(s.p95Ms)} ms`);
  return parts.join('  ');
}

// ---------------------------------------------------------------------------------------------------
// JSON

function percentiles(p: Percentiles): Percentiles {
  return { count: p.count, median: p.median, p95: p.p95, p99: p.p99, max: p.max };
}

/**
 * Pretty JSON, keys in the model's order whatever order the engine built its objects in, so that two
 * reports diff line by line. Only the model's fields are written.
 */
export function toJson(report: LoadReport): string {
  const r = report;
  const s = r.settings;
  const ordered: LoadReport = {
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    stoppedBy: r.stoppedBy,
    settings: {
      files: [...s.files],
      target: s.target,
      guests: s.guests,
      rampPerSecond: s.rampPerSecond,
      ...(s.durationMs === undefined ? {} : { durationMs: s.durationMs }),
      ...(s.iterations === undefined ? {} : { iterations: s.iterations }),
      thinkMs: { min: s.thinkMs.min, max: s.thinkMs.max },
    },
    totals: {
      guests: r.totals.guests,
      iterations: r.totals.iterations,
      passed: r.totals.passed,
      failed: r.totals.failed,
      steps: r.totals.steps,
      failedSteps: r.totals.failedSteps,
      errorRate: r.totals.errorRate,
      rateLimited: r.totals.rateLimited,
      sessionsStarted: r.totals.sessionsStarted,
      sessionsEnded: r.totals.sessionsEnded,
    },
    steps: r.steps.map((step) => ({
      key: step.key,
      scenario: step.scenario,
      source: step.source,
      kind: step.kind,
      count: step.count,
      failures: step.failures.map((f) => ({ reason: f.reason, count: f.count })),
      ...(step.firstReply === undefined ? {} : { firstReply: percentiles(step.firstReply) }),
      duration: percentiles(step.duration),
    })),
    bucketMs: r.bucketMs,
    timeline: r.timeline.map((bucket) => ({
      atMs: bucket.atMs,
      active: bucket.active,
      steps: bucket.steps,
      errors: bucket.errors,
      ...(bucket.firstReply === undefined ? {} : { firstReply: percentiles(bucket.firstReply) }),
    })),
    thresholds: r.thresholds.map((t) => ({
      name: t.name,
      limit: t.limit,
      actual: t.actual,
      passed: t.passed,
      what: t.what,
    })),
    generator: {
      cpuMsPerGuestSecond: r.generator.cpuMsPerGuestSecond,
      peakRssBytes: r.generator.peakRssBytes,
      rssBytesPerGuest: r.generator.rssBytesPerGuest,
      peakActive: r.generator.peakActive,
    },
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------------
// HTML

/** Text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const h = escapeHtml;

const CHART = { width: 960, height: 230, left: 56, right: 16, top: 30, bottom: 36 } as const;
const PLOT = {
  x0: CHART.left,
  x1: CHART.width - CHART.right,
  y0: CHART.height - CHART.bottom,
  y1: CHART.top,
} as const;
/** Above this, the per-bucket hover areas (a `<title>` each) would make the page heavy: left out. */
const MAX_HOVER_BUCKETS = 2000;

const COLORS = {
  p50: '#2b6cb0',
  p95: '#dd6b20',
  p99: '#b83280',
  active: '#2c7a7b',
  target: '#718096',
  errors: '#c53030',
} as const;

/** An SVG coordinate: one decimal, and never `NaN` (a figure that cannot be placed goes to 0). */
const n = (value: number): string => (Number.isFinite(value) ? String(Math.round(value * 10) / 10) : '0');

function linear(d0: number, d1: number, r0: number, r1: number): (value: number) => number {
  const span = d1 - d0;
  return (value) => r0 + (span > 0 ? (value - d0) / span : 0) * (r1 - r0);
}

/** 0 up to at least `max` in 1, 2 or 5 × 10^k steps, about five of them. */
function niceTicks(max: number, integers: boolean): number[] {
  const top = Number.isFinite(max) && max > 0 ? max : 1;
  const rough = top / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? 10 * power;
  if (integers) step = Math.max(1, Math.ceil(step));
  const ticks: number[] = [];
  for (let i = 0; i * step < top + step * 1e-9 || ticks.length < 2; i++) ticks.push(i * step);
  const last = ticks[ticks.length - 1] ?? 0;
  if (last < top) ticks.push(last + step);
  return ticks;
}

const TIME_STEPS_S = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400];

/** Ticks on the time axis at round seconds or minutes, at most about eight. */
function timeTicks(spanMs: number): number[] {
  const stepS = TIME_STEPS_S.find((s) => spanMs / (s * 1000) <= 8) ?? Math.ceil(spanMs / 8000 / 3600) * 3600;
  const ticks: number[] = [];
  for (let i = 0; i * stepS * 1000 <= spanMs + 1e-6; i++) ticks.push(i * stepS * 1000);
  return ticks;
}

/** `30 s` on a short axis, `2:30` or `1:02:30` on a long one. */
function timeLabel(atMs: number, spanMs: number): string {
  const seconds = atMs / 1000;
  if (spanMs < 120_000) return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  const ss = String(total % 60).padStart(2, '0');
  if (total < 3600) return `${Math.floor(total / 60)}:${ss}`;
  return `${Math.floor(total / 3600)}:${String(Math.floor((total % 3600) / 60)).padStart(2, '0')}:${ss}`;
}

interface Frame {
  readonly x: (atMs: number) => number;
  readonly y: (value: number) => number;
  readonly spanMs: number;
}

interface ChartSpec {
  readonly label: string;
  readonly unit: string;
  readonly yMax: number;
  readonly integers: boolean;
  readonly legend: readonly { readonly name: string; readonly color: string; readonly dashed?: boolean }[];
  /** Shown in the middle of the plot when there is nothing to draw. */
  readonly empty?: string;
  readonly body: (frame: Frame) => string[];
}

function chart(report: LoadReport, spec: ChartSpec): string {
  const last = report.timeline[report.timeline.length - 1];
  const spanMs = Math.max(
    Number.isFinite(report.durationMs) ? report.durationMs : 0,
    last ? last.atMs + report.bucketMs : 0,
    1,
  );
  const yTicks = niceTicks(spec.yMax, spec.integers);
  const yTop = yTicks[yTicks.length - 1] ?? 1;
  const frame: Frame = {
    x: linear(0, spanMs, PLOT.x0, PLOT.x1),
    y: linear(0, yTop, PLOT.y0, PLOT.y1),
    spanMs,
  };
  const out = [
    `<svg class="chart" viewBox="0 0 ${CHART.width} ${CHART.height}" width="${CHART.width}" height="${CHART.height}" role="img" aria-label="${h(spec.label)}">`,
    `<title>${h(spec.label)}</title>`,
  ];
  for (const tick of yTicks) {
    const y = n(frame.y(tick));
    out.push(
      `<line class="grid" x1="${PLOT.x0}" x2="${PLOT.x1}" y1="${y}" y2="${y}"/>`,
      `<text x="${PLOT.x0 - 6}" y="${y}" dy="0.32em" text-anchor="end">${h(spec.integers ? whole(tick) : ms(tick))}</text>`,
    );
  }
  for (const tick of timeTicks(spanMs)) {
    const x = n(frame.x(tick));
    out.push(
      `<line class="tick" x1="${x}" x2="${x}" y1="${PLOT.y0}" y2="${PLOT.y0 + 5}"/>`,
      `<text x="${x}" y="${PLOT.y0 + 18}" text-anchor="middle">${h(timeLabel(tick, spanMs))}</text>`,
    );
  }
  out.push(
    `<line class="axis" x1="${PLOT.x0}" x2="${PLOT.x1}" y1="${PLOT.y0}" y2="${PLOT.y0}"/>`,
    `<line class="axis" x1="${PLOT.x0}" x2="${PLOT.x0}" y1="${PLOT.y0}" y2="${PLOT.y1}"/>`,
    `<text class="unit" x="${PLOT.x0 - 6}" y="${PLOT.y1 - 14}" text-anchor="end">${h(spec.unit)}</text>`,
    `<text class="unit" x="${PLOT.x1}" y="${CHART.height - 4}" text-anchor="end">time since the start</text>`,
  );
  let legendX = PLOT.x0 + 8;
  for (const item of spec.legend) {
    out.push(
      `<line x1="${legendX}" x2="${legendX + 18}" y1="${PLOT.y1 - 16}" y2="${PLOT.y1 - 16}" stroke="${item.color}" stroke-width="${item.dashed ? 1.5 : 2.5}"${item.dashed ? ' stroke-dasharray="5 4"' : ''}/>`,
      `<text x="${legendX + 24}" y="${PLOT.y1 - 16}" dy="0.32em">${h(item.name)}</text>`,
    );
    legendX += 34 + width(item.name) * 7;
  }
  if (spec.empty !== undefined) {
    out.push(
      `<text class="empty" x="${n((PLOT.x0 + PLOT.x1) / 2)}" y="${n((PLOT.y0 + PLOT.y1) / 2)}" text-anchor="middle">${h(spec.empty)}</text>`,
    );
  } else {
    out.push(...spec.body(frame));
  }
  out.push('</svg>');
  return out.join('\n');
}

/** What one bucket holds, for the hover title over its column. */
function bucketTitle(report: LoadReport, bucket: TimeBucket, spanMs: number): string {
  const p = bucket.firstReply;
  const reply = measured(p)
    ? `first reply p50 ${ms(p.median)} / p95 ${ms(p.p95)} / p99 ${ms(p.p99)} ms (${plural(p.count, 'reply', 'replies')})`
    : 'no first reply';
  return [
    `${timeLabel(bucket.atMs, spanMs)} – ${timeLabel(bucket.atMs + report.bucketMs, spanMs)}`,
    reply,
    `${plural(bucket.active, 'guest')} active`,
    `${plural(bucket.steps, 'step')}, ${plural(bucket.errors, 'error')}`,
  ].join('\n');
}

/** Transparent columns, one per bucket, that show what the bucket holds on hover (no script needed). */
function hoverColumns(report: LoadReport, frame: Frame): string[] {
  if (report.timeline.length > MAX_HOVER_BUCKETS) return [];
  return report.timeline.map((bucket) => {
    const x = frame.x(bucket.atMs);
    const w = Math.max(1, frame.x(bucket.atMs + report.bucketMs) - x);
    return `<rect class="hover" x="${n(x)}" y="${PLOT.y1}" width="${n(w)}" height="${PLOT.y0 - PLOT.y1}"><title>${h(bucketTitle(report, bucket, frame.spanMs))}</title></rect>`;
  });
}

type Point = readonly [number, number];

/** A path through runs of points: a new run (`M`) after a gap; a lone point gets a dot instead. */
function polyline(runs: readonly (readonly Point[])[], color: string): string[] {
  const out: string[] = [];
  const d = runs
    .filter((run) => run.length > 1)
    .map((run) => run.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${n(x)} ${n(y)}`).join(''))
    .join('');
  if (d !== '')
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`);
  for (const run of runs) {
    const only = run.length === 1 ? run[0] : undefined;
    if (only) out.push(`<circle cx="${n(only[0])}" cy="${n(only[1])}" r="2.5" fill="${color}"/>`);
  }
  return out;
}

/** Whether a bucket follows the one before it directly (the engine may leave out empty buckets). */
const adjacent = (report: LoadReport, previous: TimeBucket | undefined, bucket: TimeBucket): boolean =>
  previous !== undefined && bucket.atMs - previous.atMs <= report.bucketMs * 1.5;

function latencyChart(report: LoadReport): string {
  const withSamples = report.timeline.filter((b) => measured(b.firstReply));
  const yMax = Math.max(
    0,
    ...withSamples.flatMap((b) =>
      b.firstReply ? [b.firstReply.median, b.firstReply.p95, b.firstReply.p99] : [],
    ),
  );
  const series = [
    { name: 'p50', color: COLORS.p50, pick: (p: Percentiles) => p.median },
    { name: 'p95', color: COLORS.p95, pick: (p: Percentiles) => p.p95 },
    { name: 'p99', color: COLORS.p99, pick: (p: Percentiles) => p.p99 },
  ];
  return chart(report, {
    label: 'Time to the first reply per bucket: p50, p95, p99 (ms)',
    unit: 'ms',
    yMax,
    integers: false,
    legend: series,
    ...(report.timeline.length === 0
      ? { empty: 'no data' }
      : withSamples.length === 0
        ? { empty: 'no first reply in any bucket' }
        : {}),
    body: (frame) => {
      const out: string[] = [];
      for (const s of series) {
        const runs: Point[][] = [];
        let previous: TimeBucket | undefined;
        for (const bucket of report.timeline) {
          const p = bucket.firstReply;
          if (measured(p) && Number.isFinite(s.pick(p))) {
            const point: Point = [frame.x(bucket.atMs + report.bucketMs / 2), frame.y(s.pick(p))];
            const run = runs[runs.length - 1];
            if (run && adjacent(report, previous, bucket)) run.push(point);
            else runs.push([point]);
            previous = bucket;
          } else {
            previous = undefined;
          }
        }
        out.push(...polyline(runs, s.color));
      }
      return [...out, ...hoverColumns(report, frame)];
    },
  });
}

function activeChart(report: LoadReport): string {
  const target = report.settings.guests;
  const yMax = Math.max(target, ...report.timeline.map((b) => b.active));
  return chart(report, {
    label: 'Active guests at the end of each bucket',
    unit: 'guests',
    yMax,
    integers: true,
    legend: [
      { name: 'active', color: COLORS.active },
      { name: `target ${whole(target)}`, color: COLORS.target, dashed: true },
    ],
    ...(report.timeline.length === 0 ? { empty: 'no data' } : {}),
    body: (frame) => {
      const points: Point[] = [
        [frame.x(report.timeline[0]?.atMs ?? 0), frame.y(0)],
        ...report.timeline.map((b): Point => [frame.x(b.atMs + report.bucketMs), frame.y(b.active)]),
      ];
      const line = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${n(x)} ${n(y)}`).join('');
      const lastX = points[points.length - 1]?.[0] ?? PLOT.x0;
      const ty = n(frame.y(target));
      return [
        `<path d="${line}L${n(lastX)} ${PLOT.y0}Z" fill="${COLORS.active}" fill-opacity="0.12" stroke="none"/>`,
        `<path d="${line}" fill="none" stroke="${COLORS.active}" stroke-width="2" stroke-linejoin="round"/>`,
        `<line x1="${PLOT.x0}" x2="${PLOT.x1}" y1="${ty}" y2="${ty}" stroke="${COLORS.target}" stroke-width="1.5" stroke-dasharray="5 4"/>`,
        ...hoverColumns(report, frame),
      ];
    },
  });
}

function errorsChart(report: LoadReport): string {
  const yMax = Math.max(0, ...report.timeline.map((b) => b.errors));
  return chart(report, {
    label: `Failed steps per ${duration(report.bucketMs)} bucket`,
    unit: 'errors',
    yMax,
    integers: true,
    legend: [{ name: 'failed steps', color: COLORS.errors }],
    ...(report.timeline.length === 0 ? { empty: 'no data' } : {}),
    body: (frame) => {
      const bars = report.timeline
        .filter((b) => b.errors > 0)
        .map((b) => {
          const x = frame.x(b.atMs);
          const w = Math.max(1, frame.x(b.atMs + report.bucketMs) - x - 1);
          const y = frame.y(b.errors);
          return `<rect x="${n(x + 0.5)}" y="${n(y)}" width="${n(w)}" height="${n(PLOT.y0 - y)}" fill="${COLORS.errors}"/>`;
        });
      return [...bars, ...hoverColumns(report, frame)];
    },
  });
}

const td = (text: string, cls?: string): string => `<td${cls ? ` class="${cls}"` : ''}>${h(text)}</td>`;
const num = (text: string): string => td(text, text === DASH ? 'num none' : 'num');

function stepRows(report: LoadReport): string[] {
  let previous: string | undefined;
  return report.steps.map((step) => {
    const scenario = step.scenario === previous ? '' : step.scenario;
    previous = step.scenario;
    const failed = failedCount(step);
    const reasons = byCount(step.failures)
      .map((f) => `${h(f.reason)}&nbsp;${h(whole(f.count))}`)
      .join(', ');
    return [
      '<tr>',
      td(scenario, 'scenario'),
      `<td><code>${h(step.source)}</code><div class="key">${h(step.key)} · ${h(step.kind)}</div></td>`,
      num(whole(step.count)),
      td(whole(failed), failed > 0 ? 'num bad' : 'num none'),
      ...latencies(step).map(num),
      `<td class="reasons">${reasons}</td>`,
      '</tr>',
    ].join('');
  });
}

function failureRows(report: LoadReport): string[] {
  const byReason = new Map<string, { count: number; where: { step: StepStats; count: number }[] }>();
  for (const step of report.steps) {
    for (const failure of step.failures) {
      const entry = byReason.get(failure.reason) ?? { count: 0, where: [] };
      entry.count += failure.count;
      entry.where.push({ step, count: failure.count });
      byReason.set(failure.reason, entry);
    }
  }
  const total = [...byReason.values()].reduce((sum, e) => sum + e.count, 0);
  return byCount([...byReason].map(([reason, entry]) => ({ reason, ...entry }))).map((entry) => {
    const where = [...entry.where]
      .sort((a, b) => b.count - a.count)
      .map(
        (w) =>
          `<div><strong>${h(whole(w.count))}</strong> × ${h(w.step.scenario)} · <code>${h(shorten(oneLine(w.step.source), 60))}</code> <span class="key">${h(w.step.key)}</span></div>`,
      )
      .join('');
    return `<tr><td class="reason"><code>${h(entry.reason)}</code></td>${num(whole(entry.count))}${num(percent(total > 0 ? entry.count / total : Number.NaN))}<td>${where}</td></tr>`;
  });
}

/**
 * The p95 of the first reply for the whole run, which the steps' percentiles cannot give (percentiles do
 * not add up): the engine measured it for the `max-p95` threshold when one was set. Without it, the
 * slowest step's p95, named as such.
 */
function overallP95(report: LoadReport): { value: string; note: string } | undefined {
  const threshold = report.thresholds.find((t) => t.name === 'max-p95');
  if (threshold) return { value: `${ms(threshold.actual)} ms`, note: `limit ${ms(threshold.limit)} ms` };
  let slowest: StepStats | undefined;
  for (const step of report.steps) {
    if (
      measured(step.firstReply) &&
      (!measured(slowest?.firstReply) || step.firstReply.p95 > slowest.firstReply.p95)
    )
      slowest = step;
  }
  if (!slowest?.firstReply) return undefined;
  return {
    value: `${ms(slowest.firstReply.p95)} ms`,
    note: `slowest step: ${shorten(oneLine(slowest.source), 40)}`,
  };
}

const CSS = `
:root { color-scheme: light; --fg: #1a202c; --muted: #5a6472; --line: #e2e8f0; --soft: #f7fafc;
  --pass: #276749; --pass-bg: #e6f4ea; --fail: #c53030; --fail-bg: #fdecec; --warn: #975a16; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 12px; display: flex; align-items: center; gap: 12px; }
h2 { font-size: 17px; margin: 32px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 18px 0 4px; }
.verdict { font-size: 14px; padding: 2px 10px; border-radius: 4px; letter-spacing: 0.04em; }
.verdict.pass { background: var(--pass-bg); color: var(--pass); }
.verdict.fail { background: var(--fail-bg); color: var(--fail); }
.verdict.none { background: var(--soft); color: var(--muted); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-top: 20px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; background: var(--soft); }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .note { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.card.bad .value, .bad { color: var(--fail); }
.good { color: var(--pass); }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
thead tr.group th { border-bottom: none; padding-bottom: 0; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.none { color: #a0aec0; }
.scenario { font-weight: 600; max-width: 180px; overflow-wrap: anywhere; }
.reasons { color: var(--fail); font-size: 12px; }
.key { color: var(--muted); font-size: 11px; }
.reason code { white-space: nowrap; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
figure { margin: 8px 0 0; }
figcaption { color: var(--muted); font-size: 12px; }
svg.chart { display: block; width: 100%; height: auto; }
svg.chart text { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg.chart text.empty { font-size: 13px; }
svg.chart .grid { stroke: var(--line); }
svg.chart .axis, svg.chart .tick { stroke: #a0aec0; }
svg.chart .hover { fill: transparent; }
svg.chart .hover:hover { fill: rgba(45, 55, 72, 0.07); }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print {
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  figure, .card, tr { break-inside: avoid; }
  .card { background: none; }
}
`;

/** The whole run on one page: header, cards, three charts, the per-step table, failures, the generator. */
export function renderHtml(report: LoadReport): string {
  const r = report;
  const s = r.settings;
  const t = r.totals;
  const missed = r.thresholds.filter((threshold) => !threshold.passed);
  const verdict =
    r.thresholds.length === 0
      ? '<span class="verdict none">no thresholds</span>'
      : missed.length === 0
        ? '<span class="verdict pass">PASS</span>'
        : '<span class="verdict fail">FAIL</span>';
  const length = [
    ...(s.durationMs === undefined ? [] : [`for ${duration(s.durationMs)}`]),
    ...(s.iterations === undefined ? [] : [plural(s.iterations, 'iteration')]),
  ];
  const settings = [
    plural(s.guests, 'guest'),
    `ramp ${rate(s.rampPerSecond)}/s`,
    ...length,
    `think ${ms(s.thinkMs.min)}–${ms(s.thinkMs.max)} ms`,
  ].join(', ');
  const meta: [string, string][] = [
    ['started', h(when(r.startedAt))],
    ['ran for', h(duration(r.durationMs))],
    ['stopped by', h(r.stoppedBy)],
    ['target', `<code>${h(s.target)}</code>`],
    ['settings', h(settings)],
    ['files', s.files.map((file) => `<code>${h(file)}</code>`).join(', ') || h(DASH)],
  ];
  const p95 = overallP95(r);
  const card = (label: string, value: string, note: string, bad = false): string =>
    `<div class="card${bad ? ' bad' : ''}"><div class="label">${h(label)}</div><div class="value">${h(value)}</div><div class="note">${h(note)}</div></div>`;
  const cards = [
    card('guests', whole(t.guests), `of ${whole(s.guests)}; peak ${whole(r.generator.peakActive)} at once`),
    card(
      'iterations',
      whole(t.iterations),
      `${whole(t.passed)} passed, ${whole(t.failed)} failed`,
      t.failed > 0,
    ),
    card(
      'error rate',
      percent(t.errorRate),
      `${whole(t.failedSteps)} of ${plural(t.steps, 'step')} failed`,
      t.failedSteps > 0,
    ),
    card(
      'first reply p95',
      p95?.value ?? DASH,
      p95?.note ?? 'no step sent anything',
      r.thresholds.some((th) => th.name === 'max-p95' && !th.passed),
    ),
    card('rate-limited', whole(t.rateLimited), 'sends waited out and sent again'),
    card(
      'sessions',
      `${whole(t.sessionsStarted)}`,
      `started; ${whole(t.sessionsEnded)} ended`,
      t.sessionsEnded < t.sessionsStarted,
    ),
  ];
  const thresholdRows = r.thresholds.map(
    (th) =>
      `<tr><td><code>${h(th.name)}</code></td><td>${h(th.what)}</td>${num(thresholdFigure(th, th.limit))}${num(thresholdFigure(th, th.actual))}<td class="${th.passed ? 'good' : 'bad'}"><strong>${th.passed ? 'PASS' : 'MISSED'}</strong></td></tr>`,
  );
  const failures = failureRows(r);
  const g = r.generator;
  const bucket = duration(r.bucketMs);

  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>guest-relay load · ${h(when(r.startedAt))} · ${missed.length === 0 ? 'PASS' : 'FAIL'}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    '<header>',
    `<h1>guest-relay load ${verdict}</h1>`,
    `<dl class="meta">${meta.map(([dt, dd]) => `<dt>${h(dt)}</dt><dd>${dd}</dd>`).join('')}</dl>`,
    '</header>',
    `<section class="cards">${cards.join('')}</section>`,
    '<section>',
    '<h2>Thresholds</h2>',
    thresholdRows.length === 0
      ? '<p class="key">None set.</p>'
      : `<table><thead><tr><th>name</th><th>what</th><th class="num">limit</th><th class="num">actual</th><th>result</th></tr></thead><tbody>${thresholdRows.join('')}</tbody></table>`,
    '</section>',
    '<section>',
    `<h2>Over time <span class="key">(buckets of ${h(bucket)})</span></h2>`,
    '<figure>',
    '<h3>Time to the first reply</h3>',
    latencyChart(r),
    '<figcaption>p50, p95 and p99 of the first replies that ended in each bucket; a break in a line is a bucket in which none did. Hover a bucket for its figures.</figcaption>',
    '</figure>',
    '<figure>',
    '<h3>Active guests</h3>',
    activeChart(r),
    '<figcaption>Guests running a scenario at the end of each bucket; the dashed line is the number asked for.</figcaption>',
    '</figure>',
    '<figure>',
    '<h3>Errors</h3>',
    errorsChart(r),
    '<figcaption>Steps that failed in each bucket.</figcaption>',
    '</figure>',
    '</section>',
    '<section>',
    '<h2>Steps</h2>',
    r.steps.length === 0
      ? '<p class="key">No step ran.</p>'
      : [
          '<table class="steps"><thead>',
          '<tr class="group"><th colspan="4"></th><th class="num" colspan="4">time to the first reply, ms</th><th></th></tr>',
          '<tr><th>scenario</th><th>step</th><th class="num">runs</th><th class="num">failed</th><th class="num">median</th><th class="num">p95</th><th class="num">p99</th><th class="num">max</th><th>failures</th></tr>',
          `</thead><tbody>${stepRows(r).join('')}</tbody></table>`,
        ].join(''),
    '</section>',
    '<section>',
    '<h2>Failures by reason</h2>',
    failures.length === 0
      ? '<p class="key">No step failed.</p>'
      : `<table><thead><tr><th>reason</th><th class="num">count</th><th class="num">share</th><th>where</th></tr></thead><tbody>${failures.join('')}</tbody></table>`,
    '</section>',
    '<section>',
    '<h2>The generator</h2>',
    `<dl class="meta">${(
      [
        ['CPU', `${rate(g.cpuMsPerGuestSecond)} ms per guest-second`],
        ['peak RSS', bytes(g.peakRssBytes)],
        ['RSS per guest', bytes(g.rssBytesPerGuest)],
        ['peak active', plural(g.peakActive, 'guest')],
      ] as const
    )
      .map(([dt, dd]) => `<dt>${h(dt)}</dt><dd>${h(dd)}</dd>`)
      .join('')}</dl>`,
    '<p class="key">What this process cost, to size the machine that runs a bigger load.</p>',
    '</section>',
    `<footer>guest-relay load · ${h(plural(r.timeline.length, 'bucket'))} of ${h(bucket)} · ${h(plural(t.steps, 'step'))}</footer>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  ];
  return html.join('\n');
}
