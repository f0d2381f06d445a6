/**
 * The whole system on one machine, assembled from one typed configuration: the one place where the
 * parts are wired together, for `npm start` (local/stack.ts), every integration harness and every
 * benchmark. The same code as in the cloud (DESIGN §4):
 *
 * - dynalite with the tables provisioned from the shared definitions, in this thread (quick to start:
 *   tests) or on a thread of its own (local mode and benchmarks: src/store/dynalite.ts says why);
 * - the gateway emulator twice: the public API (the real authorizer and route handlers of `lambdas/`)
 *   and the control API (the real control handlers);
 * - the Genesys emulator, or an endpoint that runs elsewhere (real Genesys, an emulator process);
 * - workers: one in this process (local mode), and any number as processes of their own
 *   (`spawnWorker`), each configured from the same typed configuration;
 * - the web simulator, served with a `config.json` that names the URLs and ready access tokens.
 *
 * Configuration stays typed inside the process: environment strings are written only for a worker
 * process (worker/config.ts `workerEnv`), the boundary where a real worker reads them too.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { RefusalTally } from '../lambdas/middleware/refusal-tally.js';
import { createRoutes, ROUTE_KEYS, type RouteHandler, type RouteKey } from '../lambdas/routes.js';
import {
  type AccessTokenRole,
  authConfig,
  createAuthorizer,
  mintAccessToken,
  secretFromString,
} from '../src/auth/index.js';
import { localSigner } from '../src/aws/local-signer.js';
import { withoutSdkLogger } from '../src/aws/without-sdk-logger.js';
import { readWholeTranscript } from '../src/commands/reader.js';
import { createControlHandlers } from '../src/control/index.js';
import type { Authorizer, LambdaLike, WebSocketApi } from '../src/gateway/emulator/index.js';
import { DISCOVERY_PATH, startWebSocketApi } from '../src/gateway/emulator/index.js';
import type { GenesysEndpoint } from '../src/genesys/client/index.js';
import {
  type EmulatorOptions,
  type GenesysEmulator,
  startGenesysEmulator,
} from '../src/genesys/emulator/index.js';
import { createRedactingLogger } from '../src/logging/logger.js';
import {
  ANY_TEAM,
  TeamPolicy,
  type TeamPolicyDocument,
  UNLIMITED_QUOTAS,
} from '../src/policy/team-policy.js';
import { createRelayDeps, type RelayDeps, relayConfig } from '../src/relay/index.js';
import {
  type EmbeddedDynamo,
  provisionTables,
  startDynalite,
  startDynaliteThread,
  type TableNames,
  type TranscriptEntry,
  tableNames,
} from '../src/store/index.js';
import {
  WORKER_DEFAULTS,
  type WorkerConfig,
  type WorkerConfigInput,
  workerConfig,
} from '../worker/config.js';
import { GuestTokens } from '../worker/guest-token.js';
import { startWorkerRuntime, type WorkerRuntime } from '../worker/runtime.js';
import { type StaticServer, startStaticServer } from './static-server.js';
import { type SpawnOptions, WorkerProcess } from './worker-process.js';

/**
 * Local engines and emulators accept any static pair; nothing here talks to AWS. Not frozen: the SDK
 * marks the credentials it is given with where they came from.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const REGION = 'us-east-1';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/** How often workers beat and sweep, and when the Lambdas and other workers call one stale. */
export interface Timing {
  readonly heartbeatIntervalMs: number;
  readonly staleAfterMs: number;
  readonly sweepIntervalMs: number;
}

/** The production defaults (worker/config.ts): what failover figures are about. */
export const DEFAULT_TIMING: Timing = Object.freeze({
  heartbeatIntervalMs: WORKER_DEFAULTS.heartbeatIntervalMs,
  staleAfterMs: WORKER_DEFAULTS.staleAfterMs,
  sweepIntervalMs: WORKER_DEFAULTS.sweepIntervalMs,
});

/** Fast enough for a test, with about the ratios of the defaults. */
export const FAST_TIMING: Timing = Object.freeze({
  heartbeatIntervalMs: 400,
  staleAfterMs: 2_500,
  sweepIntervalMs: 700,
});

/** Upstream: the Genesys emulator started here, or a guest API that runs elsewhere. */
export type GenesysChoice =
  | { readonly emulator: EmulatorOptions }
  | {
      readonly deploymentId: string;
      /** Where workers open sessions whose deployment names no region; absent: nowhere (relay-only tests). */
      readonly endpoint?: GenesysEndpoint;
      /** The `Origin` header of upstream sockets (a deployment's allowed domains). */
      readonly origin?: string;
    };

