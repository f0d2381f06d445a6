import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/index.js';
import { TeamPolicy } from '../../../src/policy/team-policy.js';
import { TABLE_ENV } from '../../../src/store/tables.js';
import {
  genesysEndpointFromEnv,
  leaseDurationMs,
  loadWorkerConfig,
  WORKER_DEFAULTS,
  WORKER_ENV,
  type WorkerConfig,
  WorkerConfigError,
  type WorkerConfigInput,
  workerConfig,
  workerEnv,
} from '../../../worker/config.js';

/** A complete minimal environment: every value is distinctive, so a leak into a message is detectable. */
const env: Readonly<Record<string, string>> = Object.freeze({
  [TABLE_ENV.sessions]: 'tbl-sessions-7f3a',
  [TABLE_ENV.transcript]: 'tbl-transcript-91c2',
  [TABLE_ENV.connections]: 'tbl-connections-55de',
  [TABLE_ENV.workers]: 'tbl-workers-0b8e',
  AWS_REGION: 'eu-west-1',
  PUBLIC_MANAGEMENT_ENDPOINT: 'https://pub4711.execute-api.eu-west-1.amazonaws.com/prod',
  CONTROL_URL: 'wss://ctl4712.execute-api.eu-west-1.amazonaws.com/prod',
  GUEST_TOKEN_KEY: 'guest-token-key-6d2f-0123456789abcdef',
});

const REQUIRED_KEYS = [
  TABLE_ENV.sessions,
  TABLE_ENV.transcript,
  TABLE_ENV.connections,
  TABLE_ENV.workers,
  'AWS_REGION',
  'PUBLIC_MANAGEMENT_ENDPOINT',
  'CONTROL_URL',
  'GUEST_TOKEN_KEY',
];

/** The WorkerConfigError that loading `overrides` on top of the minimal env throws. */
function refusal(overrides: Record<string, string | undefined>): WorkerConfigError {
  try {
    loadWorkerConfig({ ...env, ...overrides });
  } catch (error) {
    expect(error).toBeInstanceOf(WorkerConfigError);
    return error as WorkerConfigError;
  }
  throw new Error(`expected a WorkerConfigError for ${JSON.stringify(overrides)}`);
}

function expectNoValueIn(message: string, values: Iterable<string | undefined>): void {
  for (const value of values) {
    if (value !== undefined && value.trim() !== '') expect(message).not.toContain(value.trim());
  }
}

