import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WsEvent, WsFrameEvent } from '../../../lambdas/middleware/types.js';
import { wsBodyParser } from '../../../lambdas/middleware/ws-body-parser.js';
import { wsErrorHandler } from '../../../lambdas/middleware/ws-error-handler.js';
import {
  createRedactingLogger,
  REDACTED,
  redact,
  redactString,
  wsLogger,
} from '../../../lambdas/middleware/ws-logger.js';
import { wsResponse } from '../../../lambdas/middleware/ws-response.js';
import {
  ProtocolError,
  parseServerEvent,
  type SendAction,
  type ServerEvent,
} from '../../../src/protocol/index.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJ0ZWFtIjoiYWNtZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const context = {} as Context;

/**
 * A plain API Gateway event. Typed as already carrying `frame` because middy's types merge what the
 * middlewares add into the handler's input type; ws-body-parser fills it in at run time.
 */
function wsEvent(body: string | undefined, overrides: Partial<WsEvent['requestContext']> = {}): WsFrameEvent {
  return {
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
    queryStringParameters: { token: TOKEN },
    requestContext: {
      routeKey: 'send',
      messageId: 'm-1',
      eventType: 'MESSAGE',
      extendedRequestId: 'x-1',
      requestTime: '01/Jan/2025:00:00:00 +0000',
      messageDirection: 'IN',
      stage: 'test',
      connectedAt: 0,
      requestTimeEpoch: 0,
      requestId: 'req-1',
      domainName: 'localhost',
      connectionId: 'conn-1',
      apiId: 'api',
      authorizer: { principalId: 'acme/guest', team: 'acme', role: 'guest' },
      ...overrides,
    },
  } as unknown as WsFrameEvent;
}

/** Captures the JSON lines a Powertools Logger writes to stdout. */
function captureLogs() {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  const restore = () => {
    out.mockRestore();
    err.mockRestore();
  };
  return { lines, restore, parsed: () => lines.map((line) => JSON.parse(line)) };
}

function events(response: unknown): ServerEvent[] {
  const body = (response as { body?: string }).body;
  if (body === undefined) return [];
  const parsed = parseServerEvent(body);
  if (!parsed.ok) throw new Error(`not a server event: ${body}`);
  return [parsed.event];
}

function stack(handler: (event: WsFrameEvent) => unknown) {
  const logger = createRedactingLogger({ serviceName: 'test' });
  return middy<WsFrameEvent>()
    .use(wsLogger({ logger }))
    .use(wsErrorHandler({ logger }))
    .use(wsResponse({ validate: true }))
    .use(wsBodyParser({ logger }))
    .handler(handler as never);
}

afterEach(() => vi.restoreAllMocks());

describe('wsBodyParser', () => {
  it('puts the typed frame on event.frame and calls the handler', async () => {
    const seen: unknown[] = [];
    const handler = middy<WsFrameEvent>()
      .use(wsBodyParser<'send'>({ actions: ['send'] }))
      .handler(async (event) => {
        seen.push(event.frame.text);
        return { statusCode: 200 };
      });
    await handler(
      wsEvent(JSON.stringify({ action: 'send', text: 'hi' })) as WsFrameEvent<SendAction>,
      context,
    );
    expect(seen).toEqual(['hi']);
  });

  it.each([
    ['not json', 'invalid_json'],
    ['[1]', 'invalid_frame'],
    ['{"action":"fly"}', 'unknown_action'],
    ['{"action":"send","text":"hi","extra":1}', 'unknown_field'],
    [undefined, 'invalid_json'],
  ])('answers a bad frame (%s) with exactly one error event and no handler call', async (body, code) => {
    const handler = vi.fn();
    const logs = captureLogs();
    const response = await stack(handler)(wsEvent(body), context);
    logs.restore();
    expect(handler).not.toHaveBeenCalled();
    expect(response).toMatchObject({ statusCode: 200 });
    expect(events(response)).toEqual([expect.objectContaining({ type: 'error', code })]);
  });

  it('refuses an action this route does not take', async () => {
    const handler = vi.fn();
    const response = await middy<WsFrameEvent>()
      .use(wsBodyParser({ actions: ['send'] }))
      .handler(handler)(wsEvent('{"action":"ping"}') as WsFrameEvent<SendAction>, context);
    expect(handler).not.toHaveBeenCalled();
    expect(events(response)).toEqual([expect.objectContaining({ code: 'unknown_action', action: 'ping' })]);
  });

  it('rejects unknown options', () => {
    expect(() => wsBodyParser({ action: ['send'] } as never)).toThrow(/unknown option "action"/);
    expect(() => wsErrorHandler({ loger: 1 } as never)).toThrow(/unknown option "loger"/);
    expect(() => wsResponse({ validated: true } as never)).toThrow(/unknown option/);
    expect(() => wsLogger({ logger: createRedactingLogger(), extra: 1 } as never)).toThrow(/unknown option/);
    expect(() => wsLogger()).toThrow(/"logger" option is required/);
  });
});

