/**
 * How fast the emulated bot answers and how often it does not: a response-time distribution and an error
 * rate, so that a load run can check what it reports against what the emulator was told. Pure parts only
 * (validation, sampling with an injected random, the distributions' own median and p95, the command-line
 * spec); BotTurns keeps one emulator's random sequence and counters. Where they apply: guest-api.ts.
 */
import { randomInt } from 'node:crypto';
import { withDefaults } from '../../domain/options.js';
import { mulberry32 } from '../../domain/seeded-random.js';
import type { Reply } from './scripts.js';

export type ResponseTime =
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  /** mu = ln(medianMs), sigma = (ln(p95Ms) − ln(medianMs)) / Z95. */
  | { readonly kind: 'lognormal'; readonly medianMs: number; readonly p95Ms: number };

/** The emulator's `bot` option. Absent (or `{}`): the bot answers every message at once, as scripted. */
export interface BotBehaviour {
  /** Waited before the first reply of each answer to a guest message. Default: none. */
  responseTime?: ResponseTime | undefined;
  /** Probability, 0–1, that the bot leaves a guest message unanswered. Default 0. */
  errorRate?: number | undefined;
  /** Seed of the bot's random choices (mulberry32), an integer 0–2^32−1. Default: random. */
  seed?: number | undefined;
}

export interface ResolvedBotBehaviour {
  readonly responseTime: ResponseTime | undefined;
  readonly errorRate: number;
  readonly seed: number;
}

/** Answers to guest messages so far: played (or playing), and left unanswered by `errorRate`. */
export interface BotStats {
  readonly answered: number;
  readonly dropped: number;
}

/** The standard normal's 95th percentile, as the lognormal's sigma is defined with it. */
export const Z95 = 1.6449;

/** The largest time a response-time parameter may name: the same bound as a reply's delayMs (10 min). */
export const MAX_RESPONSE_TIME_MS = 600_000;

const KEYS: Readonly<Record<ResponseTime['kind'], readonly string[]>> = {
  fixed: ['ms'],
  uniform: ['minMs', 'maxMs'],
  lognormal: ['medianMs', 'p95Ms'],
};

