/**
 * Local mode (DESIGN §4): the whole system in one process, on loopback, with the same code as the cloud.
 *
 * - dynalite (in-process) with the tables provisioned from the shared definitions;
 * - the gateway emulator twice: the public API (the real authorizer and route handlers of `lambdas/`) and
 *   the control API (the real control handlers);
 * - the worker (the same runtime as the Fargate task) in-process;
 * - the Genesys emulator with its default bot, unless real Genesys (or another guest-API endpoint) is
 *   configured;
 * - the web simulator, served with a `config.json` that names the URLs and a ready access token.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { RefusalTally } from '../lambdas/middleware/refusal-tally.js';
import { createRoutes, ROUTE_KEYS, type RouteHandler, type RouteKey } from '../lambdas/routes.js';
import {
  type AccessTokenRole,
  createAuthorizer,
  loadAuthConfig,
  mintAccessToken,
  secretFromString,
} from '../src/auth/index.js';
import { localSigner } from '../src/aws/local-signer.js';
import { withoutSdkLogger } from '../src/aws/without-sdk-logger.js';
import { createControlHandlers } from '../src/control/index.js';
import type { Authorizer, LambdaLike, WebSocketApi } from '../src/gateway/emulator/index.js';
import { DISCOVERY_PATH, startWebSocketApi } from '../src/gateway/emulator/index.js';
import type { GenesysEndpoint } from '../src/genesys/client/index.js';
import { type GenesysEmulator, startGenesysEmulator } from '../src/genesys/emulator/index.js';
import { createRedactingLogger } from '../src/logging/logger.js';
import { ANY_TEAM, TeamPolicy, UNLIMITED_QUOTAS } from '../src/policy/team-policy.js';
import { createRelayDeps } from '../src/relay/index.js';
import { type EmbeddedDynamo, provisionTables, startDynaliteThread, tableNames } from '../src/store/index.js';
import { loadWorkerConfig } from '../worker/config.js';
import { deriveGuestToken } from '../worker/guest-token.js';
import { startWorkerRuntime, type WorkerRuntime } from '../worker/runtime.js';
import { type StaticServer, startStaticServer } from './static-server.js';

/** Local engines and emulators accept any static pair; nothing here talks to AWS. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const REGION = 'us-east-1';
const AUDIENCE = 'guest-relay';
const TEAM = 'local';

/**
 * The DynamoDB client of local mode: requests reach `dynamo` in-process through its request handler,
 * unsigned (no local engine checks signatures), without the SDK's logger middleware, with the middleware
 * resolved once per command type (src/store/document.ts says why the store can).
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

export interface LocalOptions {
  /** Every server listens here only. Default 127.0.0.1. */
  readonly host: string;
  /** The web page. 0 = any free port. */
  readonly port: number;
  /** The public WebSocket API. */
  readonly apiPort: number;
  /** The control API (workers only). */
  readonly controlPort: number;
  /** The Genesys emulator (ignored with real Genesys). */
  readonly emulatorPort: number;
  /** Real Genesys or another guest-API endpoint; absent = the emulator. */
  readonly genesys?: {
    readonly deploymentId: string;
    readonly endpoint: GenesysEndpoint;
    readonly origin?: string;
  };
  /** The signing secret of access tokens; default: a random one for this run. */
  readonly secret?: string;
  /** Lifetime of the printed tokens. */
  readonly tokenTtlSeconds: number;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** How long the worker holds Genesys pushes to order them (worker default 300 ms; 0 = not held). */
  readonly reorderWindowMs?: number;
}

export const LOCAL_DEFAULTS: Omit<LocalOptions, 'genesys' | 'secret' | 'reorderWindowMs'> = Object.freeze({
  host: '127.0.0.1',
  port: 3000,
  apiPort: 3001,
  controlPort: 3002,
  emulatorPort: 8787,
  tokenTtlSeconds: 12 * 60 * 60,
  logLevel: 'WARN',
});

/** Every server on a free port and no log lines: a stack embedded in a test, a benchmark or `guest-relay test`. */
export const EMBEDDED: Readonly<Partial<LocalOptions>> = Object.freeze({
  port: 0,
  apiPort: 0,
  controlPort: 0,
  emulatorPort: 0,
  logLevel: 'SILENT',
});