/**
 * What a worker of this system may be given besides what the system fills in (its tables, endpoints,
 * keys, policy). `defaultEndpoint: null`: a worker with no default Genesys endpoint.
 */
export type WorkerOverrides = Partial<Omit<WorkerConfigInput, 'defaultEndpoint'>> & {
  readonly defaultEndpoint?: GenesysEndpoint | null;
};

export interface SystemConfig {
  /** Every server listens here only. */
  readonly host: string;
  /** The public API's port, the control API's; 0 = any free one. */
  readonly apiPort: number;
  readonly controlPort: number;
  readonly logLevel: LogLevel;
  /** dynalite in this thread, or on its own thread (its event loop then serves DynamoDB alone). */
  readonly dynamo: 'in-process' | 'thread';
  /**
   * How this process's SDK clients reach dynalite and the gateway emulators: straight to their request
   * listeners (local mode: no socket, no signature computed; src/aws/) or over loopback HTTP with the
   * SDK's own transport and SigV4, as in the cloud.
   */
  readonly transport: 'in-process' | 'loopback';
  /** Table names start with this (tests give each system its own). */
  readonly tablePrefix: string;
  readonly genesys: GenesysChoice;
  /** The access tokens' signing secret and audience. */
  readonly accessTokens: { readonly secret: string; readonly audience: string };
  /** The worker's key for Genesys guest tokens (worker/guest-token.ts); at least 32 bytes. */
  readonly guestTokenKey: string;
  /** Default: every team may open the one deployment this system serves, with no quotas. */
  readonly teamPolicy?: TeamPolicyDocument;
  /** When the Lambdas and the workers call a worker stale, how often workers beat and sweep. */
  readonly timing: Timing;
  readonly relay: {
    /** Commands a session may have pending; default the queue's. */
    readonly maxPending?: number;
    /** Check every answer against the protocol's schemas. */
    readonly validateResponses: boolean;
  };
  /** A worker in this process (local mode); absent: none (spawn them with `spawnWorker`). */
  readonly worker?: WorkerOverrides;
  /** The web simulator; absent: not served. */
  readonly page?: { readonly port: number; readonly tokenTtlSeconds: number };
  /** What tests watch or break. */
  readonly hooks?: SystemHooks;
}

export interface SystemHooks {
  /** The DynamoDB client of the handlers (default: one on the engine), e.g. one that injects errors. */
  readonly dynamodb?: (endpoint: string) => DynamoDBClient;
  /** Asked on every control API `$connect`: false refuses it (403), as an outage of the control API. */
  readonly acceptControl?: () => boolean;
  /** A public connection was accepted (its id). */
  readonly publicConnected?: (connectionId: string) => void;
  /** A worker's control connection was accepted (its id). */
  readonly controlConnected?: (connectionId: string) => void;
}

export interface System {
  readonly config: SystemConfig;
  readonly tables: TableNames;
  /** The embedded engine (its endpoint, request counts). */
  readonly dynamo: EmbeddedDynamo;
  /**
   * The engine's DynamoDB client in this process: the worker's, and the handlers' unless `hooks.dynamodb`
   * gives them one.
   */
  readonly dynamodb: DynamoDBClient;
  /** What the handlers use (stores, gateways, policy). */
  readonly deps: RelayDeps;
  readonly publicApi: WebSocketApi;
  readonly controlApi: WebSocketApi;
  /** `GET` it for `{"deploymentId", "emulatorUrl"?}` (`guest-relay test --url`). */
  readonly discoveryUrl: string;
  readonly deploymentId: string;
  /** Absent with an upstream that runs elsewhere. */
  readonly emulator?: GenesysEmulator;
  /** The workers' default Genesys endpoint, when there is one. */
  readonly endpoint?: GenesysEndpoint;
  /** The team policy the handlers and every worker enforce. */
  readonly teamPolicy: TeamPolicy;
  /** The worker in this process, with `config.worker`. */
  readonly worker?: WorkerRuntime;
  /** The web simulator's URL, with `config.page`. */
  readonly pageUrl?: string;
  /** The configuration of a worker of this system, with `overrides`. */
  workerConfig(overrides?: WorkerOverrides): WorkerConfig;
  /** Starts a worker process (logging at INFO unless told otherwise); stopped with the system. */
  spawnWorker(overrides?: WorkerOverrides, options?: SpawnOptions): Promise<WorkerProcess>;
  /** The worker processes started so far. */
  readonly workerProcesses: readonly WorkerProcess[];
  /** Every worker process's log lines so far (for a failing check's message). */
  workerLogs(): Record<string, unknown>[];
  mintToken(claims: AccessClaimsRequest): Promise<string>;
  /** The Genesys guest token a worker derives for the session (what the agent side addresses). */
  guestTokenOf(sessionId: string): Promise<string>;
  /** The session's owner now, if any. */
  owner(sessionId: string): Promise<string | undefined>;
  /** The session's whole transcript, oldest first, as readers see it (src/commands/reader.ts). */
  transcript(sessionId: string): Promise<TranscriptEntry[]>;
  /** Stops everything, in the reverse order of starting; worker processes are killed. */
  stop(): Promise<void>;
}

