/**
 * `guest-relay load` end to end: a local stack whose emulator bot was given a response-time distribution
 * and an error rate, and the load engine (and the command) against it. The figures the tool reports must
 * be what the emulator was told: that is how the tool itself is tested.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../../../cli/load/engine.js';
import type { LoadReport } from '../../../cli/load/model.js';
import { parseScenarioFile, type Scenario } from '../../../cli/scenarios/scenario.js';
import { EMBEDDED, type LocalStack, startLocalStack } from '../../../local/stack.js';
import {
  type BotBehaviour,
  type BotScript,
  type ResponseTime,
  responseTimeP95,
} from '../../../src/genesys/emulator/index.js';
import { childEnv, cliHere } from './cli-here.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** One rule, no delays and no typing: the time to the first reply is the bot's response time, plus the relay. */
const PONG: BotScript = {
  name: 'pong',
  rules: [{ match: { regex: '.' }, replies: [{ text: 'pong' }] }],
};

const PING_PONG = `
scenarios:
  "Ping three times":
    stepTimeoutSeconds: 4
    steps:
      - say: ping 1
      - waitForReplyContaining: pong
      - say: ping 2
      - waitForReplyContaining: pong
      - say: ping 3
      - waitForReplyContaining: pong
`;

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/**
 * A local stack whose bot answers with `bot`'s timing. The worker's reorder window is off: it holds every
 * Genesys push 300 ms by default (to order them), which a real reply waits too, but which is not the bot's.
 */
async function startWith(bot: BotBehaviour): Promise<{ stack: LocalStack; scenarios: Scenario[] }> {
  stack = await startLocalStack({ ...EMBEDDED, reorderWindowMs: 0, emulator: { script: PONG, bot } });
  const scenarios = parseScenarioFile('ping.yaml', PING_PONG).map((s) => ({
    ...s,
    deploymentId: (stack as LocalStack).deploymentId,
  }));
  return { stack, scenarios };
}

function load(
  running: { stack: LocalStack; scenarios: Scenario[] },
  extra: { guests: number; iterations?: number; durationMs?: number; signal?: AbortSignal },
): Promise<LoadReport> {
  const { guests, ...rest } = extra;
  return runLoad({
    scenarios: running.scenarios,
    target: { url: running.stack.wsUrl, token: running.stack.token },
    guests,
    rampPerSecond: 50,
    thinkMs: { min: 0, max: 0 },
    thresholds: { maxP95Ms: 10_000, maxErrorRate: 1 },
    settings: {
      files: ['ping.yaml'],
      target: 'test',
      guests,
      rampPerSecond: 50,
      thinkMs: { min: 0, max: 0 },
    },
    ...rest,
  });
}

const sayRows = (report: LoadReport) => report.steps.filter((s) => s.kind === 'say');

describe('guest-relay load against the emulator', () => {
  it("reports the p95 time to the first reply that the emulator's bot was told, within 10 %", async () => {
    // Long enough that the relay's own time (tens of ms at the p95 on a busy 2-core machine, with 20 guests
    // and the whole stack in this process) stays well inside the 10 %: what is compared is the bot's time.
    const told: ResponseTime = { kind: 'uniform', minMs: 1000, maxMs: 2000 };
    const running = await startWith({ responseTime: told, seed: 7 });
    const report = await load(running, { guests: 20, iterations: 2 });

    expect(report.totals).toMatchObject({
      guests: 20,
      iterations: 40,
      passed: 40,
      failed: 0,
      failedSteps: 0,
    });
    expect(report.totals.sessionsStarted).toBe(40);
    expect(report.totals.sessionsEnded).toBe(40);
    // Every guest message timed, and every one answered by the bot once.
    const samples = sayRows(report).reduce((n, row) => n + (row.firstReply?.count ?? 0), 0);
    expect(samples).toBe(120);
    expect(running.stack.emulator?.botStats()).toEqual({ answered: 120, dropped: 0 });
    const threshold = report.thresholds.find((t) => t.name === 'max-p95');
    const expected = responseTimeP95(told);
    expect(Math.abs((threshold?.actual ?? 0) - expected) / expected).toBeLessThanOrEqual(0.1);
    for (const row of sayRows(report)) {
      expect(row.firstReply?.median).toBeGreaterThanOrEqual(1000);
      expect(row.firstReply?.max).toBeLessThan(2000 * 1.5);
    }
  });

  it('reports a lost bot turn as a timeout: as many as the emulator dropped, and the error rate from them', async () => {
    const running = await startWith({ responseTime: { kind: 'fixed', ms: 20 }, errorRate: 0.2, seed: 3 });
    const report = await load(running, { guests: 20, iterations: 2 });

    const dropped = running.stack.emulator?.botStats().dropped ?? 0;
    expect(dropped).toBeGreaterThan(0);
    const timeouts = report.steps
      .flatMap((s) => s.failures)
      .filter((f) => f.reason === 'timeout')
      .reduce((n, f) => n + f.count, 0);
    // Each lost turn fails the wait that follows it, and ends that scenario.
    expect(timeouts).toBe(dropped);
    expect(report.totals.failed).toBe(dropped);
    expect(report.totals.failedSteps).toBe(dropped);
    expect(report.totals.errorRate).toBeCloseTo(dropped / report.totals.steps, 10);
    expect(report.totals.sessionsEnded).toBe(report.totals.sessionsStarted);
  });

  it('sends at most 2 messages a second per session, as Genesys allows', async () => {
    stack = await startLocalStack({ ...EMBEDDED, emulator: { script: PONG } });
    const scenarios = parseScenarioFile(
      'burst.yaml',
      'scenarios:\n  "Four at once":\n    - say: a\n    - say: b\n    - say: c\n    - say: d\n',
    ).map((s) => ({ ...s, deploymentId: (stack as LocalStack).deploymentId }));
    const report = await load({ stack, scenarios }, { guests: 1 });
    expect(report.totals.failedSteps).toBe(0);
    const [session] = stack.emulator?.sessions() ?? [];
    const inbound = (stack.emulator?.transcript(session?.token ?? '') ?? [])
      .filter((m) => m.direction === 'Inbound')
      .map((m) => Date.parse(m.channel?.time ?? ''));
    expect(inbound).toHaveLength(4);
    for (let i = 1; i < inbound.length; i++) {
      expect((inbound[i] as number) - (inbound[i - 1] as number)).toBeGreaterThanOrEqual(450);
    }
  });

  it('stops when asked (Ctrl+C): no new scenarios, the running ones cut short, every session ended', async () => {
    const running = await startWith({ responseTime: { kind: 'fixed', ms: 300 } });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 1_500);
    const report = await load(running, { guests: 10, durationMs: 60_000, signal: abort.signal });

    expect(report.stoppedBy).toBe('interrupted');
    expect(report.durationMs).toBeLessThan(15_000);
    expect(report.totals.sessionsStarted).toBeGreaterThan(0);
    expect(report.totals.sessionsEnded).toBe(report.totals.sessionsStarted);
    // A step cut short by the stop is not a failure of the system under load.
    expect(report.totals.failedSteps).toBe(0);
  });
});