describe('loadWorkerConfig: defaults', () => {
  it('loads a complete minimal env with the documented defaults', () => {
    const config = loadWorkerConfig({ ...env, WORKER_ID: 'w-fixed' });
    expect(config).toEqual({
      workerId: 'w-fixed',
      region: 'eu-west-1',
      tables: {
        sessions: 'tbl-sessions-7f3a',
        transcript: 'tbl-transcript-91c2',
        connections: 'tbl-connections-55de',
        workers: 'tbl-workers-0b8e',
      },
      publicManagementEndpoint: env.PUBLIC_MANAGEMENT_ENDPOINT,
      controlUrl: env.CONTROL_URL,
      controlAuth: 'iam',
      heartbeatIntervalMs: WORKER_DEFAULTS.heartbeatIntervalMs,
      staleAfterMs: WORKER_DEFAULTS.staleAfterMs,
      sweepIntervalMs: WORKER_DEFAULTS.sweepIntervalMs,
      connectionsRefreshMs: WORKER_DEFAULTS.connectionsRefreshMs,
      controlPingIntervalMs: WORKER_DEFAULTS.controlPingIntervalMs,
      controlRotateAfterMs: WORKER_DEFAULTS.controlRotateAfterMs,
      controlOverlapMs: WORKER_DEFAULTS.controlOverlapMs,
      healthHost: '127.0.0.1',
      healthPort: WORKER_DEFAULTS.healthPort,
      reorderWindowMs: WORKER_DEFAULTS.reorderWindowMs,
      upstreamUnavailableAfterMs: WORKER_DEFAULTS.upstreamUnavailableAfterMs,
      reconnectRatePerSecond: WORKER_DEFAULTS.reconnectRatePerSecond,
      reconnectBurst: WORKER_DEFAULTS.reconnectBurst,
      logLevel: 'INFO',
      guestTokenKey: { kind: 'value', key: new TextEncoder().encode(env.GUEST_TOKEN_KEY) },
      teamPolicy: expect.any(TeamPolicy),
      uploadHosts: [],
    });
    // Without TEAM_POLICY nothing is allowed upstream.
    expect(config.teamPolicy.forTeam('any').deployments).toEqual([]);
    // Optional keys are absent, not undefined (exactOptionalPropertyTypes).
    expect(Object.hasOwn(config, 'dynamodbEndpoint')).toBe(false);
    expect(Object.hasOwn(config, 'defaultEndpoint')).toBe(false);
    expect(Object.hasOwn(config, 'genesysOrigin')).toBe(false);
  });

  it('keeps the documented default values (stale after 10 s, sweep every 3 s, …)', () => {
    expect(WORKER_DEFAULTS).toEqual({
      heartbeatIntervalMs: 2_000,
      staleAfterMs: 10_000,
      sweepIntervalMs: 3_000,
      connectionsRefreshMs: 60_000,
      controlPingIntervalMs: 300_000,
      controlRotateAfterMs: 6_600_000,
      controlOverlapMs: 5_000,
      healthPort: 8080,
      reorderWindowMs: 300,
      upstreamUnavailableAfterMs: 30_000,
      reconnectRatePerSecond: 150,
      reconnectBurst: 20,
    });
    // DESIGN: a dead worker's sessions move within 15 s (stale + one sweep).
    expect(WORKER_DEFAULTS.staleAfterMs + WORKER_DEFAULTS.sweepIntervalMs).toBeLessThanOrEqual(15_000);
    expect(WORKER_DEFAULTS.staleAfterMs).toBeGreaterThanOrEqual(2 * WORKER_DEFAULTS.heartbeatIntervalMs);
  });

  it('reads every optional key when set', () => {
    const config = loadWorkerConfig({
      ...env,
      WORKER_ID: 'w-1',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      CONTROL_AUTH: 'none',
      HEARTBEAT_INTERVAL_MS: '1000',
      WORKER_STALE_AFTER_MS: '5000',
      SWEEP_INTERVAL_MS: '700',
      CONTROL_PING_INTERVAL_MS: '60000',
      CONTROL_ROTATE_AFTER_MS: '120000',
      CONTROL_OVERLAP_MS: '0',
      HEALTH_HOST: '0.0.0.0',
      HEALTH_PORT: '9090',
      REORDER_WINDOW_MS: '0',
      RECONNECT_RATE_PER_SECOND: '0',
      RECONNECT_BURST: '5',
      GENESYS_ORIGIN: 'https://example.test',
      LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      dynamodbEndpoint: 'http://127.0.0.1:8000',
      controlAuth: 'none',
      heartbeatIntervalMs: 1000,
      staleAfterMs: 5000,
      sweepIntervalMs: 700,
      controlPingIntervalMs: 60000,
      controlRotateAfterMs: 120000,
      controlOverlapMs: 0,
      healthHost: '0.0.0.0',
      healthPort: 9090,
      reorderWindowMs: 0,
      reconnectRatePerSecond: 0,
      reconnectBurst: 5,
      genesysOrigin: 'https://example.test',
      logLevel: 'WARN',
    });
  });

  it('trims values and treats blank ones as absent', () => {
    const config = loadWorkerConfig({
      ...env,
      AWS_REGION: '  eu-west-1  ',
      HEALTH_PORT: '   ',
      LOG_LEVEL: '',
    });
    expect(config.region).toBe('eu-west-1');
    expect(config.healthPort).toBe(WORKER_DEFAULTS.healthPort);
    expect(config.logLevel).toBe('INFO');
  });

  it('returns a frozen config with frozen tables', () => {
    const config = loadWorkerConfig(env);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.tables)).toBe(true);
    expect(() => {
      (config as { workerId: string }).workerId = 'other';
    }).toThrow(TypeError);
    expect(() => {
      (config.tables as { sessions: string }).sessions = 'other';
    }).toThrow(TypeError);
  });

  it('makes up a random WORKER_ID when absent (two loads differ)', () => {
    const a = loadWorkerConfig(env).workerId;
    const b = loadWorkerConfig({ ...env, WORKER_ID: '  ' }).workerId;
    expect(a).toMatch(/^w-[0-9a-f]{12}$/);
    expect(b).toMatch(/^w-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(loadWorkerConfig({ ...env, WORKER_ID: 'worker-7' }).workerId).toBe('worker-7');
  });
});

