/**
 * The worker's configuration, in one place: typed, checked and frozen by `workerConfig` (every rule is
 * there), read from the environment by `loadWorkerConfig` (which only parses strings), and written back
 * by `workerEnv` for a worker started as a child process. A missing or bad value fails at start with a
 * WorkerConfigError naming the environment variable (never showing a value). The defaults keep a dead
 * worker's sessions moving within DESIGN's "within 15 s": a stale heartbeat after 10 s, noticed by the
 * next sweep (≤ 3 s later).
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, configChecks, type Env, nonEmpty, numberFrom, optional } from '../src/config/index.js';
import { DEFAULT_RECONNECT_PACING } from '../src/domain/reconnect-pacer.js';
import {
  type GenesysEndpoint,
  genesysEndpoint,
  isUploadHostEntry,
  regionDomain,
} from '../src/genesys/client/index.js';
import { TEAM_POLICY_ENV, type TeamPolicy } from '../src/policy/team-policy.js';
import { checkedTableNames, DEFAULT_WORKER_STALE_AFTER_MS, sharedFromEnv } from '../src/relay/config.js';
import { TABLE_ENV, type TableKey, type TableNames } from '../src/store/tables.js';
import { MIN_GUEST_TOKEN_KEY_BYTES } from './guest-token.js';

export type { Env } from '../src/config/index.js';

export const WORKER_ENV = Object.freeze({
  workerId: 'WORKER_ID',
  region: 'AWS_REGION',
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  publicManagementEndpoint: 'PUBLIC_MANAGEMENT_ENDPOINT',
  controlUrl: 'CONTROL_URL',
  controlAuth: 'CONTROL_AUTH',
  heartbeatIntervalMs: 'HEARTBEAT_INTERVAL_MS',
  staleAfterMs: 'WORKER_STALE_AFTER_MS',
  sweepIntervalMs: 'SWEEP_INTERVAL_MS',
  connectionsRefreshMs: 'CONNECTIONS_REFRESH_MS',
  controlPingIntervalMs: 'CONTROL_PING_INTERVAL_MS',
  controlRotateAfterMs: 'CONTROL_ROTATE_AFTER_MS',
  controlOverlapMs: 'CONTROL_OVERLAP_MS',
  healthHost: 'HEALTH_HOST',
  healthPort: 'HEALTH_PORT',
  reorderWindowMs: 'REORDER_WINDOW_MS',
  upstreamUnavailableAfterMs: 'UPSTREAM_UNAVAILABLE_AFTER_MS',
  reconnectRatePerSecond: 'RECONNECT_RATE_PER_SECOND',
  reconnectBurst: 'RECONNECT_BURST',
  /** The default endpoint: GENESYS_WS_URL with GENESYS_API_URL (an emulator, a proxy), else GENESYS_REGION. */
  genesysWsUrl: 'GENESYS_WS_URL',
  genesysApiUrl: 'GENESYS_API_URL',
  genesysRegion: 'GENESYS_REGION',
  genesysOrigin: 'GENESYS_ORIGIN',
  logLevel: 'LOG_LEVEL',
  genesysUploadHosts: 'GENESYS_UPLOAD_HOSTS',
  guestTokenKey: 'GUEST_TOKEN_KEY',
  guestTokenKeyArn: 'GUEST_TOKEN_KEY_ARN',
  teamPolicy: TEAM_POLICY_ENV,
});

/**
 * The key the worker derives Genesys guest tokens from (worker/guest-token.ts): the value itself (local
 * mode, tests), or a Secrets Manager secret that only the worker's task role may read (the cloud).
 */
export type GuestTokenKeySource =
  | { readonly kind: 'value'; readonly key: Uint8Array }
  | { readonly kind: 'arn'; readonly arn: string };

export const CONTROL_AUTHS = ['iam', 'none'] as const;
export type ControlAuth = (typeof CONTROL_AUTHS)[number];

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;