describe('wsErrorHandler', () => {
  it('answers an exposed ProtocolError with its code, action and clientMessageId', async () => {
    const logs = captureLogs();
    const response = await stack(() => {
      throw new ProtocolError('rate_limited', 'Slow down.', { action: 'send', retryAfterMs: 250 });
    })(wsEvent(JSON.stringify({ action: 'send', text: 'hi', clientMessageId: 'c-1' })), context);
    logs.restore();
    expect(events(response)).toEqual([
      expect.objectContaining({
        type: 'error',
        code: 'rate_limited',
        message: 'Slow down.',
        retryAfterMs: 250,
      }),
    ]);
  });

  it('answers an unexpected error with internal_error and leaks nothing', async () => {
    const logs = captureLogs();
    const secretish = `connect ECONNREFUSED dynamodb.internal ?token=${TOKEN}`;
    const response = await stack(() => {
      throw new Error(secretish, { cause: new Error('root cause') });
    })(wsEvent(JSON.stringify({ action: 'send', text: 'hi', clientMessageId: 'c-2' })), context);
    logs.restore();
    const body = (response as { body: string }).body;
    expect(events(response)).toEqual([
      expect.objectContaining({
        type: 'error',
        code: 'internal_error',
        action: 'send',
        clientMessageId: 'c-2',
      }),
    ]);
    expect(body).not.toContain('ECONNREFUSED');
    expect(body).not.toContain('at ');
    expect(body).not.toContain(TOKEN);
    const logged = logs.lines.join('\n');
    expect(logged).toContain('ECONNREFUSED');
    expect(logged).toContain('root cause');
    expect(logged).not.toContain(TOKEN);
  });

  it('answers a handler that runs out of time with service_unavailable and retryAfterMs', async () => {
    const logs = captureLogs();
    // A Lambda with 40 ms left: middy gives up early (its timeoutEarlyResponse) while the handler waits.
    const shortContext = { getRemainingTimeInMillis: () => 40 } as unknown as Context;
    const response = await stack(() => new Promise((resolve) => setTimeout(resolve, 500)))(
      wsEvent(JSON.stringify({ action: 'send', text: 'hi', clientMessageId: 'c-3' })),
      shortContext,
    );
    logs.restore();
    expect(events(response)).toEqual([
      expect.objectContaining({
        type: 'error',
        code: 'service_unavailable',
        retryable: true,
        retryAfterMs: 1000,
        action: 'send',
        clientMessageId: 'c-3',
      }),
    ]);
    expect(logs.lines.join('\n')).toContain('request timed out');
  });

  it('answers a bare 500 on $connect, where no event can be sent', async () => {
    const logs = captureLogs();
    const handler = middy<WsEvent>()
      .use(wsErrorHandler({ logger: createRedactingLogger() }))
      .handler(() => {
        throw new Error('boom');
      });
    const response = await handler(
      wsEvent(undefined, { eventType: 'CONNECT', routeKey: '$connect' }),
      context,
    );
    logs.restore();
    expect(response).toEqual({ statusCode: 500 });
  });
});

