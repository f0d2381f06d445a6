/**
 * The environment, from both ends: every variable the stack sets is one the code that runs there
 * declares (AUTH_ENV, RELAY_ENV, WORKER_ENV, TABLE_ENV; TEAM_POLICY is in the last two), so a misspelt
 * or forgotten key cannot deploy silently; and every declared key is read by its loader, so a
 * declaration cannot outlive its reader (GENESYS_OAUTH_SECRET_ARN was set and read by nothing).
 */
import { fileURLToPath } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { AUTH_ENV, loadAuthConfig } from '../../src/auth/config.js';
import { ConfigError, type Env } from '../../src/config/index.js';
import { TEAM_POLICY_ENV } from '../../src/policy/team-policy.js';
import { loadRelayConfig, RELAY_ENV } from '../../src/relay/config.js';
import { TABLE_ENV } from '../../src/store/tables.js';
import { loadWorkerConfig, WORKER_ENV } from '../../worker/config.js';
import { environments, fastApp, type Resources } from './template.js';

const TEAM_POLICY_FILE = fileURLToPath(new URL('../fixtures/team-policy.json', import.meta.url));

/**
 * Keys no loader of ours reads, each with its reader: Node.js itself. (The AWS_* keys a loader reads,
 * such as AWS_REGION, are set by Lambda and ECS, not by the stack.)
 */
const RUNTIME_KEYS: Readonly<Record<string, string>> = {
  NODE_OPTIONS: 'Node.js: source maps on the Lambdas, the heap ceiling on the worker',
};

const values = (...maps: Readonly<Record<string, string>>[]) => maps.flatMap((map) => Object.values(map));

/** What each principal's code declares, by the prefix of its construct id (infra/stack.ts). */
const DECLARED: readonly (readonly [prefix: string, reader: string, keys: readonly string[]])[] = [
  ['Authorizer', 'loadAuthConfig', values(AUTH_ENV)],
  ['Route', 'loadRelayConfig', values(RELAY_ENV, TABLE_ENV)],
  // src/control's handler takes no configuration.
  ['Control', 'nothing', []],
];

describe('the environment the stack sets', () => {
  let lambdas: ReturnType<typeof environments>['lambdas'];
  let worker: ReturnType<typeof environments>['worker'];
  beforeAll(() => {
    const { stack } = buildApp(fastApp({ teamPolicyFile: TEAM_POLICY_FILE }));
    ({ lambdas, worker } = environments(Template.fromStack(stack).toJSON().Resources as Resources));
  });

  it('sets on each Lambda only keys its loader declares, or Node.js keys', () => {
    expect(lambdas.length).toBeGreaterThan(0);
    for (const [id, env] of lambdas) {
      const declared = DECLARED.find(([prefix]) => id.startsWith(prefix));
      expect(declared, `${id}: a Lambda of no known kind`).toBeDefined();
      const [, reader, keys] = declared as (typeof DECLARED)[number];
      const undeclared = Object.keys(env).filter((key) => !keys.includes(key) && !(key in RUNTIME_KEYS));
      expect(undeclared, `${id} sets keys ${reader} does not declare`).toEqual([]);
    }
    // The check sees real keys: the routes get their tables and the team policy.
    const route = lambdas.find(([id]) => id.startsWith('Route'))?.[1] ?? {};
    expect(Object.keys(route)).toEqual(expect.arrayContaining([TABLE_ENV.sessions, TEAM_POLICY_ENV]));
  });

  it('sets on the worker only keys WORKER_ENV or TABLE_ENV declare, or Node.js keys', () => {
    const keys = values(WORKER_ENV, TABLE_ENV);
    expect(Object.keys(worker).filter((key) => !keys.includes(key) && !(key in RUNTIME_KEYS))).toEqual([]);
    expect(Object.keys(worker)).toEqual(
      expect.arrayContaining([WORKER_ENV.genesysRegion, WORKER_ENV.guestTokenKeyArn, TEAM_POLICY_ENV]),
    );
  });
});

/**
 * Whether `load` reads `key`: on top of `base` (which loads), the key removed when `base` sets it, or set
 * to a probe value when not, must change the outcome: a ConfigError that names the key, or another
 * config. A loader that never looks at the key gives the same config and fails this.
 */
function reads(load: (env: Env) => unknown, base: Env, key: string): boolean {
  const before = JSON.stringify(load(base));
  const probe = { ...base, [key]: base[key] === undefined ? 'probe-value' : undefined };
  try {
    return JSON.stringify(load(probe)) !== before;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.key === key || new RegExp(`\\b${key}\\b`).test(error.message);
  }
}

const TABLES: Env = {
  [TABLE_ENV.sessions]: 'sessions',
  [TABLE_ENV.transcript]: 'transcript',
  [TABLE_ENV.connections]: 'connections',
  [TABLE_ENV.workers]: 'workers',
};

const LOADERS: readonly (readonly [string, (env: Env) => unknown, Env, readonly string[]])[] = [
  [
    'loadAuthConfig',
    loadAuthConfig,
    { [AUTH_ENV.secret]: 'a-signing-secret-of-at-least-32-bytes!', [AUTH_ENV.audience]: 'guest-relay' },
    values(AUTH_ENV),
  ],
  [
    'loadRelayConfig',
    loadRelayConfig,
    {
      ...TABLES,
      [RELAY_ENV.publicManagementEndpoint]: 'https://public.example.test/live',
      [RELAY_ENV.controlManagementEndpoint]: 'https://control.example.test/live',
      [RELAY_ENV.region]: 'eu-west-1',
    },
    values(RELAY_ENV, TABLE_ENV),
  ],
  [
    'loadWorkerConfig',
    loadWorkerConfig,
    {
      ...TABLES,
      [WORKER_ENV.workerId]: 'w-probe',
      [WORKER_ENV.region]: 'eu-west-1',
      [WORKER_ENV.publicManagementEndpoint]: 'https://public.example.test/live',
      [WORKER_ENV.controlUrl]: 'wss://control.example.test/live',
      [WORKER_ENV.guestTokenKey]: 'a-guest-token-key-of-at-least-32-bytes',
    },
    values(WORKER_ENV, TABLE_ENV),
  ],
];

describe('the declared keys', () => {
  it.each(LOADERS.flatMap(([name, load, base, keys]) => keys.map((key) => [name, key, load, base] as const)))(
    '%s reads %s',
    (_, key, load, base) => {
      expect(reads(load, base, key)).toBe(true);
    },
  );

  it('the probe fails a loader that ignores a key', () => {
    const [, , base] = LOADERS[1] as (typeof LOADERS)[number];
    const ignoring = (env: Env) => loadRelayConfig({ ...env, [RELAY_ENV.dynamodbEndpoint]: undefined });
    expect(reads(ignoring, base, RELAY_ENV.dynamodbEndpoint)).toBe(false);
    expect(reads(loadRelayConfig, base, RELAY_ENV.dynamodbEndpoint)).toBe(true);
  });
});