export interface WorkerConfig {
  readonly workerId: string;
  readonly region: string;
  readonly tables: TableNames;
  /** Local engines only. */
  readonly dynamodbEndpoint?: string;
  /** The public API's `@connections` endpoint: where events for frontends go. */
  readonly publicManagementEndpoint: string;
  /** The control API's WebSocket URL (`wss://…/stage` in AWS, the emulator's `ws://` locally). */
  readonly controlUrl: string;
  /** `iam`: the upgrade is signed with SigV4 (AWS); `none`: the local emulator. Default by URL scheme. */
  readonly controlAuth: ControlAuth;
  readonly heartbeatIntervalMs: number;
  /** A worker whose heartbeat is older than this is stale (the same value as the Lambdas'). */
  readonly staleAfterMs: number;
  /** Pending work, unowned and orphaned sessions are looked for this often. */
  readonly sweepIntervalMs: number;
  /**
   * Each session's frontend connections are re-read from the store this often (one query per session,
   * spread over the sweeps): catches a connection whose `attach` doorbell was lost.
   */
  readonly connectionsRefreshMs: number;
  /** A `ping` on the control connection this often (API Gateway closes idle connections after 10 min). */
  readonly controlPingIntervalMs: number;
  /** A fresh control connection replaces the current one this long after it opened (AWS closes at 2 h). */
  readonly controlRotateAfterMs: number;
  /** Old and new control connections overlap this long during a rotation. */
  readonly controlOverlapMs: number;
  readonly healthHost: string;
  /** 0: any free port (it is logged). */
  readonly healthPort: number;
  readonly reorderWindowMs: number;
  /**
   * How long a session's Genesys socket may fail before the frontends get `upstream_unavailable`
   * (docs/relay.md): a session that never connected then ends; a live one keeps trying.
   */
  readonly upstreamUnavailableAfterMs: number;
  /**
   * Upstream reconnects that may start per second, all sessions of the worker together (a crowd dropped
   * at once is spread over crowd / rate seconds); 0 = no pacing, each session's backoff alone.
   */
  readonly reconnectRatePerSecond: number;
  /** Reconnects that may start at once before the rate applies (a lone drop never waits). */
  readonly reconnectBurst: number;
  /** Sessions without a stored endpoint or region use this one (GENESYS_WS_URL + GENESYS_API_URL, or GENESYS_REGION). */
  readonly defaultEndpoint?: GenesysEndpoint;
  readonly genesysOrigin?: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly guestTokenKey: GuestTokenKeySource;
  /**
   * Hosts presigned upload URLs may name besides the region's own (`s3.example.com` that host only,
   * `.example.com` its subdomains; https only). Genesys does not document its upload hosts: an operator
   * who sends inline uploads to real Genesys lists them (docs/security.md).
   */
  readonly uploadHosts: readonly string[];
  /** Checked again before a session opens upstream; its idle timeouts end idle sessions. */
  readonly teamPolicy: TeamPolicy;
}

export const WORKER_DEFAULTS = Object.freeze({
  heartbeatIntervalMs: 2_000,
  staleAfterMs: DEFAULT_WORKER_STALE_AFTER_MS,
  sweepIntervalMs: 3_000,
  connectionsRefreshMs: 60_000,
  controlPingIntervalMs: 5 * 60 * 1000,
  controlRotateAfterMs: 110 * 60 * 1000,
  controlOverlapMs: 5_000,
  healthPort: 8080,
  reorderWindowMs: 300,
  upstreamUnavailableAfterMs: 30_000,
  reconnectRatePerSecond: DEFAULT_RECONNECT_PACING.ratePerSecond,
  reconnectBurst: DEFAULT_RECONNECT_PACING.burst,
});

/**
 * How long a beat lets the worker act as owner: the staleness window minus a margin (max 1 s, 20 %), so
 * the worker stops writing before any other worker may call it stale (see lease.ts).
 */
export function leaseDurationMs(staleAfterMs: number): number {
  return staleAfterMs - Math.max(1_000, staleAfterMs / 5);
}

export class WorkerConfigError extends ConfigError {
  override readonly name = 'WorkerConfigError';
}

const check = configChecks(WorkerConfigError);

type RequiredInput =
  | 'region'
  | 'tables'
  | 'publicManagementEndpoint'
  | 'controlUrl'
  | 'guestTokenKey'
  | 'teamPolicy';

/**
 * WorkerConfig as given in code (`createSystem`): the fields a worker cannot guess, and any other to
 * override its default (workerId: a random `w-…`; controlAuth: by the control URL's scheme; healthHost
 * 127.0.0.1; logLevel INFO; uploadHosts none; the rest WORKER_DEFAULTS).
 */