describe('wsResponse', () => {
  it('serialises a returned event as the route response body', async () => {
    const logs = captureLogs();
    const pong = { type: 'pong', time: '2025-01-01T00:00:00.000Z' };
    const response = await stack(() => pong)(wsEvent('{"action":"ping"}'), context);
    logs.restore();
    expect(response).toEqual({ statusCode: 200, body: JSON.stringify(pong) });
  });

  it('turns an invalid event into internal_error when validating', async () => {
    const logs = captureLogs();
    const response = await stack(() => ({ type: 'pong' }))(wsEvent('{"action":"ping"}'), context);
    logs.restore();
    expect(events(response)).toEqual([expect.objectContaining({ code: 'internal_error', action: 'ping' })]);
  });

  it('posts all but the last of several events, in order, then answers with the last', async () => {
    const posted: string[] = [];
    const handler = middy<WsEvent>()
      .use(wsResponse({ post: async (id, data) => void posted.push(`${id}:${data}`) }))
      .handler(() => [{ type: 'pong' }, { type: 'pong', clientMessageId: 'p-2' }] as ServerEvent[]);
    const response = await handler(wsEvent('{"action":"ping"}'), context);
    expect(posted).toEqual(['conn-1:{"type":"pong"}']);
    expect(response).toEqual({ statusCode: 200, body: '{"type":"pong","clientMessageId":"p-2"}' });
  });

  it('passes a route response through and turns undefined into a bare 200', async () => {
    const passthrough = middy<WsEvent>()
      .use(wsResponse())
      .handler(() => ({ statusCode: 204 }));
    expect(await passthrough(wsEvent('{}'), context)).toEqual({ statusCode: 204 });
    const empty = middy<WsEvent>()
      .use(wsResponse())
      .handler(() => undefined);
    expect(await empty(wsEvent('{}'), context)).toEqual({ statusCode: 200 });
  });
});