describe('guest-relay load (the command)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guest-relay-load-'));
  const file = join(dir, 'menu.yaml');
  writeFileSync(
    file,
    'scenarios:\n  "Menu":\n    - say: menu\n    - waitForReplyContaining: Here is what I can do\n',
  );

  it('exits 1 when a threshold is missed, after writing the table, the HTML and the JSON', async () => {
    const html = join(dir, 'report.html');
    const json = join(dir, 'report.json');
    const result = await cliHere([
      'load',
      file,
      '--guests',
      '3',
      '--ramp',
      '10/s',
      '--think',
      '0',
      '--max-p95',
      '1',
      '--max-error-rate',
      '0',
      '--html',
      html,
      '--json',
      json,
    ]);
    expect(result.err).toContain('max-p95 missed');
    expect(result.code).toBe(1);
    expect(result.out).toContain('say: "menu"');
    const written = JSON.parse(readFileSync(json, 'utf8')) as LoadReport;
    expect(written.totals).toMatchObject({ guests: 3, sessionsStarted: 3, sessionsEnded: 3, failedSteps: 0 });
    expect(written.thresholds.map((t) => [t.name, t.passed])).toEqual([
      ['max-p95', false],
      ['max-error-rate', true],
    ]);
    const page = readFileSync(html, 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page.match(/<svg/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('runs against a running stack (--url, --token)', async () => {
    stack = await startLocalStack(EMBEDDED);
    const result = await cliHere(
      ['load', file, '--url', stack.wsUrl, '--guests', '2', '--think', '0', '--max-error-rate', '0'],
      { GUEST_RELAY_TOKEN: stack.token },
    );
    expect(result.err).not.toContain('Starting a local stack');
    expect(result.out).toMatch(/sessions\s+2 started, 2 ended/);
    expect(result.code).toBe(0);
  });

  it('on Ctrl+C (SIGINT to the process): stops, ends every session, prints the report, exits', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'cli/main.ts',
        'load',
        file,
        '--guests',
        '4',
        '--ramp',
        '20/s',
        '--duration',
        '60s',
        '--think',
        '200ms',
      ],
      { cwd: ROOT, env: childEnv() },
    );
    let output = '';
    const seen = (text: string) =>
      new Promise<void>((resolve) => {
        const check = (chunk: Buffer): void => {
          output += chunk.toString('utf8');
          if (output.includes(text)) resolve();
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
      });
    // The run has begun (its first line), and the guests are talking: then Ctrl+C.
    await seen('4 guests, 20/s');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const started = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(output).toContain('SIGINT: stopping');
    expect(output).toMatch(/stopped by\s+interrupted/);
    const sessions = /sessions\s+(\d+) started, (\d+) ended/.exec(output);
    expect(Number(sessions?.[1])).toBeGreaterThan(0);
    expect(sessions?.[2]).toBe(sessions?.[1]);
    expect(code).toBe(0);
  }, 30_000);

  it.each([
    [['--duration', '5s', '--iterations', '2'], /--duration or --iterations/],
    [['--ramp', 'fast'], /--ramp/],
    [['--think', '3-1s'], /--think/],
    [['--max-error-rate', '2'], /fraction/],
    [['--bot-latency', 'soon'], /200ms/],
  ])('refuses %j with exit 2 before anything runs', async (args, message) => {
    const result = await cliHere(['load', file, ...args]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.err).not.toContain('Starting a local stack');
  });
});