describe('loadWorkerConfig: required keys', () => {
  it('the test env covers exactly the table env names of TABLE_ENV', () => {
    expect(Object.values(TABLE_ENV).sort()).toEqual(
      REQUIRED_KEYS.filter((key) => key.endsWith('_TABLE')).sort(),
    );
  });

  it.each(REQUIRED_KEYS)('refuses an env without %s, naming the key and no value', (key) => {
    for (const missing of [undefined, '', '   ']) {
      const error = refusal({ [key]: missing });
      expect(error.key).toBe(key);
      expect(error.name).toBe('WorkerConfigError');
      expect(error.message).toContain(key);
      expectNoValueIn(error.message, Object.values(env));
    }
  });
});

describe('loadWorkerConfig: URLs', () => {
  it.each([
    'https://ctl.example.test/prod',
    'http://127.0.0.1:3001',
    'ctl.example.test',
    'WSS://ctl.example.test',
  ])('refuses CONTROL_URL %s (not ws/wss)', (url) => {
    const error = refusal({ CONTROL_URL: url });
    expect(error.key).toBe('CONTROL_URL');
    expect(error.message).not.toContain(url);
  });

  it('accepts ws:// and wss:// CONTROL_URLs', () => {
    expect(loadWorkerConfig({ ...env, CONTROL_URL: 'ws://127.0.0.1:3001' }).controlUrl).toBe(
      'ws://127.0.0.1:3001',
    );
    expect(loadWorkerConfig(env).controlUrl).toBe(env.CONTROL_URL);
  });

  it.each(['wss://pub.example.test/prod', 'pub.example.test', 'ftp://pub.example.test'])(
    'refuses PUBLIC_MANAGEMENT_ENDPOINT %s (not http/https)',
    (url) => {
      const error = refusal({ PUBLIC_MANAGEMENT_ENDPOINT: url });
      expect(error.key).toBe('PUBLIC_MANAGEMENT_ENDPOINT');
      expect(error.message).not.toContain(url);
    },
  );

  it('accepts an http PUBLIC_MANAGEMENT_ENDPOINT (local emulator)', () => {
    expect(
      loadWorkerConfig({ ...env, PUBLIC_MANAGEMENT_ENDPOINT: 'http://127.0.0.1:3000' })
        .publicManagementEndpoint,
    ).toBe('http://127.0.0.1:3000');
  });

  it.each(['localhost:8000', 'ws://127.0.0.1:8000', 'dynamodb'])('refuses DYNAMODB_ENDPOINT %s', (url) => {
    const error = refusal({ DYNAMODB_ENDPOINT: url });
    expect(error.key).toBe('DYNAMODB_ENDPOINT');
    expect(error.message).not.toContain(url);
  });

  it('accepts http(s) DYNAMODB_ENDPOINTs', () => {
    expect(loadWorkerConfig({ ...env, DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' }).dynamodbEndpoint).toBe(
      'http://127.0.0.1:8000',
    );
    expect(
      loadWorkerConfig({ ...env, DYNAMODB_ENDPOINT: 'https://dynamodb.eu-west-1.amazonaws.com' })
        .dynamodbEndpoint,
    ).toBe('https://dynamodb.eu-west-1.amazonaws.com');
  });
});

describe('loadWorkerConfig: CONTROL_AUTH', () => {
  it('defaults to iam for wss:// and none for ws://', () => {
    expect(loadWorkerConfig({ ...env, CONTROL_URL: 'wss://ctl.example.test/prod' }).controlAuth).toBe('iam');
    expect(loadWorkerConfig({ ...env, CONTROL_URL: 'ws://127.0.0.1:3001' }).controlAuth).toBe('none');
  });

  it('an explicit value wins over the scheme', () => {
    expect(
      loadWorkerConfig({ ...env, CONTROL_URL: 'wss://ctl.example.test', CONTROL_AUTH: 'none' }).controlAuth,
    ).toBe('none');
    expect(
      loadWorkerConfig({ ...env, CONTROL_URL: 'ws://127.0.0.1:3001', CONTROL_AUTH: 'iam' }).controlAuth,
    ).toBe('iam');
  });

  it.each(['basic', 'sigv4', 'true'])('refuses CONTROL_AUTH=%s', (value) => {
    const error = refusal({ CONTROL_AUTH: value });
    expect(error.key).toBe('CONTROL_AUTH');
    expect(error.message).not.toContain(value);
  });
});

describe('loadWorkerConfig: numbers', () => {
  it('refuses WORKER_STALE_AFTER_MS below twice HEARTBEAT_INTERVAL_MS', () => {
    expect(refusal({ HEARTBEAT_INTERVAL_MS: '5001' }).key).toBe('WORKER_STALE_AFTER_MS');
    expect(refusal({ HEARTBEAT_INTERVAL_MS: '1000', WORKER_STALE_AFTER_MS: '1999' }).key).toBe(
      'WORKER_STALE_AFTER_MS',
    );
    // Exactly twice is enough when the lease then lasts 1.5 heartbeats (10 s − 2 s = 8 s ≥ 7.5 s).
    expect(loadWorkerConfig({ ...env, HEARTBEAT_INTERVAL_MS: '5000' }).staleAfterMs).toBe(10_000);
  });

  it('refuses a staleness window whose lease would not outlast 1.5 heartbeats', () => {
    // Twice the heartbeat, but the lease (2 s − 1 s) is one heartbeat: it would lapse every cycle.
    expect(refusal({ HEARTBEAT_INTERVAL_MS: '1000', WORKER_STALE_AFTER_MS: '2000' }).key).toBe(
      'WORKER_STALE_AFTER_MS',
    );
    // A zero-length lease used to reach the runtime as a RangeError.
    expect(refusal({ HEARTBEAT_INTERVAL_MS: '500', WORKER_STALE_AFTER_MS: '1000' }).key).toBe(
      'WORKER_STALE_AFTER_MS',
    );
    expect(leaseDurationMs(2_500)).toBe(1_500);
    expect(
      loadWorkerConfig({ ...env, HEARTBEAT_INTERVAL_MS: '400', WORKER_STALE_AFTER_MS: '2500' }).staleAfterMs,
    ).toBe(2_500);
  });

  const MILLIS_KEYS = [
    'HEARTBEAT_INTERVAL_MS',
    'WORKER_STALE_AFTER_MS',
    'SWEEP_INTERVAL_MS',
    'CONNECTIONS_REFRESH_MS',
    'CONTROL_PING_INTERVAL_MS',
    'CONTROL_ROTATE_AFTER_MS',
  ];
  const ZERO_OK_KEYS = [
    'CONTROL_OVERLAP_MS',
    'REORDER_WINDOW_MS',
    'HEALTH_PORT',
    'RECONNECT_RATE_PER_SECOND',
  ];

  it.each([...MILLIS_KEYS, ...ZERO_OK_KEYS])('refuses non-integer and negative %s', (key) => {
    for (const bad of ['1.5', '-1', '-2000', 'abc', '12ms', 'NaN', 'Infinity', '9007199254740993']) {
      const error = refusal({ [key]: bad });
      expect(error.key, `${key}=${bad}`).toBe(key);
      expect(error.message).not.toContain(bad);
    }
  });

  it.each(MILLIS_KEYS)('refuses 0 for the interval %s', (key) => {
    expect(refusal({ [key]: '0' }).key).toBe(key);
  });

  it('allows 0 for CONTROL_OVERLAP_MS and REORDER_WINDOW_MS', () => {
    const config = loadWorkerConfig({ ...env, CONTROL_OVERLAP_MS: '0', REORDER_WINDOW_MS: '0' });
    expect(config.controlOverlapMs).toBe(0);
    expect(config.reorderWindowMs).toBe(0);
  });

  it('allows RECONNECT_RATE_PER_SECOND 0 (no pacing); RECONNECT_BURST must be a whole number >= 1', () => {
    expect(loadWorkerConfig({ ...env, RECONNECT_RATE_PER_SECOND: '0' }).reconnectRatePerSecond).toBe(0);
    for (const bad of ['0', '-1', '1.5', 'many']) {
      expect(refusal({ RECONNECT_BURST: bad }).key, bad).toBe('RECONNECT_BURST');
    }
  });

  it('allows HEALTH_PORT 0 (any free port) and 65535, refuses 65536 and 70000', () => {
    expect(loadWorkerConfig({ ...env, HEALTH_PORT: '0' }).healthPort).toBe(0);
    expect(loadWorkerConfig({ ...env, HEALTH_PORT: '65535' }).healthPort).toBe(65535);
    for (const port of ['65536', '70000']) {
      const error = refusal({ HEALTH_PORT: port });
      expect(error.key).toBe('HEALTH_PORT');
      expect(error.message).not.toContain(port);
    }
  });
});

describe('loadWorkerConfig: LOG_LEVEL', () => {
  it.each([
    ['debug', 'DEBUG'],
    ['Info', 'INFO'],
    ['WARN', 'WARN'],
    ['error', 'ERROR'],
    ['silent', 'SILENT'],
  ])('reads %s as %s', (text, level) => {
    expect(loadWorkerConfig({ ...env, LOG_LEVEL: text }).logLevel).toBe(level);
  });

  it.each(['verbose', 'trace', 'warning'])('refuses %s', (text) => {
    const error = refusal({ LOG_LEVEL: text });
    expect(error.key).toBe('LOG_LEVEL');
  });
});

describe('loadWorkerConfig: Genesys endpoint', () => {
  it('has no defaultEndpoint without Genesys keys', () => {
    const config = loadWorkerConfig(env);
    expect(config.defaultEndpoint).toBeUndefined();
    expect('defaultEndpoint' in config).toBe(false);
  });

  it('GENESYS_REGION (a region name or a domain) sets defaultEndpoint', () => {
    expect(loadWorkerConfig({ ...env, GENESYS_REGION: 'eu_west_1' }).defaultEndpoint).toEqual({
      wsUrl: 'wss://webmessaging.mypurecloud.ie/v1',
      apiUrl: 'https://api.mypurecloud.ie',
    });
    expect(loadWorkerConfig({ ...env, GENESYS_REGION: 'mypurecloud.de' }).defaultEndpoint).toEqual({
      wsUrl: 'wss://webmessaging.mypurecloud.de/v1',
      apiUrl: 'https://api.mypurecloud.de',
    });
  });

  it('GENESYS_WS_URL with GENESYS_API_URL sets an explicit defaultEndpoint', () => {
    expect(
      loadWorkerConfig({
        ...env,
        GENESYS_WS_URL: 'ws://127.0.0.1:4000/v1',
        GENESYS_API_URL: 'http://127.0.0.1:4000',
      }).defaultEndpoint,
    ).toEqual({ wsUrl: 'ws://127.0.0.1:4000/v1', apiUrl: 'http://127.0.0.1:4000' });
  });

  it('refuses GENESYS_WS_URL without GENESYS_API_URL', () => {
    const error = refusal({ GENESYS_WS_URL: 'ws://127.0.0.1:4000/v1' });
    expect(error.key).toBe('GENESYS_API_URL');
    expect(error.message).toContain('GENESYS_API_URL');
    expect(error.message).not.toContain('127.0.0.1:4000');
  });

  it('refuses GENESYS_API_URL without GENESYS_WS_URL', () => {
    const error = refusal({ GENESYS_API_URL: 'http://127.0.0.1:4000' });
    expect(error.key).toBe('GENESYS_WS_URL');
    expect(error.message).toContain('GENESYS_WS_URL');
  });

  it('refuses an unknown GENESYS_REGION without quoting it', () => {
    const error = refusal({ GENESYS_REGION: 'tok_SECRET_1' });
    expect(error.key).toBe('GENESYS_REGION');
    expect(error.message).not.toContain('tok_SECRET_1');
  });

  it('reads the endpoint alone (genesysEndpointFromEnv): explicit URLs win over GENESYS_REGION', () => {
    expect(genesysEndpointFromEnv({})).toBeUndefined();
    expect(
      genesysEndpointFromEnv({
        GENESYS_WS_URL: 'ws://127.0.0.1:1/v1',
        GENESYS_API_URL: 'http://127.0.0.1:1',
        GENESYS_REGION: 'eu_west_1',
      }),
    ).toEqual({ wsUrl: 'ws://127.0.0.1:1/v1', apiUrl: 'http://127.0.0.1:1' });
  });

  it('refuses a malformed GENESYS_WS_URL without quoting it', () => {
    const error = refusal({ GENESYS_WS_URL: 'not-a-url tok_SECRET_2', GENESYS_API_URL: 'http://h' });
    expect(error.key).toBe('GENESYS_WS_URL');
    expect(error.message).not.toContain('tok_SECRET_2');
  });
});

describe('loadWorkerConfig: guest-token key and team policy', () => {
  it('takes GUEST_TOKEN_KEY_ARN instead of a value, and refuses both or a short key, naming the key', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:guest-token-key';
    const config = loadWorkerConfig({ ...env, GUEST_TOKEN_KEY: undefined, GUEST_TOKEN_KEY_ARN: arn });
    expect(config.guestTokenKey).toEqual({ kind: 'arn', arn });
    expect(refusal({ GUEST_TOKEN_KEY_ARN: arn }).key).toBe('GUEST_TOKEN_KEY');
    const short = refusal({ GUEST_TOKEN_KEY: 'short-key-91x' });
    expect(short.key).toBe('GUEST_TOKEN_KEY');
    expect(short.message).not.toContain('short-key-91x');
    expect(refusal({ GUEST_TOKEN_KEY: undefined, GUEST_TOKEN_KEY_ARN: 'not-an-arn' }).key).toBe(
      'GUEST_TOKEN_KEY_ARN',
    );
  });

  it('reads TEAM_POLICY, and refuses a policy that is not JSON or names an unknown region', () => {
    const policy = { teams: { blue: { deployments: [{ id: 'dep-9', region: 'eu_west_1' }] } } };
    const config = loadWorkerConfig({ ...env, TEAM_POLICY: JSON.stringify(policy) });
    expect(config.teamPolicy.allows('blue', 'dep-9', 'mypurecloud.ie')).toBe(true);
    expect(config.teamPolicy.allows('red', 'dep-9', 'mypurecloud.ie')).toBe(false);
    expect(refusal({ TEAM_POLICY: '{not json' }).key).toBe('TEAM_POLICY');
    const unknown = { teams: { blue: { deployments: [{ id: 'dep-9', region: 'attacker.net' }] } } };
    expect(refusal({ TEAM_POLICY: JSON.stringify(unknown) }).message).toMatch(/not a known Genesys region/);
  });

  it('reads GENESYS_UPLOAD_HOSTS as hosts and domains, refusing anything else', () => {
    const config = loadWorkerConfig({ ...env, GENESYS_UPLOAD_HOSTS: 's3.example.com, .Uploads.example.net' });
    expect(config.uploadHosts).toEqual(['s3.example.com', '.uploads.example.net']);
    for (const bad of ['https://s3.example.com', 's3.example.com/path', '*.example.com', 'localhost:9000']) {
      expect(refusal({ GENESYS_UPLOAD_HOSTS: bad }).key).toBe('GENESYS_UPLOAD_HOSTS');
    }
  });
});

describe('WorkerConfigError codes', () => {
  it('is a ConfigError: config_missing naming an absent key', () => {
    const error = refusal({ CONTROL_URL: undefined });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'config_missing', key: 'CONTROL_URL' });
    expect(refusal({ GUEST_TOKEN_KEY: undefined })).toMatchObject({
      code: 'config_missing',
      key: 'GUEST_TOKEN_KEY',
    });
    expect(refusal({ GENESYS_WS_URL: 'ws://127.0.0.1:4000/v1' })).toMatchObject({
      code: 'config_missing',
      key: 'GENESYS_API_URL',
    });
  });

  it('config_invalid for a bad value, config_conflict for both forms of the guest-token key', () => {
    for (const [key, value] of [
      ['HEALTH_PORT', '70000'],
      ['LOG_LEVEL', 'verbose'],
      ['CONTROL_URL', 'https://h'],
      ['GENESYS_REGION', 'mars_north_1'],
      ['TEAM_POLICY', '{'],
    ]) {
      expect(refusal({ [key as string]: value }), key).toMatchObject({ code: 'config_invalid', key });
    }
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k';
    const both = refusal({ GUEST_TOKEN_KEY_ARN: arn });
    expect(both).toMatchObject({ code: 'config_conflict', key: 'GUEST_TOKEN_KEY' });
    expect(both.message).toContain('GUEST_TOKEN_KEY_ARN');
  });
});

