/**
 * The real SDK clients with the in-process request handlers of the embedded engines: dynalite's and the
 * gateway emulator's `@connections`. Same clients, same store code, same listeners as over HTTP; no
 * loopback hop. What breaks if these fail: local mode (which uses the handlers) stops matching the cloud.
 */
import {
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { InProcessRequestHandler } from '../../../src/aws/in-process-handler.js';
import {
  type LambdaLike,
  startWebSocketApi,
  type WebSocketApi,
} from '../../../src/gateway/emulator/index.js';
import { createManagementSdk, ManagementClient } from '../../../src/gateway/management-client.js';
import { type EmbeddedDynamo, startDynalite } from '../../../src/store/dynalite.js';
import { provisionTables } from '../../../src/store/provision.js';
import { tableNames } from '../../../src/store/tables.js';
import { closed, nextMessage, open } from './helpers.js';

const KB = 1024;
// Local engines accept any credentials; these are not secrets.
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

function dynamoClient(
  endpoint: string,
  requestHandler?: DynamoDBClientConfig['requestHandler'],
): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    ...(requestHandler ? { requestHandler } : {}),
  });
}

describe('dynalite through its in-process request handler', () => {
  const tables = tableNames('x-');
  let dynamo: EmbeddedDynamo;
  let db: DynamoDBClient;
  let doc: DynamoDBDocumentClient;

  beforeAll(async () => {
    dynamo = await startDynalite();
    db = dynamoClient(dynamo.endpoint, dynamo.requestHandler);
    doc = DynamoDBDocumentClient.from(db);
    await provisionTables(db, tables);
  });

  afterAll(async () => {
    db.destroy();
    await dynamo.close();
  });

  it('creates the tables and counts CreateTable like an HTTP request', () => {
    expect(dynamo.requests().CreateTable).toBe(4);
  });

  it('puts, refuses a conditional put, gets and queries, counting and tracing each request', async () => {
    const before = dynamo.requests();
    dynamo.trace(true);
    const item = { sessionId: 's-1', seq: 1, text: 'hello' };
    await doc.send(new PutCommand({ TableName: tables.transcript, Item: item }));
    await expect(
      doc.send(
        new PutCommand({
          TableName: tables.transcript,
          Item: { ...item, text: 'overwritten' },
          ConditionExpression: 'attribute_not_exists(seq)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await doc.send(
      new PutCommand({ TableName: tables.transcript, Item: { ...item, seq: 2, text: 'again' } }),
    );
    const got = await doc.send(
      new GetCommand({ TableName: tables.transcript, Key: { sessionId: 's-1', seq: 1 } }),
    );
    expect(got.Item).toEqual(item);
    const page = await doc.send(
      new QueryCommand({
        TableName: tables.transcript,
        KeyConditionExpression: 'sessionId = :s',
        ExpressionAttributeValues: { ':s': 's-1' },
      }),
    );
    expect(page.Items?.map((i) => i.text)).toEqual(['hello', 'again']);

    const after = dynamo.requests();
    expect((after.PutItem ?? 0) - (before.PutItem ?? 0)).toBe(3);
    expect((after.GetItem ?? 0) - (before.GetItem ?? 0)).toBe(1);
    expect((after.Query ?? 0) - (before.Query ?? 0)).toBe(1);
    const traced = dynamo.traced();
    expect(traced.map((r) => r.operation)).toEqual(['PutItem', 'PutItem', 'PutItem', 'GetItem', 'Query']);
    for (const record of traced) {
      expect(record.start).toBeLessThanOrEqual(record.end);
      // Epoch milliseconds, not a monotonic clock's.
      expect(Math.abs(record.start - Date.now())).toBeLessThan(60_000);
    }
    dynamo.trace(false);
    expect(dynamo.traced()).toEqual([]);
  });

  it('keeps nothing while tracing is off, and starts empty when switched on again', async () => {
    await doc.send(new GetCommand({ TableName: tables.transcript, Key: { sessionId: 's-1', seq: 1 } }));
    dynamo.trace(true);
    expect(dynamo.traced()).toEqual([]);
    await doc.send(new GetCommand({ TableName: tables.transcript, Key: { sessionId: 's-1', seq: 1 } }));
    expect(dynamo.traced().map((r) => r.operation)).toEqual(['GetItem']);
    dynamo.trace(false);
  });

  it('serves the same database over HTTP: a row written in-process is read over the endpoint', async () => {
    await doc.send(new PutCommand({ TableName: tables.workers, Item: { workerId: 'w-1', load: 3 } }));
    const http = DynamoDBDocumentClient.from(dynamoClient(dynamo.endpoint));
    const got = await http.send(new GetCommand({ TableName: tables.workers, Key: { workerId: 'w-1' } }));
    expect(got.Item).toEqual({ workerId: 'w-1', load: 3 });
    http.destroy();
  });

  it('rejects an aborted request with an AbortError', async () => {
    const error = await doc
      .send(new GetCommand({ TableName: tables.workers, Key: { workerId: 'w-1' } }), {
        abortSignal: AbortSignal.abort(),
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
  });
});

describe('dynalite close() with in-process requests', () => {
  it('waits for an in-process request in progress, then refuses new ones', async () => {
    const dynamo = await startDynalite();
    const setup = dynamoClient(dynamo.endpoint, dynamo.requestHandler);
    await provisionTables(setup, tableNames('x-'));
    // Closes the engine the moment dynalite has the request (the handler hands it over synchronously).
    let closing: Promise<void> | undefined;
    const closeOnArrival: InProcessRequestHandler = {
      ...dynamo.requestHandler,
      handle: (request, options) => {
        const answer = dynamo.requestHandler.handle(request, options);
        closing ??= dynamo.close();
        return answer;
      },
    };
    const db = dynamoClient(dynamo.endpoint, closeOnArrival);
    const doc = DynamoDBDocumentClient.from(db);
    await doc.send(new PutCommand({ TableName: 'x-workers', Item: { workerId: 'w-2' } }));
    await closing;
    expect(dynamo.requests().PutItem).toBe(1);
    await expect(
      doc.send(new GetCommand({ TableName: 'x-workers', Key: { workerId: 'w-2' } })),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    db.destroy();
    setup.destroy();
  });
});

describe('the gateway emulator @connections through its in-process request handler', () => {
  let api: WebSocketApi;
  const sockets: WebSocket[] = [];
  const connectIds: string[] = [];

  beforeAll(async () => {
    const $connect: LambdaLike = async (event) => {
      connectIds.push(event.requestContext.connectionId);
      return { statusCode: 200 };
    };
    api = await startWebSocketApi({ routes: { $connect } });
  });

  afterEach(() => {
    for (const ws of sockets.splice(0)) ws.terminate();
  });

  afterAll(async () => {
    await api.close();
  });

  function sdk(): ReturnType<typeof createManagementSdk> {
    return createManagementSdk({
      endpoint: api.managementEndpoint,
      region: 'us-east-1',
      credentials,
      requestHandler: api.requestHandler,
    });
  }

  async function connectOne(): Promise<{ ws: WebSocket; connectionId: string }> {
    const ws = await open(api.url, { headers: { 'User-Agent': 'in-process-test' } });
    sockets.push(ws);
    const connectionId = connectIds.at(-1);
    if (!connectionId) throw new Error('no $connect ran');
    return { ws, connectionId };
  }

  it('delivers PostToConnection to the WebSocket client, and GETs the connection', async () => {
    const { ws, connectionId } = await connectOne();
    const client = sdk();
    const message = nextMessage(ws);
    await client.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{"type":"pong"}') }),
    );
    expect(await message).toBe('{"type":"pong"}');
    const info = await client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'in-process-test' });
    client.destroy();
  });

  it('raises GoneException (410) for an unknown id', async () => {
    const client = sdk();
    const error = await client
      .send(new PostToConnectionCommand({ ConnectionId: 'Nope12345AB=', Data: Buffer.from('x') }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoneException);
    expect((error as GoneException).$metadata.httpStatusCode).toBe(410);
    client.destroy();
  });

  it('raises LimitExceededException (429) while throttled, and ManagementClient retries past it', async () => {
    const { ws, connectionId } = await connectOne();
    const client = sdk();
    api.throttle(connectionId, 1);
    await expect(
      client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('x') })),
    ).rejects.toBeInstanceOf(LimitExceededException);
    api.throttle(connectionId, 2);
    const deletedRows: string[] = [];
    const management = new ManagementClient(
      { sdk: client, connections: { delete: async (id) => void deletedRows.push(id) } },
      { random: () => 0 },
    );
    const message = nextMessage(ws);
    await expect(management.post(connectionId, 'after two 429s')).resolves.toEqual({ gone: false });
    expect(await message).toBe('after two 429s');
    expect(deletedRows).toEqual([]);
    client.destroy();
  });

  it('raises PayloadTooLargeException (413) over 128 KB and keeps the connection', async () => {
    const { connectionId } = await connectOne();
    const client = sdk();
    await expect(
      client.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.alloc(128 * KB + 1, 97) }),
      ),
    ).rejects.toBeInstanceOf(PayloadTooLargeException);
    expect(api.connections().map((c) => c.connectionId)).toContain(connectionId);
    client.destroy();
  });

  it('closes the socket on DeleteConnection; the id is then gone', async () => {
    const { ws, connectionId } = await connectOne();
    const client = sdk();
    const done = closed(ws);
    await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await done).code).toBe(1000);
    await expect(
      client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('x') })),
    ).rejects.toBeInstanceOf(GoneException);
    client.destroy();
  });

  it('rejects an aborted post with an AbortError and delivers nothing', async () => {
    const { ws, connectionId } = await connectOne();
    const client = sdk();
    const received: string[] = [];
    ws.on('message', (data: Buffer) => received.push(data.toString('utf8')));
    const error = await client
      .send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('x') }), {
        abortSignal: AbortSignal.abort(),
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
    // A post after it arrives alone: the aborted one never reached the connection.
    const next = nextMessage(ws);
    await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('y') }));
    expect(await next).toBe('y');
    expect(received).toEqual(['y']);
    client.destroy();
  });
});

describe('the gateway emulator in-process handler after close()', () => {
  it('refuses like a closed port instead of answering Gone', async () => {
    const api = await startWebSocketApi({ routes: {} });
    await api.close();
    const client = createManagementSdk({
      endpoint: api.managementEndpoint,
      region: 'us-east-1',
      credentials,
      requestHandler: api.requestHandler,
    });
    const error = await client
      .send(new PostToConnectionCommand({ ConnectionId: 'Nope12345AB=', Data: Buffer.from('x') }))
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(GoneException);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    client.destroy();
  });
});