/** A system whose upstream is the Genesys emulator it started. */
export type EmulatedSystem = System & { readonly emulator: GenesysEmulator };

/** `system`, known to have started the emulator; throws when it did not. */
export function withEmulator(system: System): EmulatedSystem {
  if (system.emulator === undefined) throw new Error('this system was started without the Genesys emulator');
  return system as EmulatedSystem;
}

export interface AccessClaimsRequest {
  readonly team: string;
  readonly role?: AccessTokenRole;
  readonly subject?: string;
  readonly ttlSeconds?: number;
}

/**
 * The DynamoDB client of a process that runs the engine itself: requests reach `dynamo` through its
 * request handler, unsigned (no local engine checks signatures), without the SDK's logger middleware,
 * with the middleware resolved once per command type (src/store/document.ts says why the store can).
 */
export function localDynamoClient(dynamo: EmbeddedDynamo): DynamoDBClient {
  return withoutSdkLogger(
    new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
      requestHandler: dynamo.requestHandler,
      signer: localSigner({ region: REGION, service: 'dynamodb' }),
      cacheMiddleware: true,
    }),
  );
}

/** A client over loopback HTTP, with the SDK's own transport. */
function loopbackDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
}

/**
 * A system on free ports of 127.0.0.1, with no log lines, its own tables, dynalite in this thread and
 * every SDK request over loopback HTTP: what a test or a benchmark starts (with `overrides`). Its
 * secrets are random unless given.
 */
export function embeddedSystemConfig(
  overrides: Partial<SystemConfig> & Pick<SystemConfig, 'genesys'>,
): SystemConfig {
  return {
    host: '127.0.0.1',
    apiPort: 0,
    controlPort: 0,
    logLevel: 'SILENT',
    dynamo: 'in-process',
    transport: 'loopback',
    tablePrefix: `t${randomBytes(4).toString('hex')}-`,
    accessTokens: { secret: randomSecret(), audience: 'guest-relay' },
    guestTokenKey: randomSecret(),
    timing: DEFAULT_TIMING,
    relay: { validateResponses: true },
    ...overrides,
  };
}