export type WorkerConfigInput = Pick<WorkerConfig, RequiredInput> & {
  readonly [K in Exclude<keyof WorkerConfig, RequiredInput>]?: WorkerConfig[K] | undefined;
};

/** Parses the environment's strings; `workerConfig` checks them. */
export function loadWorkerConfig(env: Env): WorkerConfig {
  const text = (key: string) => optional(env, key);
  const number = (key: string) => numberFrom(env, key);
  const { tables, teamPolicy } = sharedFromEnv(env, WorkerConfigError);
  return workerConfig({
    workerId: text(WORKER_ENV.workerId),
    region: text(WORKER_ENV.region) ?? '',
    tables,
    dynamodbEndpoint: text(WORKER_ENV.dynamodbEndpoint),
    publicManagementEndpoint: text(WORKER_ENV.publicManagementEndpoint) ?? '',
    controlUrl: text(WORKER_ENV.controlUrl) ?? '',
    // The casts name what workerConfig checks the text against.
    controlAuth: text(WORKER_ENV.controlAuth) as ControlAuth | undefined,
    heartbeatIntervalMs: number(WORKER_ENV.heartbeatIntervalMs),
    staleAfterMs: number(WORKER_ENV.staleAfterMs),
    sweepIntervalMs: number(WORKER_ENV.sweepIntervalMs),
    connectionsRefreshMs: number(WORKER_ENV.connectionsRefreshMs),
    controlPingIntervalMs: number(WORKER_ENV.controlPingIntervalMs),
    controlRotateAfterMs: number(WORKER_ENV.controlRotateAfterMs),
    controlOverlapMs: number(WORKER_ENV.controlOverlapMs),
    healthHost: text(WORKER_ENV.healthHost),
    healthPort: number(WORKER_ENV.healthPort),
    reorderWindowMs: number(WORKER_ENV.reorderWindowMs),
    upstreamUnavailableAfterMs: number(WORKER_ENV.upstreamUnavailableAfterMs),
    reconnectRatePerSecond: number(WORKER_ENV.reconnectRatePerSecond),
    reconnectBurst: number(WORKER_ENV.reconnectBurst),
    defaultEndpoint: genesysEndpointFromEnv(env),
    genesysOrigin: text(WORKER_ENV.genesysOrigin),
    logLevel: text(WORKER_ENV.logLevel)?.toUpperCase() as WorkerConfig['logLevel'] | undefined,
    guestTokenKey: guestTokenKeyFrom(env),
    uploadHosts: text(WORKER_ENV.genesysUploadHosts)
      ?.split(',')
      .map((host) => host.trim())
      .filter((host) => host !== ''),
    teamPolicy,
  });
}

/**
 * The worker's configuration, checked: every rule of the worker's configuration is here, once, and its
 * errors name the environment variable an operator would set.
 */
