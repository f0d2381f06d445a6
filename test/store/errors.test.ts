/**
 * toStoreError against real failures: a DynamoDB client pointed at a closed port on loopback (no mock),
 * a server that resets every connection, and the shapes of the SDK's own exceptions. Unreachable means
 * STORE_UNAVAILABLE (retryable; the relay answers service_unavailable with a retry delay), never
 * STORE_FAILED (internal_error).
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/index.js';
import { mapStoreError } from '../../src/relay/access.js';
import {
  createDynamoClient,
  DYNAMODB_CONNECTION_TIMEOUT_MS,
  DYNAMODB_REQUEST_TIMEOUT_MS,
  LOCAL_ENGINE_REQUEST_TIMEOUT_MS,
  requestHandlerFor,
  requestTimeoutFor,
} from '../../src/store/client.js';
import { StoreError, toStoreError } from '../../src/store/errors.js';
import { closedPort } from '../support/closed-port.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

async function listen(onConnection: (socket: import('node:net').Socket) => void = () => {}): Promise<number> {
  const server = createServer(onConnection);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  servers.push(server);
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

function clientAt(port: number): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    // Local test credentials: nothing listens, nothing checks them.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

async function failureOf(port: number): Promise<unknown> {
  const client = clientAt(port);
  try {
    await client.send(new GetItemCommand({ TableName: 'sessions', Key: { pk: { S: 'x' } } }));
  } catch (error) {
    return error;
  } finally {
    client.destroy();
  }
  throw new Error('the request succeeded');
}

describe('toStoreError', () => {
  it('maps DynamoDB unreachable (connection refused) to STORE_UNAVAILABLE', async () => {
    const error = await failureOf(await closedPort());
    const mapped = toStoreError(error, 'session get');
    expect(mapped.code).toBe('STORE_UNAVAILABLE');
    expect(mapped.retryable).toBe(true);
    expect(mapped.cause).toBe(error);
  });

  it('maps a connection reset by DynamoDB to STORE_UNAVAILABLE', async () => {
    const port = await listen((socket) => socket.destroy());
    expect(toStoreError(await failureOf(port), 'session get').code).toBe('STORE_UNAVAILABLE');
  });

  it("gives up on a DynamoDB that accepts the connection and never answers: the service's client is bounded", async () => {
    const held: import('node:net').Socket[] = [];
    const port = await listen((socket) => held.push(socket)); // takes the request, says nothing
    const client = createDynamoClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      // AWS's bound (an endpoint alone would get the local engine's longer one).
      requestTimeoutMs: DYNAMODB_REQUEST_TIMEOUT_MS,
    });
    // Without the client's timeouts this request would wait for ever: the test's own timeout would fail it.
    const error = await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } })).then(
      () => undefined,
      (e: unknown) => e,
    );
    client.destroy();
    for (const socket of held) socket.destroy();
    expect(toStoreError(error, 'session get').code).toBe('STORE_UNAVAILABLE');
    expect((error as Error).name).toBe('TimeoutError');
  }, 20_000);

  it('bounds an attempt at 1.5 s on AWS, longer on a local engine that shares the machine', () => {
    expect(requestTimeoutFor({})).toBe(DYNAMODB_REQUEST_TIMEOUT_MS);
    expect(requestTimeoutFor({ endpoint: 'http://127.0.0.1:8000' })).toBe(LOCAL_ENGINE_REQUEST_TIMEOUT_MS);
    expect(LOCAL_ENGINE_REQUEST_TIMEOUT_MS).toBeGreaterThan(DYNAMODB_REQUEST_TIMEOUT_MS);
    expect(requestTimeoutFor({ endpoint: 'http://127.0.0.1:8000', requestTimeoutMs: 200 })).toBe(200);
  });

  it('lets many requests at once wait for a slow local engine instead of failing them in the socket queue', async () => {
    // A local engine that takes 1.2 s per answer: with the SDK's 50 sockets, the 51st request would wait
    // longer than the 1 s connection bound before it had a socket, and fail without being sent.
    const ANSWER_MS = 1_200;
    let open = 0;
    let mostAtOnce = 0;
    const server = createHttpServer((req, res) => {
      open++;
      mostAtOnce = Math.max(mostAtOnce, open);
      req.resume();
      req.on('end', () => {
        setTimeout(() => {
          open--;
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
          res.end('{}');
        }, ANSWER_MS);
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    servers.push(server);
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no port');
    const client = createDynamoClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${address.port}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const reads = Array.from({ length: 120 }, (_, i) =>
      client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: `k${i}` } } })),
    );
    const answers = await Promise.allSettled(reads);
    client.destroy();
    expect(answers.filter((a) => a.status === 'rejected')).toEqual([]);
    expect(mostAtOnce).toBe(120);
  }, 20_000);

  it('keeps the SDK socket limit and a 1 s connection bound for AWS', () => {
    expect(requestHandlerFor({})).toEqual({
      requestTimeout: DYNAMODB_REQUEST_TIMEOUT_MS,
      connectionTimeout: DYNAMODB_CONNECTION_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    });
  });

  it('becomes service_unavailable with a retry delay for the client', async () => {
    const mapped = toStoreError(await failureOf(await closedPort()), 'session get');
    const answer = mapStoreError({ action: 'history' }, mapped);
    expect(answer).toBeInstanceOf(ProtocolError);
    expect((answer as ProtocolError).toEvent()).toMatchObject({
      code: 'service_unavailable',
      retryable: true,
      retryAfterMs: 1000,
    });
  });

  it.each([
    ['ECONNREFUSED', { code: 'ECONNREFUSED' }],
    ['ECONNRESET (Node\u2019s "socket hang up")', { code: 'ECONNRESET', message: 'socket hang up' }],
    ['ETIMEDOUT', { code: 'ETIMEDOUT' }],
    ['EPIPE', { code: 'EPIPE' }],
    ['ENOTFOUND', { code: 'ENOTFOUND' }],
    ['TimeoutError', { name: 'TimeoutError' }],
    ['a request handler failure without an HTTP answer', { $metadata: { attempts: 3, totalRetryDelay: 90 } }],
    ['an HTTP 503', { name: 'UnknownError', $metadata: { httpStatusCode: 503 } }],
    ['throttling', { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }],
  ])('maps %s to STORE_UNAVAILABLE', (_, shape) => {
    expect(toStoreError(Object.assign(new Error(), shape), 'op').code).toBe('STORE_UNAVAILABLE');
  });

  it.each([
    ['a conditional check failure', { name: 'ConditionalCheckFailedException' }, 'STORE_CONFLICT'],
    [
      'a validation error',
      { name: 'ValidationException', $metadata: { httpStatusCode: 400 } },
      'STORE_INVALID_REQUEST',
    ],
    ['an unknown 4xx', { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }, 'STORE_FAILED'],
    [
      'a bug before any request (no $metadata)',
      { message: 'Number 9007199254740992 is greater than...' },
      'STORE_FAILED',
    ],
  ])('keeps %s out of STORE_UNAVAILABLE', (_, shape, code) => {
    expect(toStoreError(Object.assign(new Error(), shape), 'op').code).toBe(code);
  });

  it('passes a StoreError through', () => {
    const error = new StoreError('STORE_QUEUE_FULL', 'full');
    expect(toStoreError(error, 'op')).toBe(error);
  });
});