/** A random secret for a run (signing keys that live as long as the run's store). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

export async function createSystem(config: SystemConfig): Promise<System> {
  const log = createRedactingLogger({ serviceName: 'guest-relay-local', logLevel: config.logLevel });
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const step of stops.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        log.warn('stop step failed', { error });
      }
    }
  };
  try {
    const inProcess = config.transport === 'in-process';
    const dynamo: EmbeddedDynamo =
      config.dynamo === 'thread' ? await startDynaliteThread() : await startDynalite();
    stops.push(() => dynamo.close());
    const client = inProcess ? localDynamoClient(dynamo) : loopbackDynamoClient(dynamo.endpoint);
    stops.push(async () => client.destroy());
    const tables = tableNames(config.tablePrefix);
    await provisionTables(client, tables);

    let emulator: GenesysEmulator | undefined;
    let endpoint: GenesysEndpoint | undefined;
    let deploymentId: string;
    let origin: string | undefined;
    if ('emulator' in config.genesys) {
      emulator = await startGenesysEmulator({ host: config.host, ...config.genesys.emulator });
      stops.push(() => (emulator as GenesysEmulator).close());
      endpoint = { wsUrl: emulator.wsUrl, apiUrl: emulator.httpUrl };
      deploymentId = emulator.deploymentId;
    } else {
      endpoint = config.genesys.endpoint;
      deploymentId = config.genesys.deploymentId;
      origin = config.genesys.origin;
    }

    const hooks = config.hooks ?? {};
    const control = createControlHandlers();
    const controlApi = await startWebSocketApi({
      host: config.host,
      port: config.controlPort,
      routes: {
        $connect: async (event) => {
          if (hooks.acceptControl !== undefined && !hooks.acceptControl()) return { statusCode: 403 };
          const result = await control.$connect(event);
          hooks.controlConnected?.(event.requestContext.connectionId);
          return result;
        },
        $disconnect: (event) => control.$disconnect(event),
        register: (event) => control.register(event),
        ping: (event) => control.ping(event),
        $default: (event) => control.$default(event),
      },
    });
    stops.push(() => controlApi.close());

    // Every team may open the one deployment this system serves, on its endpoint, and nothing else
    // (docs/security.md); one person's machine or one test: no quotas.
    const policyDocument: TeamPolicyDocument = config.teamPolicy ?? {
      defaults: { quotas: UNLIMITED_QUOTAS },
      teams: { [ANY_TEAM]: { deployments: [{ id: deploymentId }] } },
    };
    const teamPolicy = TeamPolicy.from(policyDocument);
    let routes: Record<RouteKey, RouteHandler> | undefined;
    const forward =
      (key: RouteKey): LambdaLike =>
      async (event, context) => {
        if (routes === undefined) throw new Error('routes not ready');
        const result = await routes[key](event as never, context as Context);
        if (key === '$connect' && result.statusCode === 200)
          hooks.publicConnected?.(event.requestContext.connectionId);
        return result;
      };
    // Refused frames are counted and summed up once a minute. The count left when the system stops is
    // written then: this stop runs after the public API's (stops run in reverse), which drains handlers.
    const refusals = new RefusalTally({ logger: log });
    stops.push(async () => refusals.flush());
    const publicApi = await startWebSocketApi({
      host: config.host,
      port: config.apiPort,
      routes: Object.fromEntries(ROUTE_KEYS.map((key) => [key, forward(key)])),
      // The authorizer's event type is AWS's; the emulator hands it the same shape.
      authorizer: createAuthorizer({
        config: authConfig({ secret: config.accessTokens.secret, audience: config.accessTokens.audience }),
        logger: log,
      }) as unknown as Authorizer,
      // What a tool given only this address needs to know (`guest-relay test --url`); nothing secret.
      discovery: {
        deploymentId,
        ...(emulator === undefined ? {} : { emulatorUrl: emulator.httpUrl }),
      },
    });
    stops.push(() => publicApi.close());
    const executeApiSigner = localSigner({ region: REGION, service: 'execute-api' });
    const deps = createRelayDeps(
      relayConfig({
        tables,
        publicManagementEndpoint: publicApi.managementEndpoint,
        controlManagementEndpoint: controlApi.managementEndpoint,
        dynamodbEndpoint: dynamo.endpoint,
        region: REGION,
        workerStaleAfterMs: config.timing.staleAfterMs,
        teamPolicy,
      }),
      {
        logger: log,
        credentials: LOCAL_CREDENTIALS,
        dynamodb: hooks.dynamodb?.(dynamo.endpoint) ?? client,
        ...(config.relay.maxPending === undefined ? {} : { maxPending: config.relay.maxPending }),
        ...(inProcess
          ? {
              managementSdk: {
                publicApi: publicApi.requestHandler,
                controlApi: controlApi.requestHandler,
                signer: executeApiSigner,
              },
            }
          : {}),
      },
    );
    routes = createRoutes(deps, log, { refusals, validate: config.relay.validateResponses });

    const guestTokenKey = new TextEncoder().encode(config.guestTokenKey);
    const guestTokens = new GuestTokens(guestTokenKey);
    const configOf = (overrides: WorkerOverrides = {}): WorkerConfig => {
      const { defaultEndpoint, ...rest } = overrides;
      const upstream = defaultEndpoint === null ? undefined : (defaultEndpoint ?? endpoint);
      return workerConfig({
        region: REGION,
        tables,
        dynamodbEndpoint: dynamo.endpoint,
        publicManagementEndpoint: publicApi.managementEndpoint,
        controlUrl: controlApi.url,
        controlAuth: 'none',
        ...config.timing,
        healthHost: config.host,
        healthPort: 0,
        logLevel: config.logLevel,
        guestTokenKey: { kind: 'value', key: guestTokenKey },
        teamPolicy,
        ...(upstream === undefined ? {} : { defaultEndpoint: upstream }),
        ...(origin === undefined ? {} : { genesysOrigin: origin }),
        ...rest,
      });
    };

    let worker: WorkerRuntime | undefined;
    if (config.worker !== undefined) {
      worker = await startWorkerRuntime(
        configOf({ workerId: `w-local-${randomBytes(3).toString('hex')}`, ...config.worker }),
        {
          log,
          credentials: LOCAL_CREDENTIALS,
          dynamodb: client,
          ...(inProcess
            ? { managementSdk: { requestHandler: publicApi.requestHandler, signer: executeApiSigner } }
            : {}),
        },
      );
      stops.push(() => (worker as WorkerRuntime).stop());
    }

    const workerProcesses: WorkerProcess[] = [];
    // Killed before anything else stops (stops run in reverse): a worker must not see the store go first.
    stops.push(async () => {
      await Promise.all(workerProcesses.map((w) => w.kill('SIGKILL')));
    });

    const mintToken = (claims: AccessClaimsRequest): Promise<string> =>
      mintAccessToken(
        {
          team: claims.team,
          role: claims.role ?? 'guest',
          ...(claims.subject === undefined ? {} : { subject: claims.subject }),
          ...(claims.ttlSeconds === undefined ? {} : { ttlSeconds: claims.ttlSeconds }),
        },
        {
          secret: secretFromString(config.accessTokens.secret),
          audience: config.accessTokens.audience,
          now: Date.now(),
        },
      );

    let pageUrl: string | undefined;
    if (config.page !== undefined) {
      const page = config.page;
      const [token, agentToken] = await Promise.all(
        (['guest', 'agent-console'] as const).map((role) =>
          mintToken({ team: LOCAL_TEAM, role, subject: `local-${role}`, ttlSeconds: page.tokenTtlSeconds }),
        ),
      );
      const web: StaticServer = await startStaticServer({
        host: config.host,
        port: page.port,
        config: () => ({
          wsUrl: publicApi.url,
          token,
          agentToken,
          deploymentId,
          ...(emulator === undefined ? {} : { emulatorUrl: emulator.httpUrl }),
        }),
        // Served only with the emulator and a worker here: against a real Genesys these tokens would be
        // credentials (worker/guest-token.ts).
        ...(emulator === undefined || worker === undefined
          ? {}
          : {
              json: { '/sessions.json': (query) => sessionMap(worker as WorkerRuntime, guestTokens, query) },
            }),
      });
      stops.push(() => web.close());
      pageUrl = web.url;
    }

    return {
      config,
      tables,
      dynamo,
      dynamodb: client,
      deps,
      publicApi,
      controlApi,
      discoveryUrl: new URL(DISCOVERY_PATH, publicApi.managementEndpoint).href,
      deploymentId,
      ...(emulator === undefined ? {} : { emulator }),
      ...(endpoint === undefined ? {} : { endpoint }),
      teamPolicy,
      ...(worker === undefined ? {} : { worker }),
      ...(pageUrl === undefined ? {} : { pageUrl }),
      workerConfig: configOf,
      async spawnWorker(overrides = {}, options = {}) {
        const spawned = await WorkerProcess.spawn(configOf({ logLevel: 'INFO', ...overrides }), options);
        workerProcesses.push(spawned);
        return spawned;
      },
      workerProcesses,
      workerLogs: () => workerProcesses.flatMap((worker) => worker.logs),
      mintToken,
      async guestTokenOf(sessionId) {
        const session = await deps.sessions.get(sessionId);
        if (session === undefined) throw new Error(`no session ${sessionId}`);
        return guestTokens.tokenFor(session);
      },
      async owner(sessionId) {
        return (await deps.sessions.get(sessionId))?.ownerId;
      },
      async transcript(sessionId) {
        const session = await deps.sessions.get(sessionId);
        return session === undefined ? [] : readWholeTranscript(deps.transcript, session);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The team of the web page's tokens. */
export const LOCAL_TEAM = 'local';

/** At most this many `sessionId` parameters are answered; longer ids than this are not session ids. */
const MAX_ASKED_SESSIONS = 50;
const MAX_SESSION_ID_LENGTH = 128;

/**
 * `sessions.json`: which emulator session (named by its Genesys token) each of this system's sessions
 * is, so that the agent pane can follow the guest pane. The worker's live sessions, plus any `sessionId`
 * the page asks about (its own, ended ones included).
 */
function sessionMap(
  worker: WorkerRuntime,
  tokens: GuestTokens,
  query: URLSearchParams,
): { sessions: { sessionId: string; genesysToken: string }[] } {
  const ids = new Set(worker.worker.health().sessions);
  for (const asked of query.getAll('sessionId').slice(0, MAX_ASKED_SESSIONS)) {
    if (asked.length > 0 && asked.length <= MAX_SESSION_ID_LENGTH) ids.add(asked);
  }
  return {
    sessions: [...ids].map((sessionId) => ({ sessionId, genesysToken: tokens.tokenFor({ sessionId }) })),
  };
}
