/**
 * The control connection against the gateway emulator with the real control handlers: it registers,
 * rotates before the gateway's maximum connection duration without ever being without a connection,
 * and every doorbell posted to the id the worker last registered arrives, across rotations.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createControlHandlers } from '../../../src/control/index.js';
import { systemClock } from '../../../src/domain/clock.js';
import { startWebSocketApi, type WebSocketApi } from '../../../src/gateway/emulator/index.js';
import { createManagementSdk, ManagementClient } from '../../../src/gateway/management-client.js';
import { silentLog } from '../../../src/logging/log.js';
import { ControlLink, type Doorbell } from '../../../worker/control-link.js';
import { sleep, waitUntil } from './harness.js';

describe('control connection', () => {
  let api: WebSocketApi | undefined;
  let link: ControlLink | undefined;
  afterEach(async () => {
    link?.stop();
    await api?.close();
  });

  it('rotates before the gateway closes it and loses no doorbell rung at the registered id', async () => {
    api = await startWebSocketApi({
      routes: createControlHandlers(),
      // Without rotation every connection would be cut after 1.2 s.
      limits: { maxConnectionMs: 1_200 },
    });
    const ids: (string | undefined)[] = [];
    const received: Doorbell[] = [];
    link = new ControlLink({
      workerId: 'w-rotating',
      url: async () => (api as WebSocketApi).url,
      WebSocket,
      onDoorbell: (doorbell) => received.push(doorbell),
      onConnection: (id) => ids.push(id),
      pingIntervalMs: 150,
      pongTimeoutMs: 1_000,
      rotateAfterMs: 600,
      overlapMs: 150,
      registerTimeoutMs: 2_000,
      clock: systemClock,
      random: Math.random,
      log: silentLog,
    });
    link.start();
    await waitUntil(() => link?.connectionId !== undefined, 5_000, 'registered');
    const gateway = new ManagementClient({
      sdk: createManagementSdk({
        endpoint: api.managementEndpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      connections: { delete: async () => {} },
    });
    // Like the Lambdas: ring the id the worker registered last, and count what the gateway accepted.
    const accepted: string[] = [];
    const until = Date.now() + 3_000;
    for (let n = 0; Date.now() < until; n++) {
      const id = link.connectionId;
      if (id !== undefined) {
        const sessionId = `s-${n}`;
        const result = await gateway.post(
          id,
          JSON.stringify({ type: 'doorbell', sessionId, reason: 'command' }),
        );
        if (!result.gone) accepted.push(sessionId);
      }
      await sleep(10);
    }
    await sleep(200);
    expect(link.stats.rotations).toBeGreaterThanOrEqual(3);
    // Never without a connection: every change named a new id, none was "no connection".
    expect(ids.every((id) => id !== undefined)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(accepted.length).toBeGreaterThan(100);
    const got = new Set(received.map((d) => d.sessionId));
    expect(accepted.filter((id) => !got.has(id))).toEqual([]);
  }, 20_000);

  it('reconnects with backoff after the connection is cut, and reports the gap', async () => {
    api = await startWebSocketApi({
      routes: createControlHandlers(),
    });
    const ids: (string | undefined)[] = [];
    link = new ControlLink({
      workerId: 'w-cut',
      url: async () => (api as WebSocketApi).url,
      WebSocket,
      onDoorbell: () => {},
      onConnection: (id) => ids.push(id),
      pingIntervalMs: 10_000,
      pongTimeoutMs: 1_000,
      rotateAfterMs: 60_000,
      overlapMs: 100,
      registerTimeoutMs: 2_000,
      clock: systemClock,
      random: Math.random,
      log: silentLog,
    });
    link.start();
    await waitUntil(() => link?.connectionId !== undefined, 5_000, 'registered');
    const first = link.connectionId;
    link.drop();
    await waitUntil(() => link?.connectionId !== undefined && link.connectionId !== first, 5_000, 'back');
    expect(ids).toEqual([first, undefined, link.connectionId]);
  }, 20_000);
});
