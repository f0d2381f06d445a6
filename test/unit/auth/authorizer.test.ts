import { describe, expect, it } from 'vitest';
import { createAuthorizer, type WebSocketAuthorizerEvent } from '../../../src/auth/authorizer.js';
import { loadAuthConfig } from '../../../src/auth/config.js';
import { AuthConfigError } from '../../../src/auth/errors.js';
import { mintAccessToken } from '../../../src/auth/tokens.js';

const secretText = Buffer.alloc(32, 3).toString('base64');
const secret = new Uint8Array(Buffer.alloc(32, 3));
const now = Date.UTC(2025, 0, 1);
const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/$connect';

function recordingLogger() {
  const lines: { level: string; message: string; extra: unknown[] }[] = [];
  const log =
    (level: string) =>
    (message: string, ...extra: unknown[]) =>
      lines.push({ level, message, extra });
  return { lines, logger: { info: log('info'), warn: log('warn'), error: log('error') } };
}

function setup(
  env: Record<string, string> = { ACCESS_TOKEN_SECRET: secretText, ACCESS_TOKEN_AUDIENCE: 'guest-relay' },
) {
  const { lines, logger } = recordingLogger();
  const authorize = createAuthorizer({ config: loadAuthConfig(env), logger, now: () => now });
  return { lines, authorize };
}

const eventWith = (token?: string): WebSocketAuthorizerEvent => ({
  type: 'REQUEST',
  methodArn,
  queryStringParameters: token === undefined ? {} : { token },
});

describe('createAuthorizer', () => {
  it('allows a valid token with its team, role and subject as context', async () => {
    const { authorize, lines } = setup();
    const token = await mintAccessToken({ team: 'acme', role: 'guest', subject: 'u-1' }, { secret, now });
    await expect(authorize(eventWith(token))).resolves.toEqual({
      principalId: 'acme/guest/u-1',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
      },
      // The token's expiry travels with the connection (the relay closes it then).
      context: {
        team: 'acme',
        role: 'guest',
        subject: 'u-1',
        expiresAt: (Math.floor(now / 1000) + 3600) * 1000,
      },
    });
    expect(JSON.stringify(lines)).not.toContain(token);
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'access allowed',
        extra: [expect.objectContaining({ team: 'acme' })],
      }),
    );
  });

  it('denies a bad token and logs the reason code, not the token', async () => {
    const { authorize, lines } = setup();
    const token = await mintAccessToken({ team: 'acme', role: 'guest' }, { secret, now: now - 7_200_000 });
    const policy = await authorize(eventWith(token));
    expect(policy.policyDocument.Statement[0].Effect).toBe('Deny');
    expect(policy.policyDocument.Statement[0].Resource).toBe(methodArn);
    expect(policy.context).toBeUndefined();
    expect(JSON.stringify(lines)).toContain('AUTH_EXPIRED');
    expect(JSON.stringify(lines)).not.toContain(token);
  });

  it('throws Unauthorized (API Gateway 401) when there is no token', async () => {
    const { authorize } = setup();
    await expect(authorize(eventWith())).rejects.toThrow(/^Unauthorized$/);
    await expect(authorize(eventWith(''))).rejects.toThrow(/^Unauthorized$/);
    await expect(authorize({ type: 'REQUEST', methodArn, queryStringParameters: null })).rejects.toThrow(
      /^Unauthorized$/,
    );
  });

  it('loads an ARN secret once through the injected loader, with a rotation pair', async () => {
    const { logger } = recordingLogger();
    const calls: string[] = [];
    const previous = new Uint8Array(Buffer.alloc(32, 5));
    const authorize = createAuthorizer({
      config: loadAuthConfig({
        ACCESS_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:x',
        ACCESS_TOKEN_AUDIENCE: 'guest-relay',
      }),
      loadSecret: async (arn) => {
        calls.push(arn);
        return JSON.stringify({ current: secretText, previous: Buffer.from(previous).toString('base64') });
      },
      logger,
      now: () => now,
    });
    const old = await mintAccessToken({ team: 'acme', role: 'admin' }, { secret: previous, now });
    const fresh = await mintAccessToken({ team: 'acme', role: 'admin' }, { secret, now });
    expect((await authorize(eventWith(old))).policyDocument.Statement[0].Effect).toBe('Allow');
    expect((await authorize(eventWith(fresh))).policyDocument.Statement[0].Effect).toBe('Allow');
    expect(calls).toHaveLength(1);
  });

  it('fails clearly when an ARN is configured but no loader is wired', async () => {
    const { authorize } = setup({
      ACCESS_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:x',
      ACCESS_TOKEN_AUDIENCE: 'a',
    });
    await expect(authorize(eventWith('a.b.c'))).rejects.toBeInstanceOf(AuthConfigError);
  });
});

