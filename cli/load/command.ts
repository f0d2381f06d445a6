/**
 * `guest-relay load <scenario files>`: many simulated guests at once, each running the scenarios of
 * `guest-relay test`, against a local stack (started for the run, with the emulator by default) or a
 * running one (`--url`, `--token`). Live progress on stderr, a table per step at the end, and optionally
 * a self-contained HTML report and JSON. Exit codes: 0 every threshold met, 1 one missed (or no step
 * ran), 2 bad input (nothing ran). docs/load.md.
 */
import { writeFileSync } from 'node:fs';
import { type BotBehaviour, parseResponseTime, type ResponseTime } from '../../src/genesys/emulator/index.js';
import { CliError, type Io } from '../io.js';
import { prepareTarget, type TestOptions } from '../scenarios/command.js';
import { runLoad } from './engine.js';
import { formatProgress, formatStepTable, renderHtml, toJson } from './report.js';

export interface LoadCommandOptions
  extends Pick<TestOptions, 'url' | 'token' | 'emulator' | 'deploymentId' | 'region' | 'origin' | 'timeout'> {
  readonly guests: number;
  /** Guests started a second. */
  readonly ramp: number;
  /** Seconds; with neither it nor `iterations`, each guest runs one scenario. */
  readonly duration?: number;
  readonly iterations?: number;
  /** Think time between steps, ms: one value or a range. */
  readonly think: { readonly min: number; readonly max: number };
  readonly maxP95?: number;
  readonly maxErrorRate?: number;
  readonly html?: string;
  readonly json?: string;
  /** The local emulator's bot (ignored with --url or real Genesys). */
  readonly bot?: BotBehaviour;
}

/** `10/s`, `10` (a second), `0.5/s`: guests started a second. */
export function parseRamp(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*s)?\s*$/.exec(text);
  const value = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isFinite(value) || value <= 0 || value > 10_000) {
    throw new RangeError('--ramp takes guests a second, from 0.1 to 10000: "10/s" or "10"');
  }
  return value;
}

const THINK_FORMS = '--think takes a time or a range up to 10 min: "0", "1s", "500ms", "1-3s", "200ms-1s"';

/**
 * `1s`, `500ms`, `1-3s`, `200ms-1s`, `0`: think time between steps, ms; read as the emulator reads a bot's
 * fixed or uniform response time (one grammar for times on the command line).
 */
export function parseThink(text: string): { min: number; max: number } {
  if (text.trim() === '0') return { min: 0, max: 0 };
  let time: ResponseTime;
  try {
    time = parseResponseTime(text);
  } catch {
    throw new RangeError(THINK_FORMS);
  }
  if (time.kind === 'fixed') return { min: time.ms, max: time.ms };
  if (time.kind === 'uniform') return { min: time.minMs, max: time.maxMs };
  throw new RangeError(THINK_FORMS);
}

/** `60s`, `5m`, `90`: seconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$/.exec(text);
  const unit = match?.[2] === 'h' ? 3600 : match?.[2] === 'm' ? 60 : 1;
  const value = match === null ? Number.NaN : Number(match[1]) * unit;
  if (!Number.isFinite(value) || value <= 0 || value > 24 * 3600) {
    throw new RangeError('--duration takes a time up to 24 h: "60s", "5m", "1h"');
  }
  return value;
}

export async function runLoadCommand(
  patterns: readonly string[],
  options: LoadCommandOptions,
  io: Io,
): Promise<void> {
  if (options.duration !== undefined && options.iterations !== undefined) {
    throw new CliError('Give --duration or --iterations, not both.', 2);
  }
  const prepared = await prepareTarget(patterns, options, io, {
    ...(options.bot === undefined ? {} : { bot: options.bot }),
  });
  const { scenarios, target } = prepared;
  try {
    const generative = scenarios.filter((s) => s.generative !== undefined);
    if (generative.length > 0) {
      throw new CliError(
        `load runs scripted scenarios only; generative ones (${generative.map((s) => s.name).join(', ')}) would spend a model's tokens per guest.`,
        2,
      );
    }
    if (options.bot !== undefined && prepared.stack?.emulator === undefined) {
      io.err(
        io.color.dim('--bot-latency and --bot-error-rate set the local emulator only: not used here.\n'),
      );
    }
    for (const notice of prepared.notices) io.err(`${notice}\n`);

    const abort = new AbortController();
    void io.interrupted().then((signal) => {
      io.err(`\n${signal}: stopping: no new scenarios, every session is being ended…\n`);
      abort.abort();
    });
    const tty = process.stderr.isTTY === true;
    let lastLine = 0;
    const where = options.url === undefined ? `local stack (this process): ${target.url}` : options.url;
    io.err(
      io.color.dim(
        `${options.guests} guests, ${options.ramp}/s, ${
          options.duration !== undefined
            ? `for ${options.duration} s`
            : `${options.iterations ?? 1} scenario${(options.iterations ?? 1) === 1 ? '' : 's'} each`
        }, think ${options.think.min === options.think.max ? `${options.think.min} ms` : `${options.think.min}-${options.think.max} ms`}, against ${where}\n`,
      ),
    );
    const report = await runLoad({
      scenarios,
      target,
      guests: options.guests,
      rampPerSecond: options.ramp,
      ...(options.duration === undefined ? {} : { durationMs: Math.round(options.duration * 1000) }),
      ...(options.iterations === undefined ? {} : { iterations: options.iterations }),
      thinkMs: options.think,
      thresholds: {
        ...(options.maxP95 === undefined ? {} : { maxP95Ms: options.maxP95 }),
        ...(options.maxErrorRate === undefined ? {} : { maxErrorRate: options.maxErrorRate }),
      },
      settings: {
        files: [...new Set(scenarios.map((s) => s.file))],
        target: where,
        guests: options.guests,
        rampPerSecond: options.ramp,
        ...(options.duration === undefined ? {} : { durationMs: Math.round(options.duration * 1000) }),
        ...(options.iterations === undefined ? {} : { iterations: options.iterations }),
        thinkMs: options.think,
      },
      signal: abort.signal,
      onProgress: (snapshot) => {
        const line = formatProgress(snapshot);
        // A terminal gets one line rewritten in place; a log gets a line every 5 s.
        if (tty) io.err(`\r\u001b[2K${line}`);
        else if (snapshot.elapsedMs - lastLine >= 5_000) {
          lastLine = snapshot.elapsedMs;
          io.err(`${line}\n`);
        }
      },
    });
    if (tty) io.err('\r\u001b[2K');
    io.out(formatStepTable(report, io.color));
    if (options.html !== undefined) {
      writeFileSync(options.html, renderHtml(report));
      io.err(io.color.dim(`HTML report: ${options.html}\n`));
    }
    if (options.json !== undefined) {
      writeFileSync(options.json, toJson(report));
      io.err(io.color.dim(`JSON report: ${options.json}\n`));
    }
    const missed = report.thresholds.filter((t) => !t.passed);
    if (missed.length > 0) {
      throw new CliError(`${missed.map((t) => t.name).join(', ')} missed (limits in the table above).`, 1);
    }
    if (report.totals.steps === 0) throw new CliError('No step ran: nothing was measured.', 1);
  } finally {
    await prepared.stack?.stop();
  }
}
