/**
 * The relay Lambdas' configuration, read once per cold start from the environment (`loadRelayConfig`)
 * or given in code (`relayConfig`). Typed and frozen; a missing or bad value fails at start with a
 * RelayConfigError naming the key (never showing a value).
 */
import {
  type ConfigChecks,
  ConfigError,
  type ConfigErrorClass,
  configChecks,
  type Env,
  numberFrom,
  optional,
} from '../config/index.js';
import { TEAM_POLICY_ENV, TeamPolicy } from '../policy/team-policy.js';
import { TABLE_ENV, type TableKey, type TableNames } from '../store/tables.js';

export type { Env } from '../config/index.js';

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

/** RelayConfig as given in code: the staleness window may be left to its default. */
export type RelayConfigInput = Omit<RelayConfig, 'dynamodbEndpoint' | 'workerStaleAfterMs'> & {
  readonly dynamodbEndpoint?: string | undefined;
  /** Default DEFAULT_WORKER_STALE_AFTER_MS. */
  readonly workerStaleAfterMs?: number | undefined;
};

export class RelayConfigError extends ConfigError {
  override readonly name = 'RelayConfigError';
}

const check = configChecks(RelayConfigError);

/**
 * What the Lambdas and the workers both read: the table names (TABLE_ENV, blank when unset; the typed
 * constructor refuses a blank one naming its key) and the team policy (TEAM_POLICY), refused with the
 * caller's error class.
 */
export function sharedFromEnv(
  env: Env,
  ErrorClass: ConfigErrorClass,
): { readonly tables: Record<TableKey, string>; readonly teamPolicy: TeamPolicy } {
  let teamPolicy: TeamPolicy;
  try {
    teamPolicy = TeamPolicy.fromEnv(env);
  } catch (error) {
    throw new ErrorClass(TEAM_POLICY_ENV, (error as Error).message, { cause: error });
  }
  const tables = Object.fromEntries(
    (Object.keys(TABLE_ENV) as TableKey[]).map((key) => [key, optional(env, TABLE_ENV[key]) ?? '']),
  ) as Record<TableKey, string>;
  return { tables, teamPolicy };
}

/** Every table named, or `config_missing` naming the table's TABLE_ENV key. */
export function checkedTableNames(tables: TableNames, check: ConfigChecks): TableNames {
  return Object.freeze(
    Object.fromEntries(
      (Object.keys(TABLE_ENV) as TableKey[]).map((key) => [key, check.required(tables[key], TABLE_ENV[key])]),
    ) as Record<TableKey, string>,
  );
}

/** Parses the environment's strings, then `relayConfig` checks them. */
export function loadRelayConfig(env: Env): RelayConfig {
  const { tables, teamPolicy } = sharedFromEnv(env, RelayConfigError);
  return relayConfig({
    tables,
    publicManagementEndpoint: optional(env, RELAY_ENV.publicManagementEndpoint) ?? '',
    controlManagementEndpoint: optional(env, RELAY_ENV.controlManagementEndpoint) ?? '',
    dynamodbEndpoint: optional(env, RELAY_ENV.dynamodbEndpoint),
    region: optional(env, RELAY_ENV.region) ?? '',
    workerStaleAfterMs: numberFrom(env, RELAY_ENV.workerStaleAfterMs),
    teamPolicy,
  });
}

/** The relay's configuration in code (`createSystem`): the rules of the environment, errors naming its keys. */
export function relayConfig(input: RelayConfigInput): RelayConfig {
  const tables = checkedTableNames(input.tables, check);
  const dynamodbEndpoint =
    input.dynamodbEndpoint === undefined
      ? undefined
      : check.httpUrl(input.dynamodbEndpoint, RELAY_ENV.dynamodbEndpoint);
  return Object.freeze({
    tables,
    publicManagementEndpoint: check.httpUrl(
      input.publicManagementEndpoint,
      RELAY_ENV.publicManagementEndpoint,
    ),
    controlManagementEndpoint: check.httpUrl(
      input.controlManagementEndpoint,
      RELAY_ENV.controlManagementEndpoint,
    ),
    region: check.required(input.region, RELAY_ENV.region),
    workerStaleAfterMs: check.millis(
      input.workerStaleAfterMs,
      RELAY_ENV.workerStaleAfterMs,
      DEFAULT_WORKER_STALE_AFTER_MS,
    ),
    teamPolicy: input.teamPolicy,
    ...(dynamodbEndpoint === undefined ? {} : { dynamodbEndpoint }),
  });
}