export function workerConfig(input: WorkerConfigInput): WorkerConfig {
  const tables = checkedTableNames(input.tables, check);
  const controlUrl = check.wsUrl(input.controlUrl, WORKER_ENV.controlUrl);
  const controlAuth = check.oneOf(
    input.controlAuth ?? (controlUrl.startsWith('wss://') ? 'iam' : 'none'),
    WORKER_ENV.controlAuth,
    CONTROL_AUTHS,
  );
  const heartbeatIntervalMs = check.millis(
    input.heartbeatIntervalMs,
    WORKER_ENV.heartbeatIntervalMs,
    WORKER_DEFAULTS.heartbeatIntervalMs,
  );
  const staleAfterMs = check.millis(
    input.staleAfterMs,
    WORKER_ENV.staleAfterMs,
    WORKER_DEFAULTS.staleAfterMs,
  );
  if (staleAfterMs < 2 * heartbeatIntervalMs) {
    throw check.error(
      'config_invalid',
      WORKER_ENV.staleAfterMs,
      `${WORKER_ENV.staleAfterMs} must be at least twice ${WORKER_ENV.heartbeatIntervalMs}, or live workers look stale.`,
    );
  }
  if (leaseDurationMs(staleAfterMs) < 1.5 * heartbeatIntervalMs) {
    throw check.error(
      'config_invalid',
      WORKER_ENV.staleAfterMs,
      `${WORKER_ENV.staleAfterMs} leaves too short a lease for ${WORKER_ENV.heartbeatIntervalMs}: ` +
        'the lease (the staleness window minus max(1 s, 20 %)) must last 1.5 heartbeats.',
    );
  }
  const dynamodbEndpoint =
    input.dynamodbEndpoint === undefined
      ? undefined
      : check.httpUrl(input.dynamodbEndpoint, WORKER_ENV.dynamodbEndpoint);
  const defaultEndpoint = input.defaultEndpoint === undefined ? undefined : endpoint(input.defaultEndpoint);
  const genesysOrigin = nonEmpty(input.genesysOrigin);
  const count = (value: number | undefined, key: string, fallback: number, min: number) =>
    check.integer(value, key, { min, fallback });
  return Object.freeze({
    workerId: nonEmpty(input.workerId) ?? `w-${randomBytes(6).toString('hex')}`,
    region: check.required(input.region, WORKER_ENV.region),
    tables,
    publicManagementEndpoint: check.httpUrl(
      input.publicManagementEndpoint,
      WORKER_ENV.publicManagementEndpoint,
    ),
    controlUrl,
    controlAuth,
    heartbeatIntervalMs,
    staleAfterMs,
    sweepIntervalMs: check.millis(
      input.sweepIntervalMs,
      WORKER_ENV.sweepIntervalMs,
      WORKER_DEFAULTS.sweepIntervalMs,
    ),
    connectionsRefreshMs: check.millis(
      input.connectionsRefreshMs,
      WORKER_ENV.connectionsRefreshMs,
      WORKER_DEFAULTS.connectionsRefreshMs,
    ),
    controlPingIntervalMs: check.millis(
      input.controlPingIntervalMs,
      WORKER_ENV.controlPingIntervalMs,
      WORKER_DEFAULTS.controlPingIntervalMs,
    ),
    controlRotateAfterMs: check.millis(
      input.controlRotateAfterMs,
      WORKER_ENV.controlRotateAfterMs,
      WORKER_DEFAULTS.controlRotateAfterMs,
    ),
    controlOverlapMs: count(
      input.controlOverlapMs,
      WORKER_ENV.controlOverlapMs,
      WORKER_DEFAULTS.controlOverlapMs,
      0,
    ),
    healthHost: nonEmpty(input.healthHost) ?? '127.0.0.1',
    healthPort: check.integer(input.healthPort, WORKER_ENV.healthPort, {
      min: 0,
      max: 65_535,
      fallback: WORKER_DEFAULTS.healthPort,
    }),
    reorderWindowMs: count(
      input.reorderWindowMs,
      WORKER_ENV.reorderWindowMs,
      WORKER_DEFAULTS.reorderWindowMs,
      0,
    ),
    upstreamUnavailableAfterMs: count(
      input.upstreamUnavailableAfterMs,
      WORKER_ENV.upstreamUnavailableAfterMs,
      WORKER_DEFAULTS.upstreamUnavailableAfterMs,
      1,
    ),
    reconnectRatePerSecond: count(
      input.reconnectRatePerSecond,
      WORKER_ENV.reconnectRatePerSecond,
      WORKER_DEFAULTS.reconnectRatePerSecond,
      0,
    ),
    reconnectBurst: count(input.reconnectBurst, WORKER_ENV.reconnectBurst, WORKER_DEFAULTS.reconnectBurst, 1),
    logLevel: check.oneOf(input.logLevel ?? 'INFO', WORKER_ENV.logLevel, LOG_LEVELS),
    guestTokenKey: guestTokenKey(input.guestTokenKey),
    uploadHosts: uploadHosts(input.uploadHosts ?? []),
    teamPolicy: input.teamPolicy,
    ...(dynamodbEndpoint === undefined ? {} : { dynamodbEndpoint }),
    ...(defaultEndpoint === undefined ? {} : { defaultEndpoint }),
    ...(genesysOrigin === undefined ? {} : { genesysOrigin }),
  });
}

