import {
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  type Authorizer,
  type LambdaLike,
  startWebSocketApi,
  type WebSocketApi,
  type WebSocketApiOptions,
} from '../../../src/gateway/emulator/index.js';
import { closed, EventLog, nextMessage, open, refusedStatus, sdkFor } from './helpers.js';

const KB = 1024;

function policy(
  effect: 'Allow' | 'Deny',
  context: Record<string, string | number | boolean> = {},
): APIGatewayAuthorizerResult {
  return {
    principalId: 'user-1',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: effect, Resource: 'arn:aws:execute-api:*:*:*/*/$connect' },
      ],
    },
    context,
  };
}

const apis: WebSocketApi[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(apis.splice(0).map((api) => api.close()));
});

/** An API whose every route records its events; `overrides` replace or add routes. */
async function start(
  overrides: Partial<Record<string, LambdaLike>> = {},
  options: Omit<Partial<WebSocketApiOptions>, 'routes'> = {},
): Promise<{ api: WebSocketApi; log: EventLog }> {
  const log = new EventLog();
  const recorder: LambdaLike = async (event) => {
    log.record(event);
  };
  const routes: Record<string, LambdaLike> = {
    $connect: recorder,
    $disconnect: recorder,
    $default: recorder,
    send: recorder,
  };
  for (const [key, handler] of Object.entries(overrides)) {
    if (handler) routes[key] = handler;
    else delete routes[key];
  }
  const api = await startWebSocketApi({ ...options, routes });
  apis.push(api);
  return { api, log };
}

async function connect(api: WebSocketApi, query = ''): Promise<WebSocket> {
  const ws = await open(`${api.url}${query}`, { headers: { 'User-Agent': 'gateway-test' } });
  sockets.push(ws);
  return ws;
}

