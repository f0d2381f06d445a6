/**
 * ManagementClient against the emulator's @connections API through the real SDK client, with the
 * connection rows in the real ConnectionStore on dynalite.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  type LambdaLike,
  startWebSocketApi,
  type WebSocketApi,
} from '../../../src/gateway/emulator/index.js';
import { GatewayError } from '../../../src/gateway/errors.js';
import { createManagementSdk, ManagementClient } from '../../../src/gateway/management-client.js';
import { ConnectionStore } from '../../../src/store/connections.js';
import { provisionTables } from '../../../src/store/provision.js';
import { createStoreContext } from '../../../src/store/store-context.js';
import { tableNames } from '../../../src/store/tables.js';
import { type Engine, startDynaliteEngine } from '../../../support/engines.js';
import { closed, nextMessage, open } from './helpers.js';

describe('ManagementClient against the emulator and dynalite', () => {
  let engine: Engine;
  let db: DynamoDBClient;
  let store: ConnectionStore;
  let api: WebSocketApi;
  const sockets: WebSocket[] = [];
  const connectIds: string[] = [];

  beforeAll(async () => {
    engine = await startDynaliteEngine();
    db = engine.client();
    const tables = tableNames('gateway-mc-');
    await provisionTables(db, tables);
    store = new ConnectionStore(createStoreContext({ client: db, tables, now: () => Date.now() }));
    // What the real $connect/$disconnect do with the store, reduced to the row.
    const $connect: LambdaLike = async (event) => {
      const { connectionId, connectedAt } = event.requestContext;
      await store.put({ connectionId, connectedAt, team: 'blue', role: 'guest' });
      connectIds.push(connectionId);
      return { statusCode: 200 };
    };
    api = await startWebSocketApi({ routes: { $connect } });
  }, 60_000);

  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await api.close();
    db.destroy();
    await engine.close();
  });

  function client(options: ConstructorParameters<typeof ManagementClient>[1] = {}): ManagementClient {
    const sdk = createManagementSdk({
      endpoint: api.managementEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    return new ManagementClient({ sdk, connections: store }, options);
  }

  async function connectOne(): Promise<{ ws: WebSocket; connectionId: string }> {
    const ws = await open(api.url);
    sockets.push(ws);
    const connectionId = connectIds.at(-1);
    if (!connectionId) throw new Error('no $connect ran');
    return { ws, connectionId };
  }

  it('posts to a live connection and leaves its row alone', async () => {
    const { ws, connectionId } = await connectOne();
    const message = nextMessage(ws);
    await expect(client().post(connectionId, '{"type":"pong"}')).resolves.toEqual({ gone: false });
    expect(await message).toBe('{"type":"pong"}');
    expect(await store.get(connectionId)).toBeDefined();
  });

  it('sends a message over 32 KB in one post', async () => {
    const { ws, connectionId } = await connectOne();
    const text = 'a'.repeat(100 * 1024);
    const message = nextMessage(ws);
    await expect(client().post(connectionId, text)).resolves.toEqual({ gone: false });
    expect(await message).toBe(text);
  });

  it('deletes the stale row and returns gone on 410 (the posted-to id, not another)', async () => {
    const { ws, connectionId } = await connectOne();
    const other = await connectOne();
    const done = closed(ws);
    ws.close();
    await done;
    await expect(client().post(connectionId, 'late')).resolves.toEqual({ gone: true });
    expect(await store.get(connectionId)).toBeUndefined();
    expect(await store.get(other.connectionId)).toBeDefined();
  });

  it('retries 429 with backoff and delivers once', async () => {
    const { ws, connectionId } = await connectOne();
    api.throttle(connectionId, 2);
    const received: string[] = [];
    ws.on('message', (data: Buffer) => received.push(data.toString()));
    await expect(client({ maxAttempts: 3 }).post(connectionId, 'after throttle')).resolves.toEqual({
      gone: false,
    });
    await expect.poll(() => received).toEqual(['after throttle']);
  });

  it('throws GATEWAY_THROTTLED when every attempt is throttled', async () => {
    const { connectionId } = await connectOne();
    api.throttle(connectionId, 5);
    const error = await client({ maxAttempts: 2 })
      .post(connectionId, 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'GATEWAY_THROTTLED', status: 429, retryable: true });
    api.throttle(connectionId, 0);
  });

  it('maps 413 to GATEWAY_PAYLOAD_TOO_LARGE', async () => {
    const { connectionId } = await connectOne();
    await expect(client().post(connectionId, 'b'.repeat(128 * 1024 + 1))).rejects.toMatchObject({
      code: 'GATEWAY_PAYLOAD_TOO_LARGE',
      status: 413,
    });
  });

  it('deletes a connection; deleting it again is gone and removes the row', async () => {
    const { ws, connectionId } = await connectOne();
    const done = closed(ws);
    await expect(client().delete(connectionId)).resolves.toEqual({ gone: false });
    expect((await done).code).toBe(1000);
    expect(await store.get(connectionId)).toBeDefined();
    await expect(client().delete(connectionId)).resolves.toEqual({ gone: true });
    expect(await store.get(connectionId)).toBeUndefined();
  });

  it('stops retrying when aborted while throttled', async () => {
    const { connectionId } = await connectOne();
    api.throttle(connectionId, 100);
    const controller = new AbortController();
    const slow = client({
      maxAttempts: 10,
      backoff: { baseMs: 5_000, capMs: 5_000, factor: 1, minUptimeMs: 0 },
    });
    const pending = slow.post(connectionId, 'x', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'GATEWAY_ABORTED' });
    api.throttle(connectionId, 0);
  });
});

describe('ManagementClient when the connection to the API fails', () => {
  it('posts again after the server drops the request without an answer (socket hang up)', async () => {
    // A server that cuts the first request's connection, as one closing an idle keep-alive socket
    // just as the client reuses it does, and answers the next.
    const bodies: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        bodies.push(body);
        if (bodies.length === 1) request.socket.destroy();
        else response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sdk = createManagementSdk({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const client = new ManagementClient({ sdk, connections: { delete: async () => {} } });
      await expect(client.post('Abc12345XYZ=', 'agent says hi')).resolves.toEqual({ gone: false });
      expect(bodies).toEqual(['agent says hi', 'agent says hi']);
    } finally {
      sdk.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
