/**
 * Refused frames are logged as one count per window, not a line each (issue 17): RefusalTally on a
 * manual clock, and the two middlewares that feed it, with a logger that records what it is given.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { RefusalTally } from '../../../lambdas/middleware/refusal-tally.js';
import type { WsFrameEvent } from '../../../lambdas/middleware/types.js';
import { wsBodyParser } from '../../../lambdas/middleware/ws-body-parser.js';
import { wsErrorHandler } from '../../../lambdas/middleware/ws-error-handler.js';
import { ManualClock } from '../../../src/genesys/emulator/manual-clock.js';
import type { Log } from '../../../src/logging/log.js';
import { ProtocolError } from '../../../src/protocol/index.js';

interface Line {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: unknown;
}

/** A logger that keeps every line it is given. */
function capturedLogger() {
  const lines: Line[] = [];
  const at =
    (level: Line['level']) =>
    (message: unknown, fields?: unknown): void => {
      lines.push({ level, message: String(message), fields });
    };
  const logger: Log = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return {
    lines,
    logger,
    above: (level: 'warn') => lines.filter((l) => l.level === level || l.level === 'error'),
  };
}

const MINUTE = 60_000;

describe('RefusalTally', () => {
  it('writes nothing per refusal and one line per window with the count by code', () => {
    const clock = new ManualClock();
    const { lines, logger } = capturedLogger();
    const tally = new RefusalTally({ logger, clock });
    for (const code of ['invalid_json', 'not_connected', 'invalid_json']) tally.count(code);
    clock.advance(MINUTE - 1);
    expect(lines).toEqual([]);
    clock.advance(1);
    expect(lines).toEqual([
      {
        level: 'warn',
        message: '3 frames refused in 60 s (by code: invalid_json 2, not_connected 1)',
        fields: { refused: 3, byCode: { invalid_json: 2, not_connected: 1 }, seconds: 60 },
      },
    ]);
    // Quiet minutes write nothing; the next refusal starts a new window.
    clock.advance(10 * MINUTE);
    expect(lines).toHaveLength(1);
    tally.count('unknown_action');
    clock.advance(MINUTE);
    expect(lines.map((l) => l.message)).toEqual([
      '3 frames refused in 60 s (by code: invalid_json 2, not_connected 1)',
      '1 frame refused in 60 s (by code: unknown_action 1)',
    ]);
    expect(clock.pending).toBe(0);
  });

  it('writes a window that ended while no timer could run (a frozen Lambda) before counting on', () => {
    // A clock whose timers never fire, as a container frozen between invocations.
    let now = 0;
    const frozen = { now: () => now, setTimeout: () => 1, clearTimeout: () => {} };
    const { lines, logger } = capturedLogger();
    const tally = new RefusalTally({ logger, clock: frozen });
    tally.count('too_deep');
    now = 5 * MINUTE;
    tally.count('invalid_json');
    expect(lines.map((l) => l.message)).toEqual(['1 frame refused in 300 s (by code: too_deep 1)']);
    tally.flush();
    expect(lines.map((l) => l.message)).toEqual([
      '1 frame refused in 300 s (by code: too_deep 1)',
      '1 frame refused in 1 s (by code: invalid_json 1)',
    ]);
    tally.flush();
    expect(lines).toHaveLength(2);
  });

  it('requires a logger and refuses unknown options and a bad window', () => {
    expect(() => new RefusalTally()).toThrow(/"logger" option is required/);
    const { logger } = capturedLogger();
    expect(() => new RefusalTally({ logger, window: 5 } as never)).toThrow(/unknown option "window"/);
    expect(() => new RefusalTally({ logger, windowMs: 0 })).toThrow(RangeError);
  });
});

describe('refused frames through the middlewares', () => {
  const context = {} as Context;
  const event = (body: string) =>
    ({
      body,
      isBase64Encoded: false,
      requestContext: {
        routeKey: 'send',
        eventType: 'MESSAGE',
        connectionId: 'conn-1',
        requestId: 'req-1',
        authorizer: { principalId: 'p', team: 'acme', role: 'guest' },
      },
    }) as unknown as WsFrameEvent;

  function route(handler: () => unknown) {
    const clock = new ManualClock();
    const captured = capturedLogger();
    const refusals = new RefusalTally({ logger: captured.logger, clock });
    const run = middy<WsFrameEvent>()
      .use(wsErrorHandler({ logger: captured.logger, refusals }))
      .use(wsBodyParser({ logger: captured.logger, refusals }))
      .handler(handler as never);
    return { clock, captured, send: (body: string) => run(event(body), context) };
  }

  it('counts bad frames and refusals by the handler, and logs them once as a count', async () => {
    const { clock, captured, send } = route(() => {
      throw new ProtocolError('not_connected', 'Send "connect" first.', { action: 'send' });
    });
    await send('not json');
    await send('{"action":"send","text":"hi","extra":1}');
    await send('{"action":"send","text":"hi"}');
    await send('{"action":"send","text":"hi"}');
    expect(captured.above('warn')).toEqual([]);
    // Each is still there at debug, by its code only (and the invocation's keys, never the frame).
    const keys = {
      connectionId: 'conn-1',
      routeKey: 'send',
      eventType: 'MESSAGE',
      requestId: 'req-1',
      team: 'acme',
    };
    expect(captured.lines.filter((l) => l.level === 'debug').map((l) => l.fields)).toEqual([
      { ...keys, code: 'invalid_json', action: null },
      { ...keys, code: 'unknown_field', action: 'send' },
      { ...keys, code: 'not_connected', action: 'send' },
      { ...keys, code: 'not_connected', action: 'send' },
    ]);
    clock.advance(MINUTE);
    expect(captured.above('warn').map((l) => l.message)).toEqual([
      '4 frames refused in 60 s (by code: invalid_json 1, not_connected 2, unknown_field 1)',
    ]);
  });

  it('still logs our own failures one by one: a bug, and the store being unavailable', async () => {
    let thrown: unknown = new Error('a bug');
    const { clock, captured, send } = route(() => {
      throw thrown;
    });
    await send('{"action":"send","text":"hi"}');
    thrown = new ProtocolError('service_unavailable', 'The store is busy.', { retryAfterMs: 1000 });
    await send('{"action":"send","text":"hi"}');
    expect(captured.above('warn').map((l) => [l.level, l.message])).toEqual([
      ['error', 'request failed'],
      ['warn', 'request refused'],
    ]);
    clock.advance(MINUTE);
    expect(captured.above('warn')).toHaveLength(2);
  });
});