describe('gateway emulator: handshake', () => {
  it('answers 403 at the handshake when the authorizer denies, and never runs $connect', async () => {
    const { api, log } = await start({}, { authorizer: async () => policy('Deny') });
    expect((await refusedStatus(api.url)).status).toBe(403);
    expect(log.events).toHaveLength(0);
  });

  it('answers 401 when the authorizer throws Unauthorized', async () => {
    const authorizer: Authorizer = async () => {
      throw new Error('Unauthorized');
    };
    const { api } = await start({}, { authorizer });
    const refused = await refusedStatus(api.url);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({ message: 'Unauthorized' });
  });

  it('answers the status a $connect handler returns when it is not 2xx, and runs no $disconnect', async () => {
    const { api, log } = await start({ $connect: async () => ({ statusCode: 429, body: 'slow down' }) });
    const refused = await refusedStatus(api.url);
    expect(refused).toEqual({ status: 429, body: 'slow down' });
    expect(log.events).toHaveLength(0);
    expect(api.connections()).toHaveLength(0);
  });

  it('answers 500 when $connect throws', async () => {
    const { api } = await start({
      $connect: async () => {
        throw new Error('boom');
      },
    });
    expect((await refusedStatus(api.url)).status).toBe(500);
  });

  it('answers a path that is not the stage with 404 naming the URL of the API, before any handler', async () => {
    const { api, log } = await start({}, { authorizer: async () => policy('Allow') });
    const root = `ws://127.0.0.1:${api.port}`;
    for (const path of ['/', '/prod', '/local-x', '/.well-known/guest-relay']) {
      const refused = await refusedStatus(`${root}${path}?token=secret-token`);
      expect(refused.status, path).toBe(404);
      const { message } = JSON.parse(refused.body) as { message: string };
      expect(message).toBe(`No such path; the API is at ${api.url}?token=<access token>`);
      expect(refused.body).not.toContain('secret-token');
    }
    expect(log.events).toHaveLength(0);
    // The stage, with or without the trailing slash, is the API.
    sockets.push(await open(`${api.url}/`));
    await log.next('$connect');
  });

  it('gives the authorizer the query string and methodArn and $connect an AWS-shaped CONNECT event', async () => {
    let seen: Parameters<Authorizer>[0] | undefined;
    const { api, log } = await start(
      {},
      {
        authorizer: async (event) => {
          seen = event;
          return policy('Allow', { team: 'blue', role: 'guest' });
        },
      },
    );
    await connect(api, '?token=abc');
    expect(seen?.queryStringParameters).toEqual({ token: 'abc' });
    expect(seen?.methodArn).toBe(`arn:aws:execute-api:us-east-1:000000000000:${api.apiId}/local/$connect`);
    const event = await log.next('$connect');
    const ctx = event.requestContext;
    expect(ctx).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      stage: 'local',
      apiId: api.apiId,
      domainName: `127.0.0.1:${api.port}`,
      messageDirection: 'IN',
      identity: { sourceIp: '127.0.0.1', userAgent: 'gateway-test' },
      authorizer: { principalId: 'user-1', team: 'blue', role: 'guest' },
    });
    expect(ctx.connectionId).toMatch(/^[A-Za-z0-9]{11}=$/);
    expect(encodeURIComponent(ctx.connectionId)).not.toBe(ctx.connectionId);
    expect(event.queryStringParameters).toEqual({ token: 'abc' });
    expect(event.headers?.['User-Agent']).toBe('gateway-test');
    expect(event.multiValueHeaders?.['User-Agent']).toEqual(['gateway-test']);
    expect(typeof ctx.requestTimeEpoch).toBe('number');
    expect(ctx.requestTime).toMatch(/^\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
  });

  it('attaches the authorizer context to later MESSAGE and DISCONNECT events', async () => {
    const { api, log } = await start({}, { authorizer: async () => policy('Allow', { team: 'blue' }) });
    const ws = await connect(api);
    const { connectionId } = (await log.next('$connect')).requestContext;
    ws.send(JSON.stringify({ action: 'send', text: 'hi' }));
    const message = await log.next('send');
    expect(message.requestContext).toMatchObject({
      eventType: 'MESSAGE',
      connectionId,
      authorizer: { principalId: 'user-1', team: 'blue' },
    });
    ws.close(4000, 'bye');
    const disconnect = await log.next('$disconnect');
    expect(disconnect.requestContext).toMatchObject({
      eventType: 'DISCONNECT',
      connectionId,
      disconnectStatusCode: 4000,
      disconnectReason: 'bye',
      authorizer: { principalId: 'user-1', team: 'blue' },
    });
  });

  it('gives handlers a Lambda-like context', async () => {
    let remaining = -1;
    let requestId = '';
    const { api } = await start({
      $connect: async (_event, context) => {
        remaining = context.getRemainingTimeInMillis();
        requestId = context.awsRequestId;
        return { statusCode: 200 };
      },
    });
    await connect(api);
    // The function's own timeout (10 s by default, as infra/ deploys it), not the integration's 29 s.
    expect(remaining).toBeGreaterThan(9_000);
    expect(remaining).toBeLessThanOrEqual(10_000);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('gateway emulator: routes', () => {
  it('selects the route on body.action, with $default for unknown actions and non-JSON', async () => {
    const { api, log } = await start();
    const ws = await connect(api);
    ws.send(JSON.stringify({ action: 'send', text: 'a' }));
    expect((await log.next('send')).body).toBe('{"action":"send","text":"a"}');
    ws.send(JSON.stringify({ action: 'nope' }));
    const unknown = await log.next('$default');
    expect(unknown.body).toBe('{"action":"nope"}');
    expect(unknown.isBase64Encoded).toBe(false);
    ws.send('not json');
    expect((await log.next('$default')).body).toBe('not json');
    ws.send(JSON.stringify({ action: { nested: true } }));
    expect((await log.next('$default')).requestContext.eventType).toBe('MESSAGE');
  });

  it('answers Forbidden with the connection and request ids when nothing matches and there is no $default', async () => {
    const { api, log } = await start({ $default: undefined });
    const ws = await connect(api);
    const { connectionId } = (await log.next('$connect')).requestContext;
    ws.send(JSON.stringify({ action: 'unknown' }));
    const frame = JSON.parse(await nextMessage(ws)) as Record<string, unknown>;
    expect(frame).toMatchObject({ message: 'Forbidden', connectionId });
    expect(typeof frame.requestId).toBe('string');
  });

  it('sends a route handler body back to the caller', async () => {
    const { api } = await start({ send: async (event) => ({ statusCode: 200, body: `echo:${event.body}` }) });
    const ws = await connect(api);
    ws.send('{"action":"send"}');
    expect(await nextMessage(ws)).toBe('echo:{"action":"send"}');
  });

  it('answers Internal server error when a route handler throws, and keeps the connection open', async () => {
    const { api } = await start({
      send: async () => {
        throw new Error('bug');
      },
    });
    const ws = await connect(api);
    ws.send('{"action":"send"}');
    expect(JSON.parse(await nextMessage(ws))).toMatchObject({ message: 'Internal server error' });
    expect(api.connections()).toHaveLength(1);
  });
});

describe('gateway emulator: limits', () => {
  it('closes with 1009 when a message of 32 KB frames exceeds 128 KB', async () => {
    const { api, log } = await start();
    const ws = await connect(api);
    const chunk = 'x'.repeat(32 * KB);
    const done = closed(ws);
    for (let i = 0; i < 5; i++) ws.send(chunk, { fin: i === 4 });
    expect((await done).code).toBe(1009);
    expect((await log.next('$disconnect')).requestContext.disconnectStatusCode).toBe(1009);
    expect(log.events.filter((e) => e.requestContext.eventType === 'MESSAGE')).toHaveLength(0);
  });

  it('accepts a 128 KB message sent as 32 KB frames', async () => {
    const { api, log } = await start();
    const ws = await connect(api);
    const chunk = 'y'.repeat(32 * KB);
    for (let i = 0; i < 4; i++) ws.send(chunk, { fin: i === 3 });
    expect((await log.next('$default')).body).toHaveLength(128 * KB);
  });

  it('closes with 1009 on a single frame over 32 KB', async () => {
    const { api } = await start();
    const ws = await connect(api);
    const done = closed(ws);
    ws.send('z'.repeat(32 * KB + 1));
    expect((await done).code).toBe(1009);
  });

  it('closes with 1003 on a binary frame', async () => {
    const { api, log } = await start();
    const ws = await connect(api);
    const done = closed(ws);
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await done).code).toBe(1003);
    expect((await log.next('$disconnect')).requestContext.disconnectStatusCode).toBe(1003);
  });

  it('closes an idle connection with 1001 Going away and runs $disconnect once', async () => {
    const { api, log } = await start({}, { limits: { idleTimeoutMs: 80 } });
    const ws = await connect(api);
    expect(await closed(ws)).toEqual({ code: 1001, reason: 'Going away' });
    expect((await log.next('$disconnect')).requestContext.disconnectStatusCode).toBe(1001);
    await api.close();
    expect(log.events.filter((e) => e.requestContext.eventType === 'DISCONNECT')).toHaveLength(0);
  });

  it('keeps a connection with traffic open past the idle timeout and closes it at the maximum duration', async () => {
    const { api } = await start({}, { limits: { idleTimeoutMs: 60, maxConnectionMs: 300 } });
    const ws = await connect(api);
    const opened = Date.now();
    const timer = setInterval(() => ws.send('{"action":"send"}'), 20);
    const result = await closed(ws);
    clearInterval(timer);
    expect(result).toEqual({ code: 1001, reason: 'Going away' });
    expect(Date.now() - opened).toBeGreaterThanOrEqual(250);
  });
});

describe('gateway emulator: @connections with the real SDK client', () => {
  it('POSTs a message to the connection, also one larger than a frame', async () => {
    const { api, log } = await start();
    const ws = await connect(api);
    const { connectionId } = (await log.next('$connect')).requestContext;
    const sdk = sdkFor(api.managementEndpoint);
    const small = nextMessage(ws);
    await sdk.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{"type":"pong"}') }),
    );
    expect(await small).toBe('{"type":"pong"}');
    const big = 'é'.repeat(50 * KB);
    const large = nextMessage(ws);
    await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(big) }));
    expect(await large).toBe(big);
    sdk.destroy();
  });

  it('GETs the connection: ConnectedAt, LastActiveAt, Identity', async () => {
    const { api, log } = await start();
    await connect(api);
    const { connectionId, connectedAt } = (await log.next('$connect')).requestContext;
    const sdk = sdkFor(api.managementEndpoint);
    const info = await sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.ConnectedAt?.getTime()).toBe(connectedAt);
    expect(info.LastActiveAt).toBeInstanceOf(Date);
    expect(info.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'gateway-test' });
    sdk.destroy();
  });

  it('DELETE closes the connection and runs $disconnect; the id is then Gone', async () => {
    const { api, log } = await start();
    const ws = await connect(api);
    const { connectionId } = (await log.next('$connect')).requestContext;
    const sdk = sdkFor(api.managementEndpoint);
    const done = closed(ws);
    await sdk.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await done).code).toBe(1000);
    expect((await log.next('$disconnect')).requestContext.connectionId).toBe(connectionId);
    await expect(
      sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('x') })),
    ).rejects.toBeInstanceOf(GoneException);
    sdk.destroy();
  });

  it('raises GoneException (410) for an unknown id', async () => {
    const { api } = await start();
    const sdk = sdkFor(api.managementEndpoint);
    const error = await sdk
      .send(new PostToConnectionCommand({ ConnectionId: 'Nope12345AB=', Data: Buffer.from('x') }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoneException);
    expect((error as GoneException).$metadata.httpStatusCode).toBe(410);
    await expect(sdk.send(new GetConnectionCommand({ ConnectionId: 'Nope12345AB=' }))).rejects.toBeInstanceOf(
      GoneException,
    );
    sdk.destroy();
  });

  it('raises PayloadTooLargeException (413) over 128 KB and keeps the connection', async () => {
    const { api, log } = await start();
    await connect(api);
    const { connectionId } = (await log.next('$connect')).requestContext;
    const sdk = sdkFor(api.managementEndpoint);
    await expect(
      sdk.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.alloc(128 * KB + 1, 97) }),
      ),
    ).rejects.toBeInstanceOf(PayloadTooLargeException);
    expect(api.connections()).toHaveLength(1);
    sdk.destroy();
  });

  it('raises LimitExceededException (429) while the throttle fault hook is armed', async () => {
    const { api, log } = await start();
    const ws = await connect(api);
    const { connectionId } = (await log.next('$connect')).requestContext;
    const sdk = sdkFor(api.managementEndpoint);
    api.throttle(connectionId, 1);
    await expect(
      sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('x') })),
    ).rejects.toBeInstanceOf(LimitExceededException);
    const next = nextMessage(ws);
    await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('y') }));
    expect(await next).toBe('y');
    sdk.destroy();
  });

  it('refuses an unsigned request with 403 and an id whose = is not encoded', async () => {
    const { api, log } = await start();
    await connect(api);
    const { connectionId } = (await log.next('$connect')).requestContext;
    const unsigned = await fetch(
      `${api.managementEndpoint}/@connections/${encodeURIComponent(connectionId)}`,
      {
        method: 'POST',
        body: 'x',
      },
    );
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
    expect(await unsigned.json()).toEqual({ message: 'Missing Authentication Token' });
    const raw = await fetch(`${api.managementEndpoint}/@connections/${connectionId}`, {
      method: 'POST',
      body: 'x',
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=local' },
    });
    expect(raw.status).toBe(403);
  });
});

