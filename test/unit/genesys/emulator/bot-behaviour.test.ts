import { describe, expect, it } from 'vitest';
import { PLAIN } from '../../../../cli/io.js';
import { main } from '../../../../cli/program.js';
import { mulberry32 } from '../../../../src/domain/seeded-random.js';
import {
  BotTurns,
  delayFirstReply,
  formatResponseTime,
  parseErrorRate,
  parseResponseTime,
  type ResponseTime,
  resolveBotBehaviour,
  responseTimeMedian,
  responseTimeP95,
  sampleResponseTime,
  validateResponseTime,
} from '../../../../src/genesys/emulator/bot-behaviour.js';
import { resolveOptions } from '../../../../src/genesys/emulator/options.js';

/** The nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

function samples(responseTime: ResponseTime, n = 10_000, seed = 20260105): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => sampleResponseTime(responseTime, random)).sort((a, b) => a - b);
}

function expectWithin(actual: number, expected: number, fraction: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * fraction);
}

describe('sampleResponseTime', () => {
  it('returns a fixed time exactly, drawing nothing', () => {
    const random = (): number => {
      throw new Error('drew');
    };
    expect(sampleResponseTime({ kind: 'fixed', ms: 150 }, random)).toBe(150);
    expect(new Set(samples({ kind: 'fixed', ms: 150 }))).toEqual(new Set([150]));
  });

  it('keeps uniform samples within bounds, with the expected median and p95 within 3 %', () => {
    const uniform: ResponseTime = { kind: 'uniform', minMs: 100, maxMs: 400 };
    const sorted = samples(uniform);
    expect(sorted[0]).toBeGreaterThanOrEqual(100);
    expect(sorted.at(-1)).toBeLessThanOrEqual(400);
    expectWithin(quantile(sorted, 0.5), responseTimeMedian(uniform), 0.03);
    expectWithin(quantile(sorted, 0.95), responseTimeP95(uniform), 0.03);
    expect(responseTimeP95(uniform)).toBe(385);
  });

  it('gives a lognormal the median and p95 it was told, within 3 %', () => {
    // A sample p95 strays about sigma × 2 % at n = 10,000 (sigma = 0.84 for 200/800), so spreads stay moderate.
    for (const lognormal of [
      { kind: 'lognormal', medianMs: 200, p95Ms: 800 },
      { kind: 'lognormal', medianMs: 1000, p95Ms: 1200 },
      { kind: 'lognormal', medianMs: 100, p95Ms: 300 },
    ] as const) {
      const sorted = samples(lognormal);
      expectWithin(quantile(sorted, 0.5), lognormal.medianMs, 0.03);
      expectWithin(quantile(sorted, 0.95), lognormal.p95Ms, 0.03);
      expect(sorted[0]).toBeGreaterThanOrEqual(0);
    }
  });

  it('is a lognormal with zero spread when p95 equals the median', () => {
    expect(new Set(samples({ kind: 'lognormal', medianMs: 300, p95Ms: 300 }, 100))).toEqual(new Set([300]));
  });

  it('repeats the same sequence for the same seed', () => {
    const lognormal: ResponseTime = { kind: 'lognormal', medianMs: 200, p95Ms: 800 };
    expect(samples(lognormal, 50, 7)).toEqual(samples(lognormal, 50, 7));
    expect(samples(lognormal, 50, 7)).not.toEqual(samples(lognormal, 50, 8));
  });
});

describe('validateResponseTime', () => {
  it('returns a valid response time frozen', () => {
    const valid = validateResponseTime({ kind: 'uniform', minMs: 0, maxMs: 0 });
    expect(valid).toEqual({ kind: 'uniform', minMs: 0, maxMs: 0 });
    expect(Object.isFrozen(valid)).toBe(true);
  });

  it.each([
    [{ kind: 'fixed', ms: -1 }, /"ms" must be a number of ms from 0/],
    [{ kind: 'fixed', ms: Number.NaN }, /"ms" must be a number/],
    [{ kind: 'fixed', ms: 600_001 }, /from 0 to 600000/],
    [{ kind: 'uniform', minMs: -5, maxMs: 10 }, /"minMs" must be/],
    [{ kind: 'uniform', minMs: 400, maxMs: 100 }, /minMs \(400\) is above maxMs \(100\)/],
    [{ kind: 'lognormal', medianMs: 800, p95Ms: 200 }, /p95Ms \(200\) is below medianMs \(800\)/],
    [{ kind: 'lognormal', medianMs: 0, p95Ms: 200 }, /medianMs must be above 0/],
    [{ kind: 'lognormal', medianMs: 100 }, /"p95Ms" must be a number/],
    [{ kind: 'normal', ms: 5 }, /"kind" must be 'fixed', 'uniform' or 'lognormal'/],
  ])('refuses %j with a RangeError', (value, message) => {
    expect(() => validateResponseTime(value)).toThrow(RangeError);
    expect(() => validateResponseTime(value)).toThrow(message);
  });

  it('refuses a non-object and an unknown key with a TypeError', () => {
    expect(() => validateResponseTime(200)).toThrow(TypeError);
    expect(() => validateResponseTime({ kind: 'fixed', ms: 1, maxMs: 2 })).toThrow(/unknown key "maxMs"/);
  });
});

describe('resolveBotBehaviour', () => {
  it('defaults to no response time, no errors and a random seed', () => {
    const resolved = resolveBotBehaviour();
    expect(resolved).toMatchObject({ responseTime: undefined, errorRate: 0 });
    expect(Number.isSafeInteger(resolved.seed)).toBe(true);
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('is the emulator option "bot", resolved with the others', () => {
    expect(resolveOptions().bot).toMatchObject({ responseTime: undefined, errorRate: 0 });
    expect(
      resolveOptions({ bot: { responseTime: { kind: 'fixed', ms: 10 }, errorRate: 0.5, seed: 3 } }).bot,
    ).toEqual({ responseTime: { kind: 'fixed', ms: 10 }, errorRate: 0.5, seed: 3 });
    expect(() => resolveOptions({ bot: { responseTime: { kind: 'fixed', ms: -1 } } })).toThrow(RangeError);
  });

  it('refuses an error rate outside [0, 1], a bad seed and unknown keys', () => {
    for (const errorRate of [-0.1, 1.01, Number.NaN]) {
      expect(() => resolveBotBehaviour({ errorRate })).toThrow(/"errorRate" must be a number from 0 to 1/);
      expect(() => resolveBotBehaviour({ errorRate })).toThrow(RangeError);
    }
    for (const seed of [-1, 1.5, 2 ** 32]) expect(() => resolveBotBehaviour({ seed })).toThrow(RangeError);
    expect(() => resolveBotBehaviour({ latency: 5 } as never)).toThrow(/unknown option "latency"/);
  });
});

describe('BotTurns', () => {
  it('answers every message at once without drawing when nothing is configured', () => {
    const turns = new BotTurns(resolveBotBehaviour({ seed: 1 }), () => {
      throw new Error('drew');
    });
    expect([turns.next(), turns.next()]).toEqual([
      { answer: true, delayMs: 0 },
      { answer: true, delayMs: 0 },
    ]);
    expect(turns.stats()).toEqual({ answered: 2, dropped: 0 });
  });

  it('drops a turn when the draw is below the error rate, and counts both', () => {
    const draws = [0.1, 0.3, 0.29];
    const turns = new BotTurns(
      resolveBotBehaviour({ errorRate: 0.3, responseTime: { kind: 'fixed', ms: 150 } }),
      () => draws.shift() ?? 0,
    );
    expect([turns.next(), turns.next(), turns.next()]).toEqual([
      { answer: false },
      { answer: true, delayMs: 150 },
      { answer: false },
    ]);
    expect(turns.stats()).toEqual({ answered: 1, dropped: 2 });
  });

  it('drops about errorRate of many turns with its seeded random', () => {
    const turns = new BotTurns(resolveBotBehaviour({ errorRate: 0.2, seed: 42 }));
    for (let i = 0; i < 10_000; i += 1) turns.next();
    const { answered, dropped } = turns.stats();
    expect(answered + dropped).toBe(10_000);
    expectWithin(dropped, 2000, 0.05);
  });
});

describe('delayFirstReply', () => {
  it('adds the response time before the first reply only, leaving the script alone', () => {
    const replies = Object.freeze([Object.freeze({ text: 'a', delayMs: 20 }), Object.freeze({ text: 'b' })]);
    expect(delayFirstReply(replies, 150)).toEqual([{ text: 'a', delayMs: 170 }, { text: 'b' }]);
    expect(delayFirstReply([{ text: 'a' }], 150)).toEqual([{ text: 'a', delayMs: 150 }]);
    expect(delayFirstReply(replies, 0)).toBe(replies);
    expect(replies[0]).toEqual({ text: 'a', delayMs: 20 });
  });
});

describe('parseResponseTime', () => {
  it.each([
    ['200ms', { kind: 'fixed', ms: 200 }],
    [' 1.5s ', { kind: 'fixed', ms: 1500 }],
    ['0ms', { kind: 'fixed', ms: 0 }],
    ['100-400ms', { kind: 'uniform', minMs: 100, maxMs: 400 }],
    ['100ms - 0.4s', { kind: 'uniform', minMs: 100, maxMs: 400 }],
    ['1-2s', { kind: 'uniform', minMs: 1000, maxMs: 2000 }],
    ['p50=200ms,p95=800ms', { kind: 'lognormal', medianMs: 200, p95Ms: 800 }],
    ['P95=1s, median=250MS', { kind: 'lognormal', medianMs: 250, p95Ms: 1000 }],
  ])('reads %j', (text, expected) => {
    expect(parseResponseTime(text)).toEqual(expected);
  });

  it.each([
    ['200', /not a time, a range/],
    ['fast', /not a time, a range/],
    ['-5ms', /not a time, a range/],
    ['400-100ms', /minMs \(400\) is above maxMs \(100\)/],
    ['p50=800ms,p95=200ms', /p95Ms \(200\) is below medianMs \(800\)/],
    ['p50=200ms', /needs both p50 and p95/],
    ['p50=200ms,p99=1s', /"p99=1s" is not p50=<time> or p95=<time>/],
    ['p50=200ms,p50=300ms', /p50 is given twice/],
    ['20m', /not a time/],
  ])('refuses %j with a RangeError naming the accepted forms', (text, reason) => {
    let thrown: unknown;
    try {
      parseResponseTime(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as Error).message).toMatch(reason);
    expect((thrown as Error).message).toContain(
      'use 200ms (fixed), 100-400ms (uniform) or p50=200ms,p95=800ms (lognormal)',
    );
  });

  it('reads back what formatResponseTime writes', () => {
    for (const responseTime of [
      { kind: 'fixed', ms: 150 },
      { kind: 'uniform', minMs: 100, maxMs: 400 },
      { kind: 'lognormal', medianMs: 200, p95Ms: 800 },
    ] as const) {
      expect(parseResponseTime(formatResponseTime(responseTime))).toEqual(responseTime);
    }
  });
});

describe('parseErrorRate', () => {
  it('reads a fraction or a percentage', () => {
    expect(parseErrorRate('0')).toBe(0);
    expect(parseErrorRate('0.05')).toBe(0.05);
    expect(parseErrorRate('5%')).toBe(0.05);
    expect(parseErrorRate('1')).toBe(1);
  });

  it('refuses anything outside [0, 1]', () => {
    for (const text of ['1.5', '-0.1', '150%', 'some', '']) {
      expect(() => parseErrorRate(text)).toThrow(/use a fraction from 0 to 1/);
    }
  });
});

describe('guest-relay emulator --bot-latency / --bot-error-rate', () => {
  function io(): { out: string[]; err: string[]; io: Parameters<typeof main>[1] } {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        out: (text) => out.push(text),
        err: (text) => err.push(text),
        color: PLAIN,
        env: {},
        interrupted: () => Promise.resolve('SIGINT'),
      },
    };
  }

  it('refuses a bad spec or fraction with exit code 2, naming the accepted forms', async () => {
    const latency = io();
    expect(await main(['emulator', '--port', '0', '--bot-latency', 'soon'], latency.io)).toBe(2);
    expect(latency.err.join('')).toMatch(/--bot-latency.*\n?.*use 200ms \(fixed\), 100-400ms \(uniform\)/);
    const rate = io();
    expect(await main(['emulator', '--port', '0', '--bot-error-rate', '2'], rate.io)).toBe(2);
    expect(rate.err.join('')).toMatch(/use a fraction from 0 to 1/);
  });

  it('starts the emulator with the bot behaviour and shows it', async () => {
    const run = io();
    const argv = [
      'emulator',
      '--port',
      '0',
      '--bot-latency',
      'p50=200ms,p95=800ms',
      '--bot-error-rate',
      '5%',
    ];
    expect(await main(argv, run.io)).toBe(0);
    expect(run.out.join('')).toContain(
      'bot behaviour     response time p50=200ms,p95=800ms, error rate 0.05',
    );
  });
});