export interface LocalStack {
  readonly pageUrl: string;
  /** The public API's WebSocket URL (add `?token=…`). */
  readonly wsUrl: string;
  /**
   * `GET` it for `{"deploymentId", "emulatorUrl"?}`: what runs behind `wsUrl`, for a tool given only the
   * API's address (`http://127.0.0.1:PORT/.well-known/guest-relay`, on the public API's port).
   */
  readonly discoveryUrl: string;
  /** A guest access token for team `local`, valid `tokenTtlSeconds`. */
  readonly token: string;
  /** An agent-console token (resume and read any session of team `local`). */
  readonly agentToken: string;
  readonly deploymentId: string;
  /** The emulator's HTTP base (agent console, faults), absent with real Genesys. */
  readonly emulatorUrl?: string;
  readonly emulator?: GenesysEmulator;
  readonly publicApi: WebSocketApi;
  readonly worker: WorkerRuntime;
  /** The embedded DynamoDB engine (e.g. its request counts). */
  readonly dynamo: EmbeddedDynamo;
  /** Mints another token with this run's secret. */
  mintToken(role: AccessTokenRole, ttlSeconds?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: Partial<LocalOptions> = {}): Promise<LocalStack> {
  const o: LocalOptions = { ...LOCAL_DEFAULTS, ...options };
  const log = createRedactingLogger({ serviceName: 'guest-relay-local', logLevel: o.logLevel });
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const step of stops.reverse()) {
      try {
        await step();
      } catch (error) {
        log.warn('stop step failed', { error });
      }
    }
  };
  try {
    const dynamo: EmbeddedDynamo = await startDynaliteThread();
    stops.push(() => dynamo.close());
    // Every SDK client of this process reaches dynalite and the gateway emulators in-process: the same
    // clients and the same store code as in the cloud, without a loopback hop per request, and without
    // computing signatures that the local engines never check (src/aws/local-signer.ts).
    const client = localDynamoClient(dynamo);
    stops.push(async () => client.destroy());
    const tables = tableNames('local-');
    await provisionTables(client, tables);

    let emulator: GenesysEmulator | undefined;
    let endpoint: GenesysEndpoint;
    let deploymentId: string;
    if (o.genesys === undefined) {
      emulator = await startGenesysEmulator({ host: o.host, port: o.emulatorPort });
      stops.push(() => (emulator as GenesysEmulator).close());
      endpoint = { wsUrl: emulator.wsUrl, apiUrl: emulator.httpUrl };
      deploymentId = emulator.deploymentId;
    } else {
      endpoint = o.genesys.endpoint;
      deploymentId = o.genesys.deploymentId;
    }

    const controlApi = await startWebSocketApi({
      host: o.host,
      port: o.controlPort,
      routes: createControlHandlers(),
    });
    stops.push(() => controlApi.close());

    const secret = o.secret ?? randomBytes(32).toString('base64url');
    // Every team may open the one deployment this run serves (the emulator's, or the configured one), on
    // the configured endpoint, and nothing else (docs/security.md). One person's machine: no quotas.
    const policyDocument = {
      defaults: { quotas: UNLIMITED_QUOTAS },
      teams: { [ANY_TEAM]: { deployments: [{ id: deploymentId }] } },
    };
    const teamPolicy = TeamPolicy.from(policyDocument);
    const authConfig = loadAuthConfig({ ACCESS_TOKEN_SECRET: secret, ACCESS_TOKEN_AUDIENCE: AUDIENCE });
    let routes: Record<RouteKey, RouteHandler> | undefined;
    const forward =
      (key: RouteKey): LambdaLike =>
      async (event, context) => {
        if (routes === undefined) throw new Error('routes not ready');
        return routes[key](event as never, context as Context);
      };
    // Refused frames are counted and summed up once a minute. The count left when the stack stops is
    // written then: this stop runs after the public API's (stops run in reverse), which drains handlers.
    const refusals = new RefusalTally({ logger: log });
    stops.push(async () => refusals.flush());
    const publicApi = await startWebSocketApi({
      host: o.host,
      port: o.apiPort,
      routes: Object.fromEntries(ROUTE_KEYS.map((key) => [key, forward(key)])),
      // The authorizer's event type is AWS's; the emulator hands it the same shape.
      authorizer: createAuthorizer({ config: authConfig, logger: log }) as unknown as Authorizer,
      // What a tool given only this address needs to know (`guest-relay test --url`); nothing secret.
      discovery: {
        deploymentId,
        ...(emulator === undefined ? {} : { emulatorUrl: emulator.httpUrl }),
      },
    });
    stops.push(() => publicApi.close());
    const deps = createRelayDeps(
      {
        tables,
        publicManagementEndpoint: publicApi.managementEndpoint,
        controlManagementEndpoint: controlApi.managementEndpoint,
        dynamodbEndpoint: dynamo.endpoint,
        region: REGION,
        workerStaleAfterMs: 10_000,
        teamPolicy,
      },
      {
        logger: log,
        credentials: LOCAL_CREDENTIALS,
        dynamodb: client,
        managementSdk: {
          publicApi: publicApi.requestHandler,
          controlApi: controlApi.requestHandler,
          signer: localSigner({ region: REGION, service: 'execute-api' }),
        },
      },
    );
    routes = createRoutes(deps, log, { refusals });

    const workerConfig = loadWorkerConfig({
      WORKER_ID: `w-local-${randomBytes(3).toString('hex')}`,
      AWS_REGION: REGION,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      SESSIONS_TABLE: tables.sessions,
      TRANSCRIPT_TABLE: tables.transcript,
      CONNECTIONS_TABLE: tables.connections,
      WORKERS_TABLE: tables.workers,
      PUBLIC_MANAGEMENT_ENDPOINT: publicApi.managementEndpoint,
      CONTROL_URL: controlApi.url,
      CONTROL_AUTH: 'none',
      HEALTH_HOST: o.host,
      HEALTH_PORT: '0',
      GENESYS_WS_URL: endpoint.wsUrl,
      GENESYS_API_URL: endpoint.apiUrl,
      LOG_LEVEL: o.logLevel,
      // The worker's own key for guest tokens: random per run, like the store, which lives as long.
      GUEST_TOKEN_KEY: randomBytes(32).toString('base64url'),
      TEAM_POLICY: JSON.stringify(policyDocument),
      ...(o.genesys?.origin === undefined ? {} : { GENESYS_ORIGIN: o.genesys.origin }),
      ...(o.reorderWindowMs === undefined ? {} : { REORDER_WINDOW_MS: String(o.reorderWindowMs) }),
    });
    const worker = await startWorkerRuntime(workerConfig, {
      log,
      credentials: LOCAL_CREDENTIALS,
      dynamodb: client,
      managementSdk: {
        requestHandler: publicApi.requestHandler,
        signer: localSigner({ region: REGION, service: 'execute-api' }),
      },
    });
    stops.push(() => worker.stop());

    const mintToken = (role: AccessTokenRole, ttlSeconds = o.tokenTtlSeconds): Promise<string> =>
      mintAccessToken(
        { team: TEAM, role, subject: `local-${role}`, ttlSeconds },
        { secret: secretFromString(secret), audience: AUDIENCE, now: Date.now() },
      );
    const token = await mintToken('guest');
    const agentToken = await mintToken('agent-console');
    const tokenKey = workerConfig.guestTokenKey.kind === 'value' ? workerConfig.guestTokenKey.key : undefined;
    const web: StaticServer = await startStaticServer({
      host: o.host,
      port: o.port,
      config: () => ({
        wsUrl: publicApi.url,
        token,
        agentToken,
        deploymentId,
        ...(emulator === undefined ? {} : { emulatorUrl: emulator.httpUrl }),
      }),
      ...(emulator === undefined || tokenKey === undefined
        ? {}
        : { json: { '/sessions.json': (query) => sessionMap(worker, tokenKey, query) } }),
    });
    stops.push(() => web.close());

    return {
      pageUrl: web.url,
      wsUrl: publicApi.url,
      discoveryUrl: new URL(DISCOVERY_PATH, publicApi.managementEndpoint).href,
      token,
      agentToken,
      deploymentId,
      ...(emulator === undefined ? {} : { emulatorUrl: emulator.httpUrl, emulator }),
      publicApi,
      worker,
      dynamo,
      mintToken,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** At most this many `sessionId` parameters are answered; longer ids than this are not session ids. */
const MAX_ASKED_SESSIONS = 50;
const MAX_SESSION_ID_LENGTH = 128;

/**
 * `sessions.json`: which emulator session (named by its Genesys token) each of this stack's sessions is,
 * so that the agent pane can follow the guest pane. The worker's live sessions, plus any `sessionId`
 * the page asks about (its own, ended ones included). Served only with the emulator: against a real
 * Genesys these tokens would be credentials (worker/guest-token.ts).
 */
function sessionMap(
  worker: WorkerRuntime,
  key: Uint8Array,
  query: URLSearchParams,
): { sessions: { sessionId: string; genesysToken: string }[] } {
  const ids = new Set(worker.worker.health().sessions);
  for (const asked of query.getAll('sessionId').slice(0, MAX_ASKED_SESSIONS)) {
    if (asked.length > 0 && asked.length <= MAX_SESSION_ID_LENGTH) ids.add(asked);
  }
  return {
    sessions: [...ids].map((sessionId) => ({ sessionId, genesysToken: deriveGuestToken(key, sessionId) })),
  };
}