const KEY = new TextEncoder().encode(env.GUEST_TOKEN_KEY);

/** The least workerConfig takes: what `env` says. */
const input: WorkerConfigInput = Object.freeze<WorkerConfigInput>({
  region: 'eu-west-1',
  tables: {
    sessions: 'tbl-sessions-7f3a',
    transcript: 'tbl-transcript-91c2',
    connections: 'tbl-connections-55de',
    workers: 'tbl-workers-0b8e',
  },
  publicManagementEndpoint: env.PUBLIC_MANAGEMENT_ENDPOINT as string,
  controlUrl: env.CONTROL_URL as string,
  guestTokenKey: { kind: 'value', key: KEY },
  teamPolicy: TeamPolicy.none(),
});

/** A config as plain data, the team policy as its document (TeamPolicy keeps its rules private). */
function plain(config: WorkerConfig): unknown {
  return { ...config, teamPolicy: config.teamPolicy.toJSON() };
}

describe('workerConfig (in code)', () => {
  it('fills the defaults as loadWorkerConfig does', () => {
    const config = workerConfig({ ...input, workerId: 'w-fixed' });
    expect(plain(config)).toEqual(plain(loadWorkerConfig({ ...env, WORKER_ID: 'w-fixed' })));
    expect(workerConfig(input).workerId).toMatch(/^w-[0-9a-f]{12}$/);
    expect(workerConfig({ ...input, controlUrl: 'ws://127.0.0.1:3001' }).controlAuth).toBe('none');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.tables)).toBe(true);
    expect(Object.hasOwn(config, 'defaultEndpoint')).toBe(false);
  });

  it('holds every rule, naming the environment variable an operator would set', () => {
    const cases: [Partial<WorkerConfigInput>, string, string][] = [
      [{ heartbeatIntervalMs: 5_001 }, 'WORKER_STALE_AFTER_MS', 'config_invalid'],
      [{ heartbeatIntervalMs: 1_000, staleAfterMs: 2_000 }, 'WORKER_STALE_AFTER_MS', 'config_invalid'],
      [{ healthPort: 65_536 }, 'HEALTH_PORT', 'config_invalid'],
      [{ reconnectBurst: 0 }, 'RECONNECT_BURST', 'config_invalid'],
      [{ sweepIntervalMs: 0.5 }, 'SWEEP_INTERVAL_MS', 'config_invalid'],
      [{ controlUrl: 'https://h' }, 'CONTROL_URL', 'config_invalid'],
      [{ controlAuth: 'sigv4' as 'iam' }, 'CONTROL_AUTH', 'config_invalid'],
      [{ logLevel: 'info' as 'INFO' }, 'LOG_LEVEL', 'config_invalid'],
      [{ publicManagementEndpoint: '' }, 'PUBLIC_MANAGEMENT_ENDPOINT', 'config_missing'],
      [{ dynamodbEndpoint: 'dynamodb' }, 'DYNAMODB_ENDPOINT', 'config_invalid'],
      [{ region: ' ' }, 'AWS_REGION', 'config_missing'],
      [{ tables: { ...input.tables, sessions: '' } }, 'SESSIONS_TABLE', 'config_missing'],
      [{ guestTokenKey: { kind: 'value', key: new Uint8Array(31) } }, 'GUEST_TOKEN_KEY', 'config_invalid'],
      [{ guestTokenKey: { kind: 'arn', arn: 'name' } }, 'GUEST_TOKEN_KEY_ARN', 'config_invalid'],
      [{ uploadHosts: ['https://s3.example.com'] }, 'GENESYS_UPLOAD_HOSTS', 'config_invalid'],
      [{ defaultEndpoint: { wsUrl: 'http://h/v1', apiUrl: 'http://h' } }, 'GENESYS_WS_URL', 'config_invalid'],
      [
        { defaultEndpoint: { wsUrl: 'ws://h/v1', apiUrl: 'http://h?x=1' } },
        'GENESYS_API_URL',
        'config_invalid',
      ],
    ];
    for (const [change, key, code] of cases) {
      let error: unknown;
      try {
        workerConfig({ ...input, ...change });
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(change)).toBeInstanceOf(WorkerConfigError);
      expect(error, JSON.stringify(change)).toMatchObject({ key, code });
    }
  });

  it('normalises what the environment would: upload hosts lower-cased, endpoint URLs without a trailing slash', () => {
    const config = workerConfig({
      ...input,
      uploadHosts: [' S3.Example.com '],
      defaultEndpoint: { wsUrl: 'ws://127.0.0.1:4000/v1/', apiUrl: 'http://127.0.0.1:4000/' },
    });
    expect(config.uploadHosts).toEqual(['s3.example.com']);
    expect(config.defaultEndpoint).toEqual({
      wsUrl: 'ws://127.0.0.1:4000/v1',
      apiUrl: 'http://127.0.0.1:4000',
    });
  });
});