describe('createAuthorizer: the signing keys read from Secrets Manager', () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:x';
  const keyA = new Uint8Array(Buffer.alloc(32, 7));
  const keyB = new Uint8Array(Buffer.alloc(32, 9));
  const text = (key: Uint8Array) => Buffer.from(key).toString('base64');

  /** An authorizer on a clock the test moves, with a loader whose answer (or failure) the test sets. */
  function rotating(env: Record<string, string> = {}) {
    const clock = { now };
    const secretStore: { value: string | Error } = { value: text(keyA) };
    const reads: number[] = [];
    const { lines, logger } = recordingLogger();
    const authorize = createAuthorizer({
      config: loadAuthConfig({ ACCESS_TOKEN_SECRET_ARN: arn, ACCESS_TOKEN_AUDIENCE: 'guest-relay', ...env }),
      loadSecret: async () => {
        reads.push(clock.now);
        if (secretStore.value instanceof Error) throw secretStore.value;
        return secretStore.value;
      },
      logger,
      now: () => clock.now,
    });
    const effect = async (key: Uint8Array) => {
      const token = await mintAccessToken(
        { team: 'acme', role: 'guest', ttlSeconds: 86_400 },
        { secret: key, now },
      );
      return (await authorize(eventWith(token))).policyDocument.Statement[0].Effect;
    };
    return { clock, secretStore, reads, lines, authorize, effect };
  }

  it('reads the keys again after the TTL (default 5 minutes): a rotated key takes effect then', async () => {
    const { clock, secretStore, reads, effect } = rotating();
    expect(await effect(keyA)).toBe('Allow');
    // Rotated in Secrets Manager (an emergency: the old key is dropped at once).
    secretStore.value = text(keyB);
    clock.now = now + 5 * 60_000 - 1;
    expect(await effect(keyB)).toBe('Deny');
    expect(await effect(keyA)).toBe('Allow');
    expect(reads).toEqual([now]);
    clock.now = now + 5 * 60_000;
    expect(await effect(keyB)).toBe('Allow');
    expect(await effect(keyA)).toBe('Deny');
    expect(reads).toEqual([now, now + 5 * 60_000]);
  });

  it('takes the TTL from ACCESS_TOKEN_KEY_TTL_SECONDS', async () => {
    const { clock, secretStore, reads, effect } = rotating({ ACCESS_TOKEN_KEY_TTL_SECONDS: '30' });
    expect(await effect(keyA)).toBe('Allow');
    secretStore.value = JSON.stringify({ current: text(keyB), previous: text(keyA) });
    clock.now = now + 30_000;
    // The two-step rotation: both keys verify until the previous one is removed.
    expect(await effect(keyB)).toBe('Allow');
    expect(await effect(keyA)).toBe('Allow');
    expect(reads).toHaveLength(2);
  });

  it('keeps the keys it has when a read fails (a warning), and tries again after another TTL', async () => {
    const { clock, secretStore, reads, lines, effect } = rotating();
    expect(await effect(keyA)).toBe('Allow');
    secretStore.value = Object.assign(new Error('throttled: arn and all'), { name: 'ThrottlingException' });
    clock.now = now + 5 * 60_000;
    expect(await effect(keyA)).toBe('Allow');
    const warning = lines.find((line) => line.level === 'warn');
    expect(warning?.message).toMatch(/could not be read again/);
    expect(warning?.extra).toEqual([
      { ageMs: 5 * 60_000, maxAgeMs: 3_600_000, reason: 'ThrottlingException' },
    ]);
    expect(JSON.stringify(lines)).not.toContain('arn and all');
    // No read on every call while it fails: the next one after another TTL.
    clock.now = now + 9 * 60_000;
    expect(await effect(keyA)).toBe('Allow');
    expect(reads).toEqual([now, now + 5 * 60_000]);
    clock.now = now + 10 * 60_000;
    secretStore.value = text(keyB);
    expect(await effect(keyB)).toBe('Allow');
    expect(reads).toEqual([now, now + 5 * 60_000, now + 10 * 60_000]);
  });

  it('never uses keys past the maximum age (default 1 hour): then a failed read is an error (500)', async () => {
    const { clock, secretStore, reads, lines, authorize, effect } = rotating({
      ACCESS_TOKEN_KEY_TTL_SECONDS: '3000',
    });
    expect(await effect(keyA)).toBe('Allow');
    secretStore.value = new Error('unreachable');
    clock.now = now + 3_000_000;
    expect(await effect(keyA)).toBe('Allow');
    // The next try would be at 6,000 s; the hour comes first: no read before it, a read at it.
    clock.now = now + 3_600_000 - 1;
    expect(await effect(keyA)).toBe('Allow');
    expect(reads).toHaveLength(2);
    clock.now = now + 3_600_000;
    const token = await mintAccessToken(
      { team: 'acme', role: 'guest', ttlSeconds: 86_400 },
      { secret: keyA, now },
    );
    await expect(authorize(eventWith(token))).rejects.toThrow('unreachable');
    expect(lines.some((line) => line.level === 'error' && /maximum age/.test(line.message))).toBe(true);
    // And on every call from then on, until a read succeeds.
    clock.now += 1;
    await expect(authorize(eventWith(token))).rejects.toThrow('unreachable');
    secretStore.value = text(keyA);
    clock.now += 1;
    expect(await effect(keyA)).toBe('Allow');
    expect(reads).toHaveLength(5);
  });

  it('fails the first read (nothing to fall back on) and tries again on the next call', async () => {
    const { secretStore, reads, effect } = rotating();
    secretStore.value = new Error('not yet');
    await expect(effect(keyA)).rejects.toThrow('not yet');
    secretStore.value = text(keyA);
    expect(await effect(keyA)).toBe('Allow');
    expect(reads).toHaveLength(2);
  });

  it('shares one read between concurrent calls', async () => {
    const { reads, effect } = rotating();
    expect(await Promise.all([effect(keyA), effect(keyA), effect(keyA)])).toEqual([
      'Allow',
      'Allow',
      'Allow',
    ]);
    expect(reads).toHaveLength(1);
  });
});