/**
 * The environment `loadWorkerConfig` reads `config` back from, for a worker started as a child process
 * (tests, benchmarks): every key WORKER_ENV and TABLE_ENV declare, blank for an absent field, so nothing
 * in the parent's environment leaks into the child's configuration. The default endpoint is written as
 * its URLs, the team policy as its JSON document, the guest-token key as its text or ARN.
 *
 * @throws WorkerConfigError naming GUEST_TOKEN_KEY for a key that is not text (random bytes): an
 *   environment variable cannot carry it; give the worker a text key.
 */
export function workerEnv(config: WorkerConfig): Record<string, string> {
  const env: Record<string, string> = Object.fromEntries(
    [...Object.values(WORKER_ENV), ...Object.values(TABLE_ENV)].map((key) => [key, '']),
  );
  for (const key of Object.keys(TABLE_ENV) as TableKey[]) env[TABLE_ENV[key]] = config.tables[key];
  Object.assign(env, {
    [WORKER_ENV.workerId]: config.workerId,
    [WORKER_ENV.region]: config.region,
    [WORKER_ENV.dynamodbEndpoint]: config.dynamodbEndpoint ?? '',
    [WORKER_ENV.publicManagementEndpoint]: config.publicManagementEndpoint,
    [WORKER_ENV.controlUrl]: config.controlUrl,
    [WORKER_ENV.controlAuth]: config.controlAuth,
    [WORKER_ENV.heartbeatIntervalMs]: String(config.heartbeatIntervalMs),
    [WORKER_ENV.staleAfterMs]: String(config.staleAfterMs),
    [WORKER_ENV.sweepIntervalMs]: String(config.sweepIntervalMs),
    [WORKER_ENV.connectionsRefreshMs]: String(config.connectionsRefreshMs),
    [WORKER_ENV.controlPingIntervalMs]: String(config.controlPingIntervalMs),
    [WORKER_ENV.controlRotateAfterMs]: String(config.controlRotateAfterMs),
    [WORKER_ENV.controlOverlapMs]: String(config.controlOverlapMs),
    [WORKER_ENV.healthHost]: config.healthHost,
    [WORKER_ENV.healthPort]: String(config.healthPort),
    [WORKER_ENV.reorderWindowMs]: String(config.reorderWindowMs),
    [WORKER_ENV.upstreamUnavailableAfterMs]: String(config.upstreamUnavailableAfterMs),
    [WORKER_ENV.reconnectRatePerSecond]: String(config.reconnectRatePerSecond),
    [WORKER_ENV.reconnectBurst]: String(config.reconnectBurst),
    [WORKER_ENV.genesysWsUrl]: config.defaultEndpoint?.wsUrl ?? '',
    [WORKER_ENV.genesysApiUrl]: config.defaultEndpoint?.apiUrl ?? '',
    [WORKER_ENV.genesysOrigin]: config.genesysOrigin ?? '',
    [WORKER_ENV.logLevel]: config.logLevel,
    [WORKER_ENV.genesysUploadHosts]: config.uploadHosts.join(','),
    [WORKER_ENV.teamPolicy]: JSON.stringify(config.teamPolicy),
  });
  if (config.guestTokenKey.kind === 'arn') env[WORKER_ENV.guestTokenKeyArn] = config.guestTokenKey.arn;
  else env[WORKER_ENV.guestTokenKey] = keyText(config.guestTokenKey.key);
  return env;
}

/** The guest-token key as the text GUEST_TOKEN_KEY held: UTF-8 that reads back to the same bytes. */
function keyText(key: Uint8Array): string {
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(key);
  } catch {
    text = undefined;
  }
  if (text === undefined || text.trim() !== text) {
    throw check.error(
      'config_invalid',
      WORKER_ENV.guestTokenKey,
      `${WORKER_ENV.guestTokenKey} cannot carry this key: it is not text (UTF-8 without surrounding spaces).`,
    );
  }
  return text;
}

/**
 * The Genesys endpoint the environment names: GENESYS_WS_URL with GENESYS_API_URL (an emulator, a proxy;
 * they win), else GENESYS_REGION's; neither: none. The one reader of these keys (the worker's default
 * endpoint, and `npm start` against real Genesys). Throws WorkerConfigError naming the key.
 */