describe('wsLogger and redaction', () => {
  it('logs connection keys and a summary, never the token', async () => {
    const logs = captureLogs();
    const logger = createRedactingLogger({ serviceName: 'test' });
    const handler = middy<WsFrameEvent>()
      .use(wsLogger({ logger, now: () => 1000 }))
      .use(wsBodyParser())
      .handler((event) => {
        logger.info('handling', { event, headers: { Authorization: `Bearer ${TOKEN}` } });
        return { statusCode: 200 };
      });
    await handler(wsEvent(JSON.stringify({ action: 'connect', sessionId: 's'.repeat(32) })), context);
    logs.restore();
    const all = logs.lines.join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).toContain(REDACTED);
    const summary = logs.parsed().find((line) => line.message === 'route handled');
    expect(summary).toMatchObject({
      connectionId: 'conn-1',
      routeKey: 'send',
      requestId: 'req-1',
      team: 'acme',
      statusCode: 200,
      durationMs: 0,
    });
  });

  it('redacts secret keys, JWTs, token query parameters and bearer credentials', () => {
    const input = {
      queryStringParameters: { token: 'abc', other: 'fine' },
      headers: { Authorization: 'Bearer xyz', 'Sec-WebSocket-Protocol': 'tok' },
      guestToken: 'g',
      ACCESS_TOKEN_SECRET: 's',
      nested: [{ refresh_token: 'r', url: 'wss://h/?a=1&token=abc&b=2' }],
      message: `failed with ${TOKEN}`,
      error: new Error('at wss://h/?token=abc', { cause: { secret: 'x' } }),
    };
    expect(redact(input)).toEqual({
      queryStringParameters: { token: REDACTED, other: 'fine' },
      headers: { Authorization: REDACTED, 'Sec-WebSocket-Protocol': REDACTED },
      guestToken: REDACTED,
      ACCESS_TOKEN_SECRET: REDACTED,
      nested: [{ refresh_token: REDACTED, url: `wss://h/?a=1&token=${REDACTED}&b=2` }],
      message: `failed with ${REDACTED}`,
      error: { name: 'Error', message: `at wss://h/?token=${REDACTED}`, cause: { secret: REDACTED } },
    });
    expect(redactString('Authorization: Bearer abc.def')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactString('authorization: bearer abc.def')).toBe(`authorization: bearer ${REDACTED}`);
    expect(redactString('a basic plan')).toBe('a basic plan');
  });

  it('redacts presigned URLs, secrets in quoted JSON and keys that hold keys', () => {
    expect(
      redactString(
        'PUT https://s3.invalid/up?X-Amz-Credential=AKIA%2F1&X-Amz-Security-Token=T&X-Amz-Signature=abc&x=1',
      ),
    ).toBe(
      `PUT https://s3.invalid/up?X-Amz-Credential=${REDACTED}&X-Amz-Security-Token=${REDACTED}&X-Amz-Signature=${REDACTED}&x=1`,
    );
    expect(redactString('https://h.invalid/f?Signature=s1&sig=s2')).toBe(
      `https://h.invalid/f?Signature=${REDACTED}&sig=${REDACTED}`,
    );
    expect(redactString('body {"token":"0f1e2d3c-uuid","deploymentId":"d"}')).toBe(
      `body {"token":"${REDACTED}","deploymentId":"d"}`,
    );
    expect(
      redact({ jwt: 'j', guestTokenKey: 'k', 'X-Amz-Signature': 's', url: 'https://h.invalid/a' }),
    ).toEqual({
      jwt: REDACTED,
      guestTokenKey: REDACTED,
      'X-Amz-Signature': REDACTED,
      url: 'https://h.invalid/a',
    });
  });

  it('cuts cycles', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({ a: 1, self: '[circular]' });
  });
});

describe('overlapping invocations (local mode runs many at once)', () => {
  it('name themselves on every line the middlewares write, with one shared logger', async () => {
    const logger = createRedactingLogger({ serviceName: 'test', logLevel: 'DEBUG' });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = middy<WsFrameEvent>()
      .use(wsLogger({ logger }))
      .use(wsErrorHandler({ logger }))
      .use(wsResponse())
      .use(wsBodyParser({ logger }))
      .handler(async (event) => {
        // conn-A is refused only after conn-B has come and gone.
        if (event.requestContext.connectionId === 'conn-A') {
          await gate;
          throw new ProtocolError('forbidden', 'not this one', { action: 'ping' });
        }
        return { statusCode: 200 };
      });
    const logs = captureLogs();
    const first = handler(wsEvent(JSON.stringify({ action: 'ping' }), { connectionId: 'conn-A' }), context);
    await handler(
      wsEvent(JSON.stringify({ action: 'ping' }), { connectionId: 'conn-B', requestId: 'req-B' }),
      context,
    );
    // A frame refused before any handler runs names its invocation too (its early answer ends the
    // invocation there: middy runs no `after`, so it has no summary line).
    await handler(wsEvent('not json', { connectionId: 'conn-C' }), context);
    release();
    await first;
    logs.restore();
    const lines = logs.parsed().map((line) => [line.message, line.connectionId, line.requestId]);
    expect(lines).toEqual([
      ['route handled', 'conn-B', 'req-B'],
      ['frame refused', 'conn-C', 'req-1'],
      ['request refused', 'conn-A', 'req-1'],
      ['route handled', 'conn-A', 'req-1'],
    ]);
    for (const line of logs.parsed()) expect(line).toMatchObject({ routeKey: 'send', team: 'acme' });
  });
});
