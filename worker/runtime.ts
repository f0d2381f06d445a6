/**
 * Composition root of one worker: the stores on one DynamoDB client, the public API's management
 * client, the lease, the control connection, the upstream socket factory and the health endpoint.
 * `worker/main.ts` runs it as a process; local mode can run it in-process.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { WebSocket } from 'ws';
import { CommandQueue } from '../src/commands/queue.js';
import { ReconnectPacer } from '../src/domain/reconnect-pacer.js';
import { systemClock } from '../src/gateway/emulator/options.js';
import {
  createManagementSdk,
  ManagementClient,
  type ManagementSdkConfig,
} from '../src/gateway/management-client.js';
import {
  type FetchLike,
  GuestSession,
  genesysEndpoint,
  regionDomain,
  type WebSocketConstructor,
} from '../src/genesys/client/index.js';
import { ConnectionStore } from '../src/store/connections.js';
import type { SessionRecord } from '../src/store/sessions.js';
import { SessionStore } from '../src/store/sessions.js';
import { createStoreContext } from '../src/store/store-context.js';
import { TranscriptStore } from '../src/store/transcript.js';
import { TranscriptWriter } from '../src/store/transcript-writer.js';
import { WorkerStore } from '../src/store/workers.js';
import { leaseDurationMs, type WorkerConfig } from './config.js';
import { defaultCredentials, presignControlUrl } from './control-auth.js';
import { ControlLink } from './control-link.js';
import { Fanout } from './fanout.js';
import { fencedWebSocket } from './fenced-socket.js';
import { type HealthServer, startHealthServer } from './health.js';
import { Lease } from './lease.js';
import type { WorkerLog } from './log.js';
import { Worker } from './worker.js';

export interface WorkerRuntime {
  readonly worker: Worker;
  readonly health: HealthServer;
  readonly control: ControlLink;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  readonly log: WorkerLog;
  /** Local engines and the emulators accept any static pair; AWS uses the default chain. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  readonly dynamodb?: DynamoDBClient;
  /**
   * How the management client reaches the public API. Default: the SDK's HTTP and SigV4; local mode
   * hands requests to the emulator in-process and stamps the signature's shape (src/aws/).
   */
  readonly managementSdk?: Pick<ManagementSdkConfig, 'requestHandler' | 'signer'>;
}

/** The application name Genesys sees in the socket URL (reference §1). */
const APPLICATION = 'guest-relay-worker';

export async function startWorkerRuntime(
  config: WorkerConfig,
  options: RuntimeOptions,
): Promise<WorkerRuntime> {
  const { log } = options;
  const client =
    options.dynamodb ??
    new DynamoDBClient({
      region: config.region,
      ...(config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  const ctx = createStoreContext({ client, tables: config.tables, now: Date.now });
  const connections = new ConnectionStore(ctx);
  const gateway = new ManagementClient({
    sdk: createManagementSdk({
      endpoint: config.publicManagementEndpoint,
      region: config.region,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...options.managementSdk,
    }),
    connections,
  });
  // The lease ends a margin before others may call this worker stale.
  const lease = new Lease({ durationMs: leaseDurationMs(config.staleAfterMs) });

  let worker: Worker | undefined;
  const upstreamSocket = fencedWebSocket(WebSocket as unknown as WebSocketConstructor, {
    allows: () => lease.valid,
    blocked: () => {
      if (worker) worker.counters.upstreamFramesBlocked++;
    },
  });
  // One pacer for every upstream session of this worker: a crowd dropped at once comes back spread out.
  const reconnectPacer =
    config.reconnectRatePerSecond > 0
      ? new ReconnectPacer({ ratePerSecond: config.reconnectRatePerSecond, burst: config.reconnectBurst })
      : undefined;
  const openGuest = (record: SessionRecord, opts: { readonly resumeFrom?: number }): GuestSession => {
    const domain = record.region === undefined ? undefined : regionDomain(record.region);
    const endpoint =
      record.endpoint ?? (domain === undefined ? config.defaultEndpoint : genesysEndpoint({ domain }));
    if (endpoint === undefined) {
      throw new Error(`session ${record.sessionId} names no Genesys endpoint and the worker has no default`);
    }
    return new GuestSession({
      deploymentId: record.deploymentId,
      endpoint,
      token: record.guestToken,
      application: APPLICATION,
      WebSocket: upstreamSocket,
      fetch: globalThis.fetch as unknown as FetchLike,
      clock: systemClock,
      reorderWindowMs: config.reorderWindowMs,
      logger: {
        debug: (message, fields) => log.debug(message, { sessionId: record.sessionId, ...fields }),
        info: (message, fields) => log.info(message, { sessionId: record.sessionId, ...fields }),
        warn: (message, fields) => log.warn(message, { sessionId: record.sessionId, ...fields }),
        error: (message, fields) => log.error(message, { sessionId: record.sessionId, ...fields }),
      },
      ...(config.genesysOrigin === undefined ? {} : { origin: config.genesysOrigin }),
      ...(reconnectPacer === undefined ? {} : { reconnectPacer }),
      ...(opts.resumeFrom === undefined ? {} : { resumeFrom: opts.resumeFrom }),
    });
  };

  const credentials =
    config.controlAuth === 'iam'
      ? options.credentials
        ? async () => options.credentials as { accessKeyId: string; secretAccessKey: string }
        : defaultCredentials()
      : undefined;
  const control = new ControlLink({
    workerId: config.workerId,
    url: async () =>
      credentials === undefined
        ? config.controlUrl
        : presignControlUrl(config.controlUrl, { region: config.region, credentials }),
    WebSocket: WebSocket as unknown as new (url: string) => WebSocket,
    onDoorbell: (doorbell) => worker?.onDoorbell(doorbell),
    onConnection: () => worker?.onControlConnection(),
    pingIntervalMs: config.controlPingIntervalMs,
    pongTimeoutMs: 10_000,
    rotateAfterMs: config.controlRotateAfterMs,
    overlapMs: config.controlOverlapMs,
    registerTimeoutMs: 10_000,
    clock: systemClock,
    random: Math.random,
    log,
  });

  worker = new Worker(
    {
      workerId: config.workerId,
      sessions: new SessionStore(ctx),
      transcript: new TranscriptStore(ctx),
      entries: new TranscriptWriter(ctx),
      queue: new CommandQueue(ctx),
      workers: new WorkerStore(ctx),
      fanout: new Fanout({ connections, gateway, log }),
      lease,
      openGuest,
      log,
      now: Date.now,
      control,
    },
    {
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      staleAfterMs: config.staleAfterMs,
      sweepIntervalMs: config.sweepIntervalMs,
      connectionsRefreshMs: config.connectionsRefreshMs,
    },
  );
  const started = worker;
  const health = await startHealthServer({
    host: config.healthHost,
    port: config.healthPort,
    health: () => started.health(),
  });
  await started.start();
  return {
    worker: started,
    health,
    control,
    async stop() {
      await started.stop();
      await health.close();
      if (options.dynamodb === undefined) client.destroy();
    },
  };
}
