/**
 * The worker's configuration, in one place: read once from the environment, typed, frozen. A missing or
 * bad value fails at start with a WorkerConfigError naming the key (never showing a value). The
 * defaults keep a dead worker's sessions moving within DESIGN's "within 15 s": a stale heartbeat after
 * 10 s, noticed by the next sweep (≤ 3 s later).
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_RECONNECT_PACING } from '../src/domain/reconnect-pacer.js';
import { endpointFromEnv, type GenesysEndpoint, isUploadHostEntry } from '../src/genesys/client/index.js';
import { TEAM_POLICY_ENV, TeamPolicy } from '../src/policy/team-policy.js';
import { DEFAULT_WORKER_STALE_AFTER_MS } from '../src/relay/config.js';
import { TABLE_ENV, type TableKey, type TableNames } from '../src/store/tables.js';
import { MIN_GUEST_TOKEN_KEY_BYTES } from './guest-token.js';

export type Env = Readonly<Record<string, string | undefined>>;

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

export type ControlAuth = 'iam' | 'none';

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
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
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

export class WorkerConfigError extends Error {
  override readonly name = 'WorkerConfigError';
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.key = key;
  }
}

export function loadWorkerConfig(env: Env): WorkerConfig {
  const tables = Object.fromEntries(
    (Object.keys(TABLE_ENV) as TableKey[]).map((key) => [key, required(env, TABLE_ENV[key])]),
  ) as Record<TableKey, string>;
  const controlUrl = required(env, WORKER_ENV.controlUrl);
  if (!/^wss?:\/\//.test(controlUrl)) {
    throw new WorkerConfigError(WORKER_ENV.controlUrl, `${WORKER_ENV.controlUrl} must be a ws(s) URL.`);
  }
  const authText =
    nonEmpty(env[WORKER_ENV.controlAuth]) ?? (controlUrl.startsWith('wss://') ? 'iam' : 'none');
  if (authText !== 'iam' && authText !== 'none') {
    throw new WorkerConfigError(WORKER_ENV.controlAuth, `${WORKER_ENV.controlAuth} must be "iam" or "none".`);
  }
  const heartbeatIntervalMs = millis(
    env,
    WORKER_ENV.heartbeatIntervalMs,
    WORKER_DEFAULTS.heartbeatIntervalMs,
  );
  const staleAfterMs = millis(env, WORKER_ENV.staleAfterMs, WORKER_DEFAULTS.staleAfterMs);
  if (staleAfterMs < 2 * heartbeatIntervalMs) {
    throw new WorkerConfigError(
      WORKER_ENV.staleAfterMs,
      `${WORKER_ENV.staleAfterMs} must be at least twice ${WORKER_ENV.heartbeatIntervalMs}, or live workers look stale.`,
    );
  }
  if (leaseDurationMs(staleAfterMs) < 1.5 * heartbeatIntervalMs) {
    throw new WorkerConfigError(
      WORKER_ENV.staleAfterMs,
      `${WORKER_ENV.staleAfterMs} leaves too short a lease for ${WORKER_ENV.heartbeatIntervalMs}: ` +
        'the lease (the staleness window minus max(1 s, 20 %)) must last 1.5 heartbeats.',
    );
  }
  const dynamodbEndpoint = nonEmpty(env[WORKER_ENV.dynamodbEndpoint]);
  if (dynamodbEndpoint !== undefined && !/^https?:\/\//.test(dynamodbEndpoint)) {
    throw new WorkerConfigError(
      WORKER_ENV.dynamodbEndpoint,
      `${WORKER_ENV.dynamodbEndpoint} must be an http(s) URL.`,
    );
  }
  const publicManagementEndpoint = required(env, WORKER_ENV.publicManagementEndpoint);
  if (!/^https?:\/\//.test(publicManagementEndpoint)) {
    throw new WorkerConfigError(
      WORKER_ENV.publicManagementEndpoint,
      `${WORKER_ENV.publicManagementEndpoint} must be an http(s) URL.`,
    );
  }
  const healthPort = integer(env, WORKER_ENV.healthPort, WORKER_DEFAULTS.healthPort, 0);
  if (healthPort > 65_535)
    throw new WorkerConfigError(WORKER_ENV.healthPort, `${WORKER_ENV.healthPort} must be a port.`);
  const logLevel = (nonEmpty(env[WORKER_ENV.logLevel]) ?? 'INFO').toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'].includes(logLevel)) {
    throw new WorkerConfigError(
      WORKER_ENV.logLevel,
      `${WORKER_ENV.logLevel} must be DEBUG, INFO, WARN, ERROR or SILENT.`,
    );
  }
  const hasGenesys =
    nonEmpty(env.GENESYS_WS_URL) !== undefined ||
    nonEmpty(env.GENESYS_API_URL) !== undefined ||
    nonEmpty(env.GENESYS_REGION) !== undefined;
  let defaultEndpoint: GenesysEndpoint | undefined;
  if (hasGenesys) {
    try {
      defaultEndpoint = endpointFromEnv(env);
    } catch {
      // The client's message quotes the value; ours names the key only.
      const ws = nonEmpty(env.GENESYS_WS_URL) !== undefined;
      const api = nonEmpty(env.GENESYS_API_URL) !== undefined;
      const key =
        ws && !api
          ? 'GENESYS_API_URL'
          : api && !ws
            ? 'GENESYS_WS_URL'
            : ws
              ? 'GENESYS_WS_URL'
              : 'GENESYS_REGION';
      throw new WorkerConfigError(
        key,
        ws !== api
          ? `${key} is missing: GENESYS_WS_URL and GENESYS_API_URL go together.`
          : key === 'GENESYS_REGION'
            ? 'GENESYS_REGION must be a Genesys region name (e.g. eu_west_1) or domain (e.g. mypurecloud.ie).'
            : 'GENESYS_WS_URL must be a ws(s) URL and GENESYS_API_URL an http(s) URL.',
      );
    }
  }
  const genesysOrigin = nonEmpty(env[WORKER_ENV.genesysOrigin]);
  let teamPolicy: TeamPolicy;
  try {
    teamPolicy = TeamPolicy.fromEnv(env);
  } catch (error) {
    throw new WorkerConfigError(WORKER_ENV.teamPolicy, (error as Error).message);
  }
  return Object.freeze({
    guestTokenKey: guestTokenKey(env),
    uploadHosts: uploadHosts(env),
    teamPolicy,
    workerId: nonEmpty(env[WORKER_ENV.workerId]) ?? `w-${randomBytes(6).toString('hex')}`,
    region: required(env, WORKER_ENV.region),
    tables: Object.freeze(tables),
    publicManagementEndpoint,
    controlUrl,
    controlAuth: authText,
    heartbeatIntervalMs,
    staleAfterMs,
    sweepIntervalMs: millis(env, WORKER_ENV.sweepIntervalMs, WORKER_DEFAULTS.sweepIntervalMs),
    connectionsRefreshMs: millis(env, WORKER_ENV.connectionsRefreshMs, WORKER_DEFAULTS.connectionsRefreshMs),
    controlPingIntervalMs: millis(
      env,
      WORKER_ENV.controlPingIntervalMs,
      WORKER_DEFAULTS.controlPingIntervalMs,
    ),
    controlRotateAfterMs: millis(env, WORKER_ENV.controlRotateAfterMs, WORKER_DEFAULTS.controlRotateAfterMs),
    controlOverlapMs: integer(env, WORKER_ENV.controlOverlapMs, WORKER_DEFAULTS.controlOverlapMs, 0),
    healthHost: nonEmpty(env[WORKER_ENV.healthHost]) ?? '127.0.0.1',
    healthPort,
    reorderWindowMs: integer(env, WORKER_ENV.reorderWindowMs, WORKER_DEFAULTS.reorderWindowMs, 0),
    upstreamUnavailableAfterMs: integer(
      env,
      WORKER_ENV.upstreamUnavailableAfterMs,
      WORKER_DEFAULTS.upstreamUnavailableAfterMs,
      1,
    ),
    reconnectRatePerSecond: integer(
      env,
      WORKER_ENV.reconnectRatePerSecond,
      WORKER_DEFAULTS.reconnectRatePerSecond,
      0,
    ),
    reconnectBurst: integer(env, WORKER_ENV.reconnectBurst, WORKER_DEFAULTS.reconnectBurst, 1),
    logLevel: logLevel as WorkerConfig['logLevel'],
    ...(dynamodbEndpoint === undefined ? {} : { dynamodbEndpoint }),
    ...(defaultEndpoint === undefined ? {} : { defaultEndpoint }),
    ...(genesysOrigin === undefined ? {} : { genesysOrigin }),
  });
}

function uploadHosts(env: Env): readonly string[] {
  const text = nonEmpty(env[WORKER_ENV.genesysUploadHosts]);
  if (text === undefined) return Object.freeze([]);
  const hosts = text
    .split(',')
    .map((host) => host.trim().toLowerCase())
    .filter((host) => host !== '');
  for (const host of hosts) {
    if (!isUploadHostEntry(host)) {
      throw new WorkerConfigError(
        WORKER_ENV.genesysUploadHosts,
        `${WORKER_ENV.genesysUploadHosts} must list host names (s3.example.com) or domains (.example.com), separated by commas.`,
      );
    }
  }
  return Object.freeze(hosts);
}

function guestTokenKey(env: Env): GuestTokenKeySource {
  const value = nonEmpty(env[WORKER_ENV.guestTokenKey]);
  const arn = nonEmpty(env[WORKER_ENV.guestTokenKeyArn]);
  if (value !== undefined && arn !== undefined) {
    throw new WorkerConfigError(
      WORKER_ENV.guestTokenKey,
      `Set ${WORKER_ENV.guestTokenKey} or ${WORKER_ENV.guestTokenKeyArn}, not both.`,
    );
  }
  if (arn !== undefined) {
    if (!arn.startsWith('arn:')) {
      throw new WorkerConfigError(
        WORKER_ENV.guestTokenKeyArn,
        `${WORKER_ENV.guestTokenKeyArn} must be an ARN.`,
      );
    }
    return Object.freeze({ kind: 'arn', arn });
  }
  if (value === undefined) {
    throw new WorkerConfigError(
      WORKER_ENV.guestTokenKey,
      `Missing ${WORKER_ENV.guestTokenKeyArn} (the cloud) or ${WORKER_ENV.guestTokenKey} (local): the key guest tokens are derived from.`,
    );
  }
  const key = new TextEncoder().encode(value);
  if (key.byteLength < MIN_GUEST_TOKEN_KEY_BYTES) {
    throw new WorkerConfigError(
      WORKER_ENV.guestTokenKey,
      `${WORKER_ENV.guestTokenKey} must be at least ${MIN_GUEST_TOKEN_KEY_BYTES} bytes.`,
    );
  }
  return Object.freeze({ kind: 'value', key });
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed.length === 0 ? undefined : trimmed;
}

function required(env: Env, key: string): string {
  const value = nonEmpty(env[key]);
  if (value === undefined) throw new WorkerConfigError(key, `Missing ${key}.`);
  return value;
}

function integer(env: Env, key: string, fallback: number, min: number): number {
  const text = nonEmpty(env[key]);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new WorkerConfigError(key, `${key} must be an integer ≥ ${min}.`);
  }
  return value;
}

function millis(env: Env, key: string, fallback: number): number {
  return integer(env, key, fallback, 1);
}
