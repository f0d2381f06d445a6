/**
 * The relay Lambdas' configuration, read once per cold start from the environment. Typed and frozen; a
 * missing or bad value fails at start with a RelayConfigError naming the key (never showing a value).
 */
import { TEAM_POLICY_ENV, TeamPolicy } from '../policy/team-policy.js';
import { TABLE_ENV, type TableKey, type TableNames } from '../store/tables.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The environment variables the relay reads besides the table names (TABLE_ENV). infra/ imports these. */
export const RELAY_ENV = Object.freeze({
  publicManagementEndpoint: 'PUBLIC_MANAGEMENT_ENDPOINT',
  controlManagementEndpoint: 'CONTROL_MANAGEMENT_ENDPOINT',
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  region: 'AWS_REGION',
  workerStaleAfterMs: 'WORKER_STALE_AFTER_MS',
  teamPolicy: TEAM_POLICY_ENV,
});

export const DEFAULT_WORKER_STALE_AFTER_MS = 10_000;

export interface RelayConfig {
  readonly tables: TableNames;
  /** The public API's `@connections` endpoint (stage callback URL): answers and replays. */
  readonly publicManagementEndpoint: string;
  /** The control API's `@connections` endpoint: the workers' doorbells. */
  readonly controlManagementEndpoint: string;
  /** Local engines only (dynalite, DynamoDB Local); absent in AWS. */
  readonly dynamodbEndpoint?: string;
  readonly region: string;
  /** A worker whose heartbeat is older than this is not live. */
  readonly workerStaleAfterMs: number;
  /** Which deployments each team may open, its quotas (TEAM_POLICY; none set: nothing is allowed). */
  readonly teamPolicy: TeamPolicy;
}

export class RelayConfigError extends Error {
  override readonly name = 'RelayConfigError';
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.key = key;
  }
}

export function loadRelayConfig(env: Env): RelayConfig {
  const tables = Object.fromEntries(
    (Object.keys(TABLE_ENV) as TableKey[]).map((key) => [key, required(env, TABLE_ENV[key])]),
  ) as Record<TableKey, string>;
  const publicManagementEndpoint = url(env, RELAY_ENV.publicManagementEndpoint);
  const controlManagementEndpoint = url(env, RELAY_ENV.controlManagementEndpoint);
  const dynamodbEndpoint = nonEmpty(env[RELAY_ENV.dynamodbEndpoint]);
  if (dynamodbEndpoint !== undefined && !/^https?:\/\//.test(dynamodbEndpoint)) {
    throw new RelayConfigError(
      RELAY_ENV.dynamodbEndpoint,
      `${RELAY_ENV.dynamodbEndpoint} must be an http(s) URL.`,
    );
  }
  const region = required(env, RELAY_ENV.region);
  const staleText = nonEmpty(env[RELAY_ENV.workerStaleAfterMs]);
  const workerStaleAfterMs = staleText === undefined ? DEFAULT_WORKER_STALE_AFTER_MS : Number(staleText);
  if (!Number.isSafeInteger(workerStaleAfterMs) || workerStaleAfterMs < 1) {
    throw new RelayConfigError(
      RELAY_ENV.workerStaleAfterMs,
      `${RELAY_ENV.workerStaleAfterMs} must be a positive integer (milliseconds).`,
    );
  }
  let teamPolicy: TeamPolicy;
  try {
    teamPolicy = TeamPolicy.fromEnv(env);
  } catch (error) {
    throw new RelayConfigError(RELAY_ENV.teamPolicy, (error as Error).message);
  }
  return Object.freeze({
    teamPolicy,
    tables: Object.freeze(tables),
    publicManagementEndpoint,
    controlManagementEndpoint,
    region,
    workerStaleAfterMs,
    ...(dynamodbEndpoint === undefined ? {} : { dynamodbEndpoint }),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed.length === 0 ? undefined : trimmed;
}

function required(env: Env, key: string): string {
  const value = nonEmpty(env[key]);
  if (value === undefined) throw new RelayConfigError(key, `Missing ${key}.`);
  return value;
}

function url(env: Env, key: string): string {
  const value = required(env, key);
  if (!/^https?:\/\//.test(value)) throw new RelayConfigError(key, `${key} must be an http(s) URL.`);
  return value;
}
