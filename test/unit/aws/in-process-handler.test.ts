/**
 * The in-process request handler against small request listeners, called directly and through a real
 * DynamoDBClient. The engines themselves (dynalite, the gateway emulator) are in
 * test/integration/gateway/in-process.test.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { HttpRequest } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { inProcessRequestHandler, type RequestListener } from '../../../src/aws/in-process-handler.js';

function request(overrides: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 8000,
    path: '/',
    query: {},
    headers: {},
    ...overrides,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/** A listener that never answers, and tells when it got the request. */
function silent(): { listener: RequestListener; reached: Promise<ServerResponse> } {
  let reach: (res: ServerResponse) => void = () => {};
  const reached = new Promise<ServerResponse>((resolve) => {
    reach = resolve;
  });
  return { listener: (_req, res) => reach(res), reached };
}

describe('inProcessRequestHandler: the request the listener sees', () => {
  it('gives the method, the path with the query string as the SDK builds it, and lower-cased headers', async () => {
    let seen: Partial<Pick<IncomingMessage, 'method' | 'url' | 'headers' | 'rawHeaders'>> = {};
    const handler = inProcessRequestHandler((req, res) => {
      seen = { method: req.method, url: req.url, headers: { ...req.headers }, rawHeaders: req.rawHeaders };
      res.end();
    });
    await handler.handle(
      request({
        method: 'DELETE',
        path: '/local/%40connections/abc%3D',
        query: { b: ['2', '1'], a: 'x y', flag: null },
        headers: { 'X-Amz-Target': 'DynamoDB_20120810.GetItem', host: '127.0.0.1:8000' },
      }),
    );
    expect(seen).toEqual({
      method: 'DELETE',
      url: '/local/%40connections/abc%3D?a=x%20y&b=2&b=1&flag',
      headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem', host: '127.0.0.1:8000' },
      rawHeaders: ['X-Amz-Target', 'DynamoDB_20120810.GetItem', 'host', '127.0.0.1:8000'],
    });
  });

  it('streams a string body and a byte body through data and end events', async () => {
    const bodies: string[] = [];
    const handler = inProcessRequestHandler((req, res) => {
      void readBody(req).then((text) => {
        bodies.push(text);
        res.end();
      });
    });
    await handler.handle(request({ body: '{"TableName":"t"}' }));
    const bytes = new TextEncoder().encode('xxhello, bytesxx');
    await handler.handle(request({ body: bytes.subarray(2, bytes.length - 2) }));
    expect(bodies).toEqual(['{"TableName":"t"}', 'hello, bytes']);
  });

  it('reads a stream body to the end first, and rejects a body it cannot send', async () => {
    const handler = inProcessRequestHandler((req, res) => {
      void readBody(req).then((text) => res.end(text.toUpperCase()));
    });
    const { response } = await handler.handle(request({ body: Readable.from(['str', 'eam']) }));
    expect(Buffer.from(response.body).toString()).toBe('STREAM');
    await expect(handler.handle(request({ body: 42 }))).rejects.toThrow(/unsupported request body/);
  });

  it('ends an empty body once the listener resumes it', async () => {
    const handler = inProcessRequestHandler((req, res) => {
      req.on('end', () => res.end('drained'));
      req.resume();
    });
    const { response } = await handler.handle(request({ method: 'GET' }));
    expect(Buffer.from(response.body).toString()).toBe('drained');
  });
});

