/**
 * Local mode (DESIGN §4): the whole system in one process, on loopback, with the same code as the cloud:
 * `createSystem` (local/system.ts) with local mode's configuration: dynalite on its own thread, every
 * SDK client in-process, the worker in this process, the web simulator, and the Genesys emulator with its
 * default bot unless real Genesys (or another guest-API endpoint) is configured.
 */
import type { AccessTokenRole } from '../src/auth/index.js';
import type { WebSocketApi } from '../src/gateway/emulator/index.js';
import type { GenesysEndpoint } from '../src/genesys/client/index.js';
import type { EmulatorOptions, GenesysEmulator } from '../src/genesys/emulator/index.js';
import type { EmbeddedDynamo } from '../src/store/index.js';
import type { WorkerRuntime } from '../worker/runtime.js';
import { createSystem, DEFAULT_TIMING, LOCAL_TEAM, randomSecret, type SystemConfig } from './system.js';

const AUDIENCE = 'guest-relay';

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
  /** More options of the Genesys emulator (its bot's response time and errors); ignored with real Genesys. */
  readonly emulator?: Omit<EmulatorOptions, 'host' | 'port'>;
}

export const LOCAL_DEFAULTS: Omit<LocalOptions, 'genesys' | 'secret' | 'reorderWindowMs' | 'emulator'> =
  Object.freeze({
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

/** Local mode's configuration of the system, from its options. */
export function localSystemConfig(o: LocalOptions, secret: string): SystemConfig {
  return {
    host: o.host,
    apiPort: o.apiPort,
    controlPort: o.controlPort,
    logLevel: o.logLevel,
    dynamo: 'thread',
    transport: 'in-process',
    tablePrefix: 'local-',
    genesys:
      o.genesys === undefined
        ? { emulator: { ...o.emulator, host: o.host, port: o.emulatorPort } }
        : o.genesys,
    accessTokens: { secret, audience: AUDIENCE },
    // The worker's own key for guest tokens: random per run, like the store, which lives as long.
    guestTokenKey: randomSecret(),
    timing: DEFAULT_TIMING,
    relay: { validateResponses: false },
    worker: o.reorderWindowMs === undefined ? {} : { reorderWindowMs: o.reorderWindowMs },
    page: { port: o.port, tokenTtlSeconds: o.tokenTtlSeconds },
  };
}

export async function startLocalStack(options: Partial<LocalOptions> = {}): Promise<LocalStack> {
  const o: LocalOptions = { ...LOCAL_DEFAULTS, ...options };
  const system = await createSystem(localSystemConfig(o, o.secret ?? randomSecret()));
  try {
    const mintToken = (role: AccessTokenRole, ttlSeconds = o.tokenTtlSeconds): Promise<string> =>
      system.mintToken({ team: LOCAL_TEAM, role, subject: `local-${role}`, ttlSeconds });
    const [token, agentToken] = await Promise.all([mintToken('guest'), mintToken('agent-console')]);
    const { emulator, worker, pageUrl } = system;
    if (worker === undefined || pageUrl === undefined) throw new Error('local mode runs a worker and a page');
    return {
      pageUrl,
      wsUrl: system.publicApi.url,
      discoveryUrl: system.discoveryUrl,
      token,
      agentToken,
      deploymentId: system.deploymentId,
      ...(emulator === undefined ? {} : { emulatorUrl: emulator.httpUrl, emulator }),
      publicApi: system.publicApi,
      worker,
      dynamo: system.dynamo,
      mintToken,
      stop: () => system.stop(),
    };
  } catch (error) {
    await system.stop();
    throw error;
  }
}
