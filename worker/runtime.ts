/**
 * Composition root of one worker: the stores on one DynamoDB client, the public API's management
 * client, the lease, the control connection, the upstream socket factory and the health endpoint.
 * `worker/main.ts` runs it as a process; local mode can run it in-process.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WebSocket } from 'ws';
import { secretsManagerLoader } from '../src/auth/secrets-manager.js';
import { CommandQueue } from '../src/commands/queue.js';
import { systemClock } from '../src/domain/clock.js';
import { ReconnectPacer } from '../src/domain/reconnect-pacer.js';
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
import type { Log } from '../src/logging/log.js';
import { createDynamoClient } from '../src/store/client.js';
import { ConnectionStore } from '../src/store/connections.js';
import { QuotaStore } from '../src/store/quotas.js';
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
import { GuestTokens } from './guest-token.js';
import { type HealthServer, startHealthServer } from './health.js';
import { Lease } from './lease.js';
import { Worker } from './worker.js';

export interface WorkerRuntime {
  readonly worker: Worker;
  readonly health: HealthServer;
  readonly control: ControlLink;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  readonly log: Log;
  /** Local engines and the emulators accept any static pair; AWS uses the default chain. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  readonly dynamodb?: DynamoDBClient;
  /**
   * How the management client reaches the public API. Default: the SDK's HTTP and SigV4; local mode
   * hands requests to the emulator in-process and stamps the signature's shape (src/aws/).
   */
  readonly managementSdk?: Pick<ManagementSdkConfig, 'requestHandler' | 'signer'>;
  /** Reads GUEST_TOKEN_KEY_ARN's value (default: Secrets Manager). */
  readonly loadSecret?: (arn: string) => Promise<string>;
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
    createDynamoClient({
      region: config.region,
      endpoint: config.dynamodbEndpoint,
      credentials: options.credentials,
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
    ready: () => lease.ready(),
    held: () => {
      if (worker) worker.counters.upstreamFramesHeld++;
    },
  });
  // One pacer for every upstream session of this worker: a crowd dropped at once comes back spread out.
  const reconnectPacer =
    config.reconnectRatePerSecond > 0
      ? new ReconnectPacer({ ratePerSecond: config.reconnectRatePerSecond, burst: config.reconnectBurst })
      : undefined;
  const guestTokens = new GuestTokens(await guestTokenKey(config, options));
  const openGuest = (record: SessionRecord, opts: { readonly resumeFrom?: number }): GuestSession => {
    const domain = record.region === undefined ? undefined : regionDomain(record.region);
    if (record.region !== undefined && domain === undefined && record.endpoint === undefined) {
      // Refused before this by the team policy check; never a fallback to another endpoint.
      throw new Error(`session ${record.sessionId} names a region that is not a Genesys region`);
    }
    const endpoint =
      record.endpoint ?? (domain === undefined ? config.defaultEndpoint : genesysEndpoint({ domain }));
    if (endpoint === undefined) {
      throw new Error(`session ${record.sessionId} names no Genesys endpoint and the worker has no default`);
    }
    return new GuestSession({
      deploymentId: record.deploymentId,
      endpoint,
      token: guestTokens.tokenFor(record),
      application: APPLICATION,
      WebSocket: upstreamSocket,
      fetch: globalThis.fetch as unknown as FetchLike,
      clock: systemClock,
      reorderWindowMs: config.reorderWindowMs,
      uploadHosts: config.uploadHosts,
      logger: {
        debug: (message: string, fields?: object) =>
          log.debug(message, { sessionId: record.sessionId, ...fields }),
        info: (message: string, fields?: object) =>
          log.info(message, { sessionId: record.sessionId, ...fields }),
        warn: (message: string, fields?: object) =>
          log.warn(message, { sessionId: record.sessionId, ...fields }),
        error: (message: string, fields?: object) =>
          log.error(message, { sessionId: record.sessionId, ...fields }),
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
      refuseUpstream: (record) => upstreamRefusal(config, record),
      idleTimeoutMs: (record) => config.teamPolicy.forTeam(record.team).idleTimeoutMs,
      upstreamUnavailableAfterMs: config.upstreamUnavailableAfterMs,
      quotas: new QuotaStore(ctx),
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

/**
 * Why a stored session may not open upstream, or undefined when it may: the team policy must list its
 * deployment in its region (a session stored before the policy changed, or written by anything but the
 * relay, never reaches a host the policy refuses). A session with an explicit endpoint was written by the
 * operator's own code (tests, local tools): only its deployment is checked. A session with neither an
 * endpoint nor a region, on a worker with no default endpoint, has nowhere to go: refused too, so that its
 * frontends hear why instead of waiting in `starting` while every sweep tries again.
 */
export function upstreamRefusal(
  config: Pick<WorkerConfig, 'teamPolicy' | 'defaultEndpoint'>,
  record: Pick<SessionRecord, 'team' | 'deploymentId' | 'region' | 'endpoint'>,
): string | undefined {
  const domain = record.region === undefined ? undefined : regionDomain(record.region);
  if (record.region !== undefined && domain === undefined) {
    return `The session names region "${record.region}", which is not a known Genesys region.`;
  }
  if (record.endpoint === undefined && domain === undefined && config.defaultEndpoint === undefined) {
    // Nowhere to open it: waiting would not change that (a sweep would only try again).
    return (
      `Deployment "${record.deploymentId}" has no Genesys region and this worker has no default one: ` +
      "the relay's operator gives the deployment a region in the team policy, or the worker GENESYS_REGION " +
      '(docs/worker.md).'
    );
  }
  const rules = config.teamPolicy.forTeam(record.team);
  const allowed =
    record.endpoint === undefined
      ? config.teamPolicy.allows(record.team, record.deploymentId, domain)
      : rules.deployments.some((d) => d.id === record.deploymentId);
  return allowed
    ? undefined
    : `Deployment "${record.deploymentId}" is not allowed for team "${record.team}" by the team policy (docs/security.md).`;
}

/** The guest-token key: the configured value, or the worker-only secret read once at start. */
async function guestTokenKey(config: WorkerConfig, options: RuntimeOptions): Promise<Uint8Array> {
  const source = config.guestTokenKey;
  if (source.kind === 'value') return source.key;
  const load =
    options.loadSecret ?? secretsManagerLoader(new SecretsManagerClient({ region: config.region }));
  return new TextEncoder().encode(await load(source.arn));
}
