/**
 * What every relay handler needs, built from the config once per cold start: the stores and the command
 * queue on one DynamoDB client, and a ManagementClient for each API (public: answers to frontends;
 * control: the workers' doorbells). Tests and local mode build the same object with `createRelayDeps`
 * around local endpoints (local mode passes in-process request handlers: no loopback hop).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CommandQueue } from '../commands/queue.js';
import {
  createManagementSdk,
  ManagementClient,
  type ManagementSdkConfig,
} from '../gateway/management-client.js';
import type { Log } from '../logging/log.js';
import type { TeamPolicy } from '../policy/team-policy.js';
import { createDynamoClient } from '../store/client.js';
import { ConnectionStore } from '../store/connections.js';
import { QuotaStore } from '../store/quotas.js';
import { SessionStore } from '../store/sessions.js';
import { createStoreContext } from '../store/store-context.js';
import { TranscriptStore } from '../store/transcript.js';
import { WorkerStore } from '../store/workers.js';
import { type Env, loadRelayConfig, type RelayConfig } from './config.js';
import { ConnectionCache } from './connection-cache.js';

export interface RelayDeps {
  readonly sessions: SessionStore;
  /** Commands and the transcript's allocator on the session item. */
  readonly queue: CommandQueue;
  readonly transcript: TranscriptStore;
  readonly connections: ConnectionStore;
  /** Connection → session, as this container last saw it (checked against the session item). */
  readonly connectionCache: ConnectionCache;
  readonly workers: WorkerStore;
  /** Posts to frontend connections (public API). A 410 deletes the connection's row. */
  readonly publicGateway: ManagementClient;
  /** Posts to worker control connections (control API). A 410 is reported, no row is deleted. */
  readonly controlGateway: ManagementClient;
  readonly workerStaleAfterMs: number;
  /** The operator's rules per team: allowed deployments, quotas. */
  readonly teamPolicy: TeamPolicy;
  /** Open sessions, starts and upload bytes counted per team and subject. */
  readonly quotas: QuotaStore;
  readonly logger: Log;
  /** Epoch ms. */
  readonly now: () => number;
}

export interface CreateRelayDepsOptions {
  readonly logger: Log;
  readonly now?: () => number;
  /** Default: the SDK's default chain. Local engines and the emulator accept any static pair. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Pending commands per session (the queue's bound). */
  readonly maxPending?: number;
  /** The DynamoDB client to use instead of one built from the config (tests, local mode). */
  readonly dynamodb?: DynamoDBClient;
  /**
   * How the management clients reach their APIs. Default: the SDK's HTTP and SigV4; local mode hands
   * requests to the emulators in-process and stamps the signature's shape (src/aws/).
   */
  readonly managementSdk?: {
    readonly publicApi?: ManagementSdkConfig['requestHandler'];
    readonly controlApi?: ManagementSdkConfig['requestHandler'];
    readonly signer?: ManagementSdkConfig['signer'];
  };
}

export function createRelayDeps(config: RelayConfig, options: CreateRelayDepsOptions): RelayDeps {
  const now = options.now ?? Date.now;
  const client =
    options.dynamodb ??
    createDynamoClient({
      region: config.region,
      endpoint: config.dynamodbEndpoint,
      credentials: options.credentials,
    });
  const ctx = createStoreContext({ client, tables: config.tables, now });
  const connections = new ConnectionStore(ctx);
  const signer = options.managementSdk?.signer;
  const sdk = (endpoint: string, requestHandler: ManagementSdkConfig['requestHandler']) =>
    createManagementSdk({
      endpoint,
      region: config.region,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(requestHandler === undefined ? {} : { requestHandler }),
      ...(signer === undefined ? {} : { signer }),
    });
  return Object.freeze({
    sessions: new SessionStore(ctx),
    queue: new CommandQueue(ctx, options.maxPending === undefined ? {} : { maxPending: options.maxPending }),
    transcript: new TranscriptStore(ctx),
    connections,
    connectionCache: new ConnectionCache(),
    teamPolicy: config.teamPolicy,
    quotas: new QuotaStore(ctx),
    workers: new WorkerStore(ctx),
    publicGateway: new ManagementClient({
      sdk: sdk(config.publicManagementEndpoint, options.managementSdk?.publicApi),
      connections,
    }),
    // Control connections have no row in the connections table: a gone worker connection is healed by
    // the worker's next heartbeat, so nothing is deleted here.
    controlGateway: new ManagementClient({
      sdk: sdk(config.controlManagementEndpoint, options.managementSdk?.controlApi),
      connections: { delete: async () => {} },
    }),
    workerStaleAfterMs: config.workerStaleAfterMs,
    logger: options.logger,
    now,
  });
}

let cached: RelayDeps | undefined;

/** The deps of this Lambda, from `process.env`-like `env`, built on the first call (cold start) only. */
export function depsFromEnv(env: Env, logger: Log): RelayDeps {
  cached ??= createRelayDeps(loadRelayConfig(env), { logger });
  return cached;
}
