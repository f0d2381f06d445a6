/**
 * The one shape every benchmark part reports in, so `npm run bench` can print a single table and write
 * a single JSON file: rows of (section, measure, value, unit), optionally with the target.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface Figure {
  /** e.g. 'relay latency', 'worker capacity'. */
  readonly section: string;
  /** What was measured, with its conditions: 'guest → Genesys, median, 100 sessions'. */
  readonly measure: string;
  readonly value: number;
  /** 'ms', 'KB', 's', '%', '×', 'count', 'reconnects/s' … */
  readonly unit: string;
  /** The target, when the issue sets one: the value must be ≤ max (or ≥ min). */
  readonly target?: { readonly max?: number; readonly min?: number };
  /** Short context: the command, a ratio's denominator, why a figure is missing. */
  readonly note?: string;
}

export function meetsTarget(figure: Figure): boolean | undefined {
  const { target } = figure;
  if (target === undefined) return undefined;
  if (!Number.isFinite(figure.value)) return false;
  if (target.max !== undefined && figure.value > target.max) return false;
  if (target.min !== undefined && figure.value < target.min) return false;
  return true;
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100 || Number.isInteger(value)) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function formatTarget(figure: Figure): string {
  const { target } = figure;
  if (target === undefined) return '';
  const bound =
    target.max !== undefined ? `≤ ${formatValue(target.max)}` : `≥ ${formatValue(target.min ?? 0)}`;
  return `${bound} ${meetsTarget(figure) ? 'ok' : 'MISSED'}`;
}

/** A plain-text table: section, measure, value with unit, target and whether it is met, note. */
export function formatTable(figures: readonly Figure[]): string {
  const header = ['section', 'measure', 'value', 'target', 'note'];
  const rows = figures.map((f) => [
    f.section,
    f.measure,
    `${formatValue(f.value)} ${f.unit}`,
    formatTarget(f),
    f.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes `bench/results/<name>.json` with the figures and the run's conditions; returns the path. */
export async function writeResults(
  name: string,
  figures: readonly Figure[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const path = join(RESULTS, `${name}.json`);
  await mkdir(RESULTS, { recursive: true });
  const body = {
    node: process.version,
    measuredAt: new Date().toISOString(),
    ...extra,
    figures: figures.map((f) => ({ ...f, met: meetsTarget(f) })),
  };
  await writeFile(path, `${JSON.stringify(body, null, 2)}\n`);
  return path;
}

/**
 * Runs `main` when the module at `moduleUrl` (its `import.meta.url`) is the script node was started with,
 * not when `npm run bench` imports it; exits 0, or 1 after printing the error.
 */
export function runWhenMain(moduleUrl: string, main: () => Promise<void>): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
