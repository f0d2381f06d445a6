import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/index.js';
import { TeamPolicy } from '../../../src/policy/team-policy.js';
import {
  DEFAULT_WORKER_STALE_AFTER_MS,
  loadRelayConfig,
  RelayConfigError,
  relayConfig,
} from '../../../src/relay/config.js';

const env = {
  SESSIONS_TABLE: 's',
  TRANSCRIPT_TABLE: 't',
  CONNECTIONS_TABLE: 'c',
  WORKERS_TABLE: 'w',
  PUBLIC_MANAGEMENT_ENDPOINT: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
  CONTROL_MANAGEMENT_ENDPOINT: 'https://def.execute-api.eu-west-1.amazonaws.com/prod',
  AWS_REGION: 'eu-west-1',
};

describe('loadRelayConfig', () => {
  it('reads a complete environment into a frozen config with defaults', () => {
    const config = loadRelayConfig(env);
    expect(config).toEqual({
      tables: { sessions: 's', transcript: 't', connections: 'c', workers: 'w' },
      publicManagementEndpoint: env.PUBLIC_MANAGEMENT_ENDPOINT,
      controlManagementEndpoint: env.CONTROL_MANAGEMENT_ENDPOINT,
      region: 'eu-west-1',
      workerStaleAfterMs: DEFAULT_WORKER_STALE_AFTER_MS,
      teamPolicy: expect.any(TeamPolicy),
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.tables)).toBe(true);
  });

  it('takes the optional DynamoDB endpoint and staleness window', () => {
    const config = loadRelayConfig({
      ...env,
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      WORKER_STALE_AFTER_MS: '5000',
    });
    expect(config.dynamodbEndpoint).toBe('http://127.0.0.1:8000');
    expect(config.workerStaleAfterMs).toBe(5000);
  });

  it.each(Object.keys(env))('fails naming %s when it is missing', (key) => {
    const partial = { ...env, [key]: '' };
    expect(() => loadRelayConfig(partial)).toThrow(RelayConfigError);
    try {
      loadRelayConfig(partial);
    } catch (error) {
      expect((error as RelayConfigError).key).toBe(key);
      expect((error as Error).message).toContain(key);
    }
  });

  it.each([
    ['PUBLIC_MANAGEMENT_ENDPOINT', 'wss://nope'],
    ['DYNAMODB_ENDPOINT', 'localhost:8000'],
    ['TEAM_POLICY', '{"teams":{"blue":{"deployments":[{"id":"d","region":"attacker.net"}]}}}'],
    ['WORKER_STALE_AFTER_MS', '-1'],
    ['WORKER_STALE_AFTER_MS', 'soon'],
  ])('refuses a bad %s', (key, value) => {
    expect(() => loadRelayConfig({ ...env, [key]: value })).toThrow(new RegExp(key));
  });
});

describe('RelayConfigError codes', () => {
  it('is a ConfigError: config_missing for an absent key, config_invalid for a bad one', () => {
    const missing = (() => {
      try {
        return loadRelayConfig({ ...env, AWS_REGION: ' ' });
      } catch (error) {
        return error;
      }
    })();
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing).toMatchObject({ name: 'RelayConfigError', code: 'config_missing', key: 'AWS_REGION' });
    expect(() => loadRelayConfig({ ...env, WORKER_STALE_AFTER_MS: '0' })).toThrow(
      expect.objectContaining({ code: 'config_invalid', key: 'WORKER_STALE_AFTER_MS' }),
    );
    expect(() => loadRelayConfig({ ...env, TEAM_POLICY: '{' })).toThrow(
      expect.objectContaining({ code: 'config_invalid', key: 'TEAM_POLICY' }),
    );
  });
});

describe('relayConfig (in code)', () => {
  const input = {
    tables: { sessions: 's', transcript: 't', connections: 'c', workers: 'w' },
    publicManagementEndpoint: env.PUBLIC_MANAGEMENT_ENDPOINT,
    controlManagementEndpoint: env.CONTROL_MANAGEMENT_ENDPOINT,
    region: 'eu-west-1',
    teamPolicy: TeamPolicy.none(),
  };

  it('equals loadRelayConfig of the same values, with the default staleness window', () => {
    const config = relayConfig(input);
    expect(config).toEqual(loadRelayConfig(env));
    expect(config.workerStaleAfterMs).toBe(DEFAULT_WORKER_STALE_AFTER_MS);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.hasOwn(config, 'dynamodbEndpoint')).toBe(false);
    expect(
      relayConfig({ ...input, dynamodbEndpoint: 'http://127.0.0.1:8000', workerStaleAfterMs: 5000 }),
    ).toMatchObject({ dynamodbEndpoint: 'http://127.0.0.1:8000', workerStaleAfterMs: 5000 });
  });

  it.each([
    [{ publicManagementEndpoint: 'wss://nope' }, 'PUBLIC_MANAGEMENT_ENDPOINT', 'config_invalid'],
    [{ controlManagementEndpoint: '' }, 'CONTROL_MANAGEMENT_ENDPOINT', 'config_missing'],
    [{ dynamodbEndpoint: 'localhost:8000' }, 'DYNAMODB_ENDPOINT', 'config_invalid'],
    [{ workerStaleAfterMs: 1.5 }, 'WORKER_STALE_AFTER_MS', 'config_invalid'],
    [{ region: '' }, 'AWS_REGION', 'config_missing'],
    [{ tables: { ...input.tables, workers: '' } }, 'WORKERS_TABLE', 'config_missing'],
  ])('refuses %j naming the environment variable %s (%s)', (change, key, code) => {
    expect(() => relayConfig({ ...input, ...change })).toThrow(expect.objectContaining({ key, code }));
  });
});