describe('loadAuthConfig', () => {
  it('reads a local secret and the audience into a frozen config', () => {
    const config = loadAuthConfig({ ACCESS_TOKEN_SECRET: secretText, ACCESS_TOKEN_AUDIENCE: 'guest-relay' });
    expect(config).toEqual({
      secret: { kind: 'value', secrets: [secret] },
      audience: 'guest-relay',
      issuer: 'guest-relay',
      keyTtlMs: 300_000,
      keyMaxAgeMs: 3_600_000,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the key TTL and maximum age in seconds', () => {
    const config = loadAuthConfig({
      ACCESS_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:x',
      ACCESS_TOKEN_AUDIENCE: 'a',
      ACCESS_TOKEN_KEY_TTL_SECONDS: '60',
      ACCESS_TOKEN_KEY_MAX_AGE_SECONDS: '600',
    });
    expect(config).toMatchObject({ keyTtlMs: 60_000, keyMaxAgeMs: 600_000 });
  });

  it.each([
    [{ ACCESS_TOKEN_AUDIENCE: 'a' }, 'ACCESS_TOKEN_SECRET'],
    [{ ACCESS_TOKEN_SECRET: secretText }, 'ACCESS_TOKEN_AUDIENCE'],
    [{ ACCESS_TOKEN_SECRET: 'short', ACCESS_TOKEN_AUDIENCE: 'a' }, 'ACCESS_TOKEN_SECRET'],
    [{ ACCESS_TOKEN_SECRET_ARN: 'not-an-arn', ACCESS_TOKEN_AUDIENCE: 'a' }, 'ACCESS_TOKEN_SECRET_ARN'],
    [
      { ACCESS_TOKEN_SECRET: secretText, ACCESS_TOKEN_SECRET_ARN: 'arn:x', ACCESS_TOKEN_AUDIENCE: 'a' },
      'ACCESS_TOKEN_SECRET',
    ],
    [
      { ACCESS_TOKEN_SECRET: secretText, ACCESS_TOKEN_AUDIENCE: 'a', ACCESS_TOKEN_KEY_TTL_SECONDS: '0' },
      'ACCESS_TOKEN_KEY_TTL_SECONDS',
    ],
    [
      { ACCESS_TOKEN_SECRET: secretText, ACCESS_TOKEN_AUDIENCE: 'a', ACCESS_TOKEN_KEY_TTL_SECONDS: '5m' },
      'ACCESS_TOKEN_KEY_TTL_SECONDS',
    ],
    [
      {
        ACCESS_TOKEN_SECRET: secretText,
        ACCESS_TOKEN_AUDIENCE: 'a',
        ACCESS_TOKEN_KEY_TTL_SECONDS: '600',
        ACCESS_TOKEN_KEY_MAX_AGE_SECONDS: '300',
      },
      'ACCESS_TOKEN_KEY_MAX_AGE_SECONDS',
    ],
  ])('fails naming the key at fault (%#)', (env, key) => {
    expect(() => loadAuthConfig(env)).toThrow(
      expect.objectContaining({ key, message: expect.stringContaining(key) }),
    );
  });
});