describe('inProcessRequestHandler: the response the SDK gets', () => {
  it('collects the status, headers set either way (lower-cased, as strings) and every written chunk', async () => {
    const handler = inProcessRequestHandler((_req, res) => {
      res.setHeader('X-Amz-Crc32', 12345);
      expect(res.getHeader('x-amz-crc32')).toBe(12345);
      res.writeHead(410, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': 'GoneException' });
      expect(res.headersSent).toBe(true);
      res.write('{"message":');
      res.end(Buffer.from('"gone"}'));
    });
    const { response } = await handler.handle(request());
    expect(response.statusCode).toBe(410);
    expect(response.reason).toBe('Gone');
    expect(response.headers).toEqual({
      'x-amz-crc32': '12345',
      'content-type': 'application/json',
      'x-amzn-errortype': 'GoneException',
    });
    expect(Buffer.from(response.body).toString()).toBe('{"message":"gone"}');
  });

  it('answers a HEAD request without a body, as HTTP does', async () => {
    const handler = inProcessRequestHandler((_req, res) => res.end('ignored'));
    const { response } = await handler.handle(request({ method: 'HEAD' }));
    expect(response.statusCode).toBe(200);
    expect(Buffer.from(response.body)).toHaveLength(0);
  });

  it('rejects like a reset connection when the listener destroys the response', async () => {
    const handler = inProcessRequestHandler((_req, res) => res.destroy());
    await expect(handler.handle(request())).rejects.toMatchObject({ code: 'ECONNRESET' });
    const refused = inProcessRequestHandler((_req, res) =>
      res.destroy(Object.assign(new Error('closed'), { code: 'ECONNREFUSED' })),
    );
    await expect(refused.handle(request())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('rejects with what the listener throws synchronously', async () => {
    const handler = inProcessRequestHandler(() => {
      throw new Error('listener bug');
    });
    await expect(handler.handle(request())).rejects.toThrow('listener bug');
  });
});

describe('inProcessRequestHandler: abort and timeout', () => {
  it('rejects with an AbortError without calling the listener when the signal is already aborted', async () => {
    let called = false;
    const handler = inProcessRequestHandler((_req, res) => {
      called = true;
      res.end();
    });
    const error = await handler
      .handle(request(), { abortSignal: AbortSignal.abort(new Error('shutting down')) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError', cause: { message: 'shutting down' } });
    expect(called).toBe(false);
  });

  it('rejects with an AbortError when aborted before the listener answers; a late answer is ignored', async () => {
    const { listener, reached } = silent();
    const handler = inProcessRequestHandler(listener);
    const controller = new AbortController();
    const pending = handler.handle(request(), { abortSignal: controller.signal });
    const res = await reached;
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(() => res.end('late')).not.toThrow();
  });

  it('rejects with a TimeoutError after requestTimeout, from the options or the call', async () => {
    const handler = inProcessRequestHandler(silent().listener, { requestTimeout: 20 });
    await expect(handler.handle(request())).rejects.toMatchObject({
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });
    const unbounded = inProcessRequestHandler(silent().listener);
    await expect(unbounded.handle(request(), { requestTimeout: 20 })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });

  it('keeps requestTimeout from updateHttpClientConfig and ignores the keys it has no use for', () => {
    const handler = inProcessRequestHandler(silent().listener);
    expect(handler.httpHandlerConfigs()).toEqual({ requestTimeout: 0 });
    handler.updateHttpClientConfig('requestTimeout', 500);
    // What the SDK core passes when a client has a logger: a symbol key (not in the type).
    (handler.updateHttpClientConfig as (key: unknown, value: unknown) => void)(Symbol.for('logger'), console);
    expect(handler.httpHandlerConfigs()).toEqual({ requestTimeout: 500 });
  });

  it('rejects an unknown option and a negative timeout', () => {
    const listener = silent().listener;
    expect(() => inProcessRequestHandler(listener, { timeout: 5 } as never)).toThrow(
      /unknown option "timeout"/,
    );
    expect(() => inProcessRequestHandler(listener, { requestTimeout: -1 })).toThrow(RangeError);
  });
});

describe('inProcessRequestHandler as a DynamoDBClient requestHandler', () => {
  /** Answers ListTables as DynamoDB does, and counts what it was asked. */
  function fakeDynamo(): { listener: RequestListener; targets: string[] } {
    const targets: string[] = [];
    const listener: RequestListener = (req, res) => {
      targets.push(String(req.headers['x-amz-target']));
      void readBody(req).then(() => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ TableNames: ['a', 'b'] }));
      });
    };
    return { listener, targets };
  }

  function client(requestHandler: ReturnType<typeof inProcessRequestHandler>): DynamoDBClient {
    return new DynamoDBClient({
      // No socket is opened: the SDK needs an endpoint to build and sign the request all the same.
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler,
    });
  }

  it('sends a command and parses the answer, with no server listening', async () => {
    const { listener, targets } = fakeDynamo();
    const db = client(inProcessRequestHandler(listener));
    await expect(db.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: ['a', 'b'] });
    expect(targets).toEqual(['DynamoDB_20120810.ListTables']);
    db.destroy();
  });

  it('keeps serving other clients after one client sharing the handler is destroyed', async () => {
    const { listener } = fakeDynamo();
    const shared = inProcessRequestHandler(listener);
    const first = client(shared);
    const second = client(shared);
    await first.send(new ListTablesCommand({}));
    first.destroy();
    await expect(second.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: ['a', 'b'] });
    second.destroy();
  });

  it('rejects an aborted command with an AbortError', async () => {
    const db = client(inProcessRequestHandler(silent().listener));
    const controller = new AbortController();
    const pending = db.send(new ListTablesCommand({}), { abortSignal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    db.destroy();
  });
});