describe('workerEnv', () => {
  const full = workerConfig({
    ...input,
    workerId: 'w-every-field',
    dynamodbEndpoint: 'http://127.0.0.1:8000',
    controlUrl: 'ws://127.0.0.1:3001',
    controlAuth: 'iam',
    heartbeatIntervalMs: 1_000,
    staleAfterMs: 5_000,
    sweepIntervalMs: 700,
    connectionsRefreshMs: 30_000,
    controlPingIntervalMs: 60_000,
    controlRotateAfterMs: 120_000,
    controlOverlapMs: 0,
    healthHost: '0.0.0.0',
    healthPort: 0,
    reorderWindowMs: 0,
    upstreamUnavailableAfterMs: 10_000,
    reconnectRatePerSecond: 0,
    reconnectBurst: 5,
    defaultEndpoint: { wsUrl: 'ws://127.0.0.1:4000/v1', apiUrl: 'http://127.0.0.1:4000' },
    genesysOrigin: 'https://example.test',
    logLevel: 'DEBUG',
    uploadHosts: ['s3.example.com', '.uploads.example.net'],
    teamPolicy: TeamPolicy.from({
      defaults: { idleTimeoutSeconds: 600 },
      teams: {
        blue: { deployments: [{ id: 'dep-9', region: 'eu_west_1' }], quotas: { openSessionsPerTeam: 3 } },
      },
    }),
  });

  it('is the inverse of loadWorkerConfig, for a config with every optional field set and one with none', () => {
    for (const config of [full, workerConfig(input)]) {
      expect(plain(loadWorkerConfig(workerEnv(config)))).toEqual(plain(config));
    }
    const arn = workerConfig({ ...input, guestTokenKey: { kind: 'arn', arn: 'arn:aws:secretsmanager:x' } });
    expect(plain(loadWorkerConfig(workerEnv(arn)))).toEqual(plain(arn));
  });

  it('writes every declared key, blank for an absent field, so the parent environment cannot fill one in', () => {
    const written = workerEnv(workerConfig(input));
    expect(Object.keys(written).sort()).toEqual(
      [...Object.values(WORKER_ENV), ...Object.values(TABLE_ENV)].sort(),
    );
    expect(written[WORKER_ENV.genesysRegion]).toBe('');
    expect(written[WORKER_ENV.guestTokenKeyArn]).toBe('');
    const inherited = { GENESYS_REGION: 'eu_west_1', GUEST_TOKEN_KEY_ARN: 'arn:aws:x', ...written };
    expect(loadWorkerConfig(inherited).defaultEndpoint).toBeUndefined();
  });

  it('refuses a guest-token key that is not text, naming GUEST_TOKEN_KEY', () => {
    const binary = workerConfig({
      ...input,
      guestTokenKey: { kind: 'value', key: new Uint8Array(32).fill(0xff) },
    });
    expect(() => workerEnv(binary)).toThrow(expect.objectContaining({ key: 'GUEST_TOKEN_KEY' }));
  });
});