export function genesysEndpointFromEnv(env: Env): GenesysEndpoint | undefined {
  const ws = WORKER_ENV.genesysWsUrl;
  const api = WORKER_ENV.genesysApiUrl;
  const wsUrl = optional(env, ws);
  const apiUrl = optional(env, api);
  if (wsUrl !== undefined || apiUrl !== undefined) {
    const missing = wsUrl === undefined ? ws : apiUrl === undefined ? api : undefined;
    if (missing !== undefined) {
      throw check.error('config_missing', missing, `${missing} is missing: ${ws} and ${api} go together.`);
    }
    return endpoint({ wsUrl: wsUrl as string, apiUrl: apiUrl as string });
  }
  const region = optional(env, WORKER_ENV.genesysRegion);
  if (region === undefined) return undefined;
  const domain = regionDomain(region);
  if (domain === undefined) {
    throw check.error(
      'config_invalid',
      WORKER_ENV.genesysRegion,
      `${WORKER_ENV.genesysRegion} must be a Genesys region name (e.g. eu_west_1) or domain (e.g. mypurecloud.ie).`,
    );
  }
  return genesysEndpoint({ domain });
}

/** Explicit URLs (an emulator, a proxy) or a region's: ws(s) and http(s), no query, no trailing slash. */
function endpoint(value: GenesysEndpoint): GenesysEndpoint {
  const checked = {
    wsUrl: check.wsUrl(value.wsUrl, WORKER_ENV.genesysWsUrl),
    apiUrl: check.httpUrl(value.apiUrl, WORKER_ENV.genesysApiUrl),
  };
  for (const [url, key] of [
    [checked.wsUrl, WORKER_ENV.genesysWsUrl],
    [checked.apiUrl, WORKER_ENV.genesysApiUrl],
  ] as const) {
    if (/[?#]/.test(url)) throw check.error('config_invalid', key, `${key} must have no query or fragment.`);
  }
  return Object.freeze({
    wsUrl: checked.wsUrl.replace(/\/+$/, ''),
    apiUrl: checked.apiUrl.replace(/\/+$/, ''),
  });
}

function uploadHosts(hosts: readonly string[]): readonly string[] {
  const checked = hosts.map((host) => host.trim().toLowerCase());
  for (const host of checked) {
    if (!isUploadHostEntry(host)) {
      throw check.error(
        'config_invalid',
        WORKER_ENV.genesysUploadHosts,
        `${WORKER_ENV.genesysUploadHosts} must list host names (s3.example.com) or domains (.example.com), separated by commas.`,
      );
    }
  }
  return Object.freeze(checked);
}

/** GUEST_TOKEN_KEY or GUEST_TOKEN_KEY_ARN, exactly one. */
function guestTokenKeyFrom(env: Env): GuestTokenKeySource {
  const value = optional(env, WORKER_ENV.guestTokenKey);
  const arn = optional(env, WORKER_ENV.guestTokenKeyArn);
  if (value !== undefined && arn !== undefined) {
    throw check.error(
      'config_conflict',
      WORKER_ENV.guestTokenKey,
      `Set ${WORKER_ENV.guestTokenKey} or ${WORKER_ENV.guestTokenKeyArn}, not both.`,
    );
  }
  if (arn !== undefined) return { kind: 'arn', arn };
  if (value === undefined) {
    throw check.error(
      'config_missing',
      WORKER_ENV.guestTokenKey,
      `Missing ${WORKER_ENV.guestTokenKeyArn} (the cloud) or ${WORKER_ENV.guestTokenKey} (local): the key guest tokens are derived from.`,
    );
  }
  return { kind: 'value', key: new TextEncoder().encode(value) };
}

function guestTokenKey(source: GuestTokenKeySource): GuestTokenKeySource {
  if (source.kind === 'arn') {
    return Object.freeze({ kind: 'arn', arn: check.arn(source.arn, WORKER_ENV.guestTokenKeyArn) });
  }
  if (!(source.key instanceof Uint8Array) || source.key.byteLength < MIN_GUEST_TOKEN_KEY_BYTES) {
    throw check.error(
      'config_invalid',
      WORKER_ENV.guestTokenKey,
      `${WORKER_ENV.guestTokenKey} must be at least ${MIN_GUEST_TOKEN_KEY_BYTES} bytes.`,
    );
  }
  return Object.freeze({ kind: 'value', key: source.key });
}
