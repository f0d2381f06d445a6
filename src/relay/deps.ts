/**
 * What every relay handler needs, built from the config once per cold start: the stores on one
 * DynamoDB client, and a ManagementClient for each API (public: answers to frontends; control: the
 * workers' doorbells). Tests build the same object with `createRelayDeps` around local endpoints.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createManagementSdk, ManagementClient } from '../gateway/management-client.js';
import { ConnectionStore } from '../store/connections.js';
import { SessionStore } from '../store/sessions.js';
import { createStoreContext } from '../store/store-context.js';
import { TranscriptStore } from '../store/transcript.js';
import { WorkerStore } from '../store/workers.js';
import { type Env, loadRelayConfig, type RelayConfig } from './config.js';

/** The log methods the relay uses (a Powertools Logger built with createRedactingLogger fits). */
export interface RelayLog {
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

export interface RelayDeps {
  readonly sessions: SessionStore;
  readonly transcript: TranscriptStore;
  readonly connections: ConnectionStore;
  readonly workers: WorkerStore;
  /** Posts to frontend connections (public API). A 410 deletes the connection's row. */
  readonly publicGateway: ManagementClient;
  /** Posts to worker control connections (control API). A 410 is reported, no row is deleted. */
  readonly controlGateway: ManagementClient;
  readonly defaultDeploymentId: string;
  readonly workerStaleAfterMs: number;
  /** Pending commands per session (SessionStore's bound); checked before anything is written. */
  readonly maxPending: number;
  readonly logger: RelayLog;
  /** Epoch ms. */
  readonly now: () => number;
}

export interface CreateRelayDepsOptions {
  readonly logger: RelayLog;
  readonly now?: () => number;
  /** Default: the SDK's default chain. Local engines and the emulator accept any static pair. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  readonly maxPending?: number;
  /** The DynamoDB client to use instead of one built from the config (tests, local mode). */
  readonly dynamodb?: DynamoDBClient;
}

export const DEFAULT_MAX_PENDING = 100;

export function createRelayDeps(config: RelayConfig, options: CreateRelayDepsOptions): RelayDeps {
  const now = options.now ?? Date.now;
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  const client =
    options.dynamodb ??
    new DynamoDBClient({
      region: config.region,
      ...(config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  const ctx = createStoreContext({ client, tables: config.tables, now });
  const connections = new ConnectionStore(ctx);
  const sdk = (endpoint: string) =>
    createManagementSdk({
      endpoint,
      region: config.region,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  return Object.freeze({
    sessions: new SessionStore(ctx, { maxPending }),
    transcript: new TranscriptStore(ctx),
    connections,
    workers: new WorkerStore(ctx),
    publicGateway: new ManagementClient({ sdk: sdk(config.publicManagementEndpoint), connections }),
    // Control connections have no row in the connections table: a gone worker connection is healed by
    // the worker's next heartbeat, so nothing is deleted here.
    controlGateway: new ManagementClient({
      sdk: sdk(config.controlManagementEndpoint),
      connections: { delete: async () => {} },
    }),
    defaultDeploymentId: config.defaultDeploymentId,
    workerStaleAfterMs: config.workerStaleAfterMs,
    maxPending,
    logger: options.logger,
    now,
  });
}

let cached: RelayDeps | undefined;

/** The deps of this Lambda, from `process.env`-like `env`, built on the first call (cold start) only. */
export function depsFromEnv(env: Env, logger: RelayLog): RelayDeps {
  cached ??= createRelayDeps(loadRelayConfig(env), { logger });
  return cached;
}