function milliseconds(kind: string, key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_RESPONSE_TIME_MS) {
    throw new RangeError(
      `Bot response time (${kind}): "${key}" must be a number of ms from 0 to ${MAX_RESPONSE_TIME_MS}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Checks a response time and returns it frozen.
 *
 * @throws TypeError for a value that is not an object or has an unknown key; RangeError for an unknown
 *   kind, a negative or too large time, minMs > maxMs, a median of 0 or a p95 below the median.
 */
export function validateResponseTime(value: unknown): ResponseTime {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`Bot response time must be an object with a "kind", got ${String(value)}`);
  }
  const record = value as Record<string, unknown>;
  const kind = record.kind;
  if (kind !== 'fixed' && kind !== 'uniform' && kind !== 'lognormal') {
    throw new RangeError(
      `Bot response time "kind" must be 'fixed', 'uniform' or 'lognormal', got ${String(kind)}`,
    );
  }
  const known = ['kind', ...KEYS[kind]];
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) {
      throw new TypeError(`Bot response time (${kind}): unknown key "${key}" (known: ${known.join(', ')})`);
    }
  }
  const [a = 0, b = 0] = KEYS[kind].map((key) => milliseconds(kind, key, record[key]));
  switch (kind) {
    case 'fixed':
      return Object.freeze({ kind, ms: a });
    case 'uniform':
      if (a > b) throw new RangeError(`Bot response time (uniform): minMs (${a}) is above maxMs (${b})`);
      return Object.freeze({ kind, minMs: a, maxMs: b });
    case 'lognormal':
      if (a <= 0) throw new RangeError('Bot response time (lognormal): medianMs must be above 0');
      if (b < a) throw new RangeError(`Bot response time (lognormal): p95Ms (${b}) is below medianMs (${a})`);
      return Object.freeze({ kind, medianMs: a, p95Ms: b });
  }
}

const BOT_DEFAULTS: {
  responseTime: ResponseTime | undefined;
  errorRate: number;
  seed: number | undefined;
} = Object.freeze({ responseTime: undefined, errorRate: 0, seed: undefined });

/**
 * The `bot` option over its defaults, validated and frozen; a missing seed is drawn at random.
 *
 * @throws TypeError for an unknown key; RangeError for an errorRate outside [0, 1], a seed that is not
 *   an integer 0–2^32−1, or a bad response time (see validateResponseTime).
 */
export function resolveBotBehaviour(options: BotBehaviour = {}): ResolvedBotBehaviour {
  const merged = withDefaults('startGenesysEmulator bot', BOT_DEFAULTS, options);
  const { errorRate, seed } = merged;
  if (typeof errorRate !== 'number' || !(errorRate >= 0 && errorRate <= 1)) {
    throw new RangeError(`Bot "errorRate" must be a number from 0 to 1, got ${String(errorRate)}`);
  }
  if (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0 && seed < 2 ** 32)) {
    throw new RangeError(`Bot "seed" must be an integer from 0 to 4294967295, got ${String(seed)}`);
  }
  return Object.freeze({
    responseTime: merged.responseTime === undefined ? undefined : validateResponseTime(merged.responseTime),
    errorRate,
    seed: seed ?? randomInt(2 ** 32),
  });
}

/**
 * One response time in whole milliseconds, drawn with `random` (uniform on [0, 1)); the lognormal uses
 * Box–Muller (two draws), the uniform one, the fixed none.
 */
export function sampleResponseTime(responseTime: ResponseTime, random: () => number): number {
  switch (responseTime.kind) {
    case 'fixed':
      return Math.round(responseTime.ms);
    case 'uniform': {
      const { minMs, maxMs } = responseTime;
      return Math.round(minMs + (maxMs - minMs) * random());
    }
    case 'lognormal': {
      const { mu, sigma } = lognormalParameters(responseTime);
      // 1 − u keeps the logarithm's argument in (0, 1].
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      return Math.round(Math.exp(mu + sigma * z));
    }
  }
}

export function lognormalParameters(responseTime: { readonly medianMs: number; readonly p95Ms: number }): {
  mu: number;
  sigma: number;
} {
  const mu = Math.log(responseTime.medianMs);
  return { mu, sigma: (Math.log(responseTime.p95Ms) - mu) / Z95 };
}

/** The distribution's own median (ms). */
export function responseTimeMedian(responseTime: ResponseTime): number {
  switch (responseTime.kind) {
    case 'fixed':
      return responseTime.ms;
    case 'uniform':
      return (responseTime.minMs + responseTime.maxMs) / 2;
    case 'lognormal':
      return responseTime.medianMs;
  }
}

/** The distribution's own 95th percentile (ms): what a load run's measured p95 should come close to. */
export function responseTimeP95(responseTime: ResponseTime): number {
  switch (responseTime.kind) {
    case 'fixed':
      return responseTime.ms;
    case 'uniform':
      return responseTime.minMs + 0.95 * (responseTime.maxMs - responseTime.minMs);
    case 'lognormal':
      return responseTime.p95Ms;
  }
}

/** One bot answer: left out (a lost turn), or played after `delayMs`. */
export type BotTurn = { readonly answer: false } | { readonly answer: true; readonly delayMs: number };

/**
 * One emulator's bot turns: decides each answer to a guest message from its own seeded random sequence
 * and counts them. Without a response time and with errorRate 0 it draws nothing and always answers at
 * once, so the default emulator behaves exactly as before.
 */
export class BotTurns {
  readonly behaviour: ResolvedBotBehaviour;
  readonly #random: () => number;
  #answered = 0;
  #dropped = 0;

  constructor(behaviour: ResolvedBotBehaviour, random: () => number = mulberry32(behaviour.seed)) {
    this.behaviour = behaviour;
    this.#random = random;
  }

  /** The next answer: dropped with probability errorRate (one draw), else its sampled response time. */
  next(): BotTurn {
    const { errorRate, responseTime } = this.behaviour;
    if (errorRate > 0 && this.#random() < errorRate) {
      this.#dropped += 1;
      return { answer: false };
    }
    this.#answered += 1;
    return { answer: true, delayMs: responseTime ? sampleResponseTime(responseTime, this.#random) : 0 };
  }

  stats(): BotStats {
    return { answered: this.#answered, dropped: this.#dropped };
  }
}

/** The answer with `delayMs` waited before its first reply (before that reply's own delay and typing). */
export function delayFirstReply(replies: readonly Reply[], delayMs: number): readonly Reply[] {
  const [first, ...rest] = replies;
  if (!first || delayMs <= 0) return replies;
  return [{ ...first, delayMs: (first.delayMs ?? 0) + delayMs }, ...rest];
}

// ---- the command-line spec ---------------------------------------------------------------------------

const FORMS = 'use 200ms (fixed), 100-400ms (uniform) or p50=200ms,p95=800ms (lognormal); units ms or s';
const NUMBER = String.raw`(\d+(?:\.\d+)?|\.\d+)`;
const DURATION = new RegExp(String.raw`^${NUMBER}\s*(ms|s)$`, 'i');
const RANGE = new RegExp(String.raw`^${NUMBER}\s*(ms|s)?\s*-\s*${NUMBER}\s*(ms|s)$`, 'i');

function toMs(value: string, unit: string): number {
  return Number(value) * (unit.toLowerCase() === 's' ? 1000 : 1);
}

function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  return match ? toMs(match[1] ?? '', match[2] ?? '') : undefined;
}

function parseShape(text: string): ResponseTime | string {
  const fixed = parseDuration(text);
  if (fixed !== undefined) return { kind: 'fixed', ms: fixed };
  const range = RANGE.exec(text);
  if (range) {
    const [, min = '', minUnit, max = '', maxUnit = ''] = range;
    return { kind: 'uniform', minMs: toMs(min, minUnit ?? maxUnit), maxMs: toMs(max, maxUnit) };
  }
  if (!text.includes('=')) return 'not a time, a range or p50=…,p95=…';
  const named = new Map<string, number>();
  for (const part of text.split(',')) {
    const [key = '', value = '', extra] = part.split('=').map((s) => s.trim().toLowerCase());
    const name = key === 'median' ? 'p50' : key;
    const ms = parseDuration(value);
    if (extra !== undefined || (name !== 'p50' && name !== 'p95') || ms === undefined) {
      return `"${part.trim()}" is not p50=<time> or p95=<time>`;
    }
    if (named.has(name)) return `${name} is given twice`;
    named.set(name, ms);
  }
  const medianMs = named.get('p50');
  const p95Ms = named.get('p95');
  if (medianMs === undefined || p95Ms === undefined) return 'a lognormal needs both p50 and p95';
  return { kind: 'lognormal', medianMs, p95Ms };
}

/**
 * A response time from its command-line spec: `200ms` (fixed), `100-400ms` (uniform; `100ms-0.4s` too)
 * or `p50=200ms,p95=800ms` (lognormal; `median=` for `p50=`, either order). Times take `ms` or `s`.
 *
 * @throws RangeError naming the accepted forms, for a spec that is malformed or out of range.
 */
export function parseResponseTime(text: string): ResponseTime {
  const shape = parseShape(text.trim());
  try {
    if (typeof shape === 'string') throw new RangeError(shape);
    return validateResponseTime(shape);
  } catch (error) {
    const reason = (error as Error).message.replace(/^Bot response time( \(\w+\))?:?\s*/, '');
    throw new RangeError(`Bad response time "${text}": ${reason}; ${FORMS}.`);
  }
}

/** The spec parseResponseTime reads back: for banners and reports. */
export function formatResponseTime(responseTime: ResponseTime): string {
  switch (responseTime.kind) {
    case 'fixed':
      return `${responseTime.ms}ms`;
    case 'uniform':
      return `${responseTime.minMs}-${responseTime.maxMs}ms`;
    case 'lognormal':
      return `p50=${responseTime.medianMs}ms,p95=${responseTime.p95Ms}ms`;
  }
}

/**
 * An error rate from the command line: a fraction `0.05` or a percentage `5%`, from 0 to 1 (100 %).
 *
 * @throws RangeError for anything else.
 */
export function parseErrorRate(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*$/.exec(text);
  const rate = match ? Number(match[1]) / (match[2] === '%' ? 100 : 1) : Number.NaN;
  if (!(rate >= 0 && rate <= 1)) {
    throw new RangeError(`Bad error rate "${text}": use a fraction from 0 to 1 (0.05) or a percentage (5%).`);
  }
  return rate;
}
