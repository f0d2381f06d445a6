/**
 * Lambda bundles: the size of each handler bundle and the time to import it cold.
 *
 * Every file of `lambdas/` that exports a `handler` is bundled with esbuild exactly as infra/ deploys it
 * (BUNDLING from infra/bundling.ts, as infra/constructs/relay-function.ts uses it: ESM, minified, node22, `@aws-sdk/*` left to the
 * runtime), into bench/results/bundles/. Then each bundle is imported by a fresh Node process, several
 * times, with the environment a deployed function has (table names, endpoints, a token secret), and the
 * process reports how long `await import(bundle)` took: module evaluation of the bundle, of the AWS SDK
 * packages it loads from node_modules (the Lambda runtime loads the same from its own copy), and the
 * composition the handler runs at import. The median of the runs is the figure.
 *
 *   npx tsx bench/bundles.ts [--runs 7]
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { BUNDLING } from '../infra/bundling.js';
import { type Figure, formatTable, writeResults } from './support/report.js';
import { summarise } from './support/stats.js';

const SECTION = 'Lambda bundles';
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(ROOT, 'bench', 'results', 'bundles');
/** Targets from the issue. */
const MAX_BUNDLE_KB = 300;
const MAX_COLD_IMPORT_MS = 100;

/** What a deployed function's environment holds (values are placeholders on loopback; nothing is called). */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: 'eu-west-1',
  SESSIONS_TABLE: 'bench-sessions',
  TRANSCRIPT_TABLE: 'bench-transcript',
  CONNECTIONS_TABLE: 'bench-connections',
  WORKERS_TABLE: 'bench-workers',
  PUBLIC_MANAGEMENT_ENDPOINT: 'http://127.0.0.1:9/public',
  CONTROL_MANAGEMENT_ENDPOINT: 'http://127.0.0.1:9/control',
  TEAM_POLICY: '{"teams":{"*":{"deployments":[{"id":"bench-deployment"}]}}}',
  WORKER_STALE_AFTER_MS: '10000',
  ACCESS_TOKEN_SECRET: 'bench-secret-not-a-real-one-0123456789abcdef',
  ACCESS_TOKEN_AUDIENCE: 'guest-relay',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
};

export interface BundleResult {
  readonly entry: string;
  readonly bytes: number;
  /** `await import()` of the bundle in fresh processes (the AWS SDK it needs loads from node_modules). */
  readonly importMs: number[];
  /** The same for only the `@aws-sdk/*` packages it imports: what the runtime's SDK costs by itself. */
  readonly sdk: { readonly packages: string[]; readonly importMs: number[] };
}

/** The handler files: every `lambdas/*.ts` that exports `handler` (routes.ts composes, it is no entry). */
async function entries(): Promise<string[]> {
  const files = (await readdir(join(ROOT, 'lambdas'))).filter((f) => f.endsWith('.ts'));
  const withHandler: string[] = [];
  for (const file of files) {
    if (/export const handler\b/.test(await readFile(join(ROOT, 'lambdas', file), 'utf8'))) {
      withHandler.push(file);
    }
  }
  return withHandler.sort();
}

/** Bundles `lambdas/<entry>` as infra/ does; `withSdk` also bundles the AWS SDK (the alternative). */
async function bundle(entry: string, withSdk = false): Promise<string> {
  const outfile = join(OUT, entry.replace(/\.ts$/, withSdk ? '.with-sdk.mjs' : '.mjs'));
  await build({
    entryPoints: [join(ROOT, 'lambdas', entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    external: withSdk ? [] : [...BUNDLING.externalModules],
    // The SDK's ESM builds let esbuild drop what is unused.
    mainFields: ['module', 'main'],
    banner: { js: BUNDLING.banner },
    logLevel: 'error',
  });
  return outfile;
}

/** One fresh process importing `specifiers` (all at once); returns the milliseconds that took. */
function importOnce(specifiers: readonly string[]): number {
  const list = JSON.stringify(specifiers);
  const script = `const t = performance.now(); await Promise.all(${list}.map((s) => import(s))); console.log(performance.now() - t);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...LAMBDA_ENV },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const ms = Number(run.stdout.trim());
  if (run.status !== 0 || !Number.isFinite(ms)) {
    throw new Error(`importing ${list} failed: ${run.stderr.slice(0, 500)}`);
  }
  return ms;
}

/** The packages a bundle leaves to the runtime (the `@aws-sdk/*` it imports). */
async function externalsOf(file: string): Promise<string[]> {
  const code = await readFile(file, 'utf8');
  return [...new Set([...code.matchAll(/from\s*"(@aws-sdk\/[^"]+)"/g)].map((m) => m[1] as string))].sort();
}

export async function measureBundles(options: { readonly runs: number }): Promise<{
  figures: Figure[];
  bundles: BundleResult[];
}> {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  const bundles: BundleResult[] = [];
  for (const entry of await entries()) {
    const file = await bundle(entry);
    const { size } = await stat(file);
    const packages = await externalsOf(file);
    const importMs = Array.from({ length: options.runs }, () => importOnce([pathToFileURL(file).href]));
    const sdkMs =
      packages.length === 0 ? [] : Array.from({ length: options.runs }, () => importOnce(packages));
    bundles.push({ entry, bytes: size, importMs, sdk: { packages, importMs: sdkMs } });
  }
  const figures: Figure[] = [];
  for (const b of bundles) {
    figures.push({
      section: SECTION,
      measure: `${b.entry}: size`,
      value: b.bytes / 1024,
      unit: 'KB',
      target: { max: MAX_BUNDLE_KB },
    });
    const cold = summarise(b.importMs);
    figures.push({
      section: SECTION,
      measure: `${b.entry}: cold import, median`,
      value: cold.median,
      unit: 'ms',
      target: { max: MAX_COLD_IMPORT_MS },
      note: `${cold.count} fresh processes, max ${cold.max.toFixed(0)} ms`,
    });
    if (b.sdk.packages.length > 0) {
      figures.push({
        section: SECTION,
        measure: `${b.entry}: of which the AWS SDK alone, median`,
        value: summarise(b.sdk.importMs).median,
        unit: 'ms',
        note: b.sdk.packages.map((p) => p.replace('@aws-sdk/', '')).join(', '),
      });
    }
  }
  // The alternative to the runtime's SDK: bundle it too (fewer files to resolve, more bytes).
  const alternative = await bundle('send.ts', true);
  const altImport = summarise(
    Array.from({ length: options.runs }, () => importOnce([pathToFileURL(alternative).href])),
  );
  figures.push(
    {
      section: SECTION,
      measure: 'send.ts with the AWS SDK bundled in (not deployed): size',
      value: (await stat(alternative)).size / 1024,
      unit: 'KB',
    },
    {
      section: SECTION,
      measure: 'send.ts with the AWS SDK bundled in (not deployed): cold import, median',
      value: altImport.median,
      unit: 'ms',
    },
  );
  return { figures, bundles };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(runs) || runs < 1) {
    console.error('--runs takes a whole number ≥ 1');
    process.exit(2);
  }
  const { figures, bundles } = await measureBundles({ runs });
  console.log(formatTable(figures));
  console.log(`Written ${await writeResults('bundles', figures, { runs, bundles })}`);
}