describe('gateway emulator: discovery document (local mode, not an AWS feature)', () => {
  const document = { deploymentId: 'dep-1', emulatorUrl: 'http://127.0.0.1:8787' };

  it('serves the discovery option as JSON at GET /.well-known/guest-relay on the API port', async () => {
    const { api } = await start({}, { discovery: document });
    expect(api.discoveryUrl).toBe(`http://127.0.0.1:${api.port}/.well-known/guest-relay`);
    const res = await fetch(api.discoveryUrl as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual(document);
    const withQuery = await fetch(`${api.discoveryUrl}?x=1`);
    expect(await withQuery.json()).toEqual(document);
    const head = await fetch(api.discoveryUrl as string, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(api.discoveryUrl as string, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('serves nothing there without the option: the path is unknown, as on AWS', async () => {
    const { api } = await start();
    expect(api.discoveryUrl).toBeUndefined();
    const res = await fetch(`http://127.0.0.1:${api.port}/.well-known/guest-relay`);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it('refuses a discovery option that is not a JSON object', async () => {
    for (const discovery of [null, [], 'x'] as unknown[]) {
      await expect(
        startWebSocketApi({ routes: {}, discovery } as unknown as WebSocketApiOptions),
      ).rejects.toThrow(TypeError);
    }
  });
});

describe('gateway emulator: dropConnections fault hook', () => {
  it('cuts the chosen connections as a network failure: the client sees 1006, $disconnect runs with 1006', async () => {
    const { api, log } = await start();
    const kept = await open(api.url, { headers: { 'User-Agent': 'kept' } });
    const victim = await open(api.url, { headers: { 'User-Agent': 'victim' } });
    sockets.push(kept, victim);
    const victimId = api.connections().find((c) => c.userAgent === 'victim')?.connectionId;
    const done = closed(victim);
    expect(api.dropConnections((c) => c.userAgent === 'victim')).toEqual([victimId]);
    expect(await done).toEqual({ code: 1006, reason: '' });
    const disconnect = await log.next('$disconnect');
    expect(disconnect.requestContext.connectionId).toBe(victimId);
    expect(disconnect.requestContext.disconnectStatusCode).toBe(1006);
    expect(api.connections().map((c) => c.userAgent)).toEqual(['kept']);
    const sdk = sdkFor(api.managementEndpoint);
    await expect(
      sdk.send(new PostToConnectionCommand({ ConnectionId: victimId, Data: Buffer.from('x') })),
    ).rejects.toBeInstanceOf(GoneException);
    sdk.destroy();
  });

  it('drops every open connection without a filter, and nothing when none is open', async () => {
    const { api, log } = await start();
    const clients = [await connect(api), await connect(api)];
    const closes = Promise.all(clients.map(closed));
    expect(api.dropConnections()).toHaveLength(2);
    expect((await closes).map((c) => c.code)).toEqual([1006, 1006]);
    await log.next('$disconnect');
    await log.next('$disconnect');
    expect(api.connections()).toEqual([]);
    expect(api.dropConnections()).toEqual([]);
  });
});

describe('gateway emulator: close', () => {
  it('closes every connection with 1001 and waits for their $disconnect', async () => {
    const disconnects: number[] = [];
    const { api } = await start({
      $disconnect: async (event) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        disconnects.push(event.requestContext.disconnectStatusCode ?? 0);
      },
    });
    const a = await connect(api);
    const b = await connect(api);
    const closes = Promise.all([closed(a), closed(b)]);
    await api.close();
    expect(disconnects).toEqual([1001, 1001]);
    expect((await closes).map((c) => c.code)).toEqual([1001, 1001]);
  });
});
