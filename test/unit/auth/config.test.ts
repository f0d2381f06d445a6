import { describe, expect, it } from 'vitest';
import { AUTH_ENV, authConfig, loadAuthConfig } from '../../../src/auth/config.js';
import { AuthConfigError } from '../../../src/auth/errors.js';
import { ConfigError } from '../../../src/config/index.js';

const secretText = Buffer.alloc(32, 3).toString('base64');
const previousText = Buffer.alloc(32, 4).toString('base64');
const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:access-token-key';

/** The AuthConfigError `run` throws. */
function refusal(run: () => unknown): AuthConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthConfigError);
    expect(error).toBeInstanceOf(ConfigError);
    return error as AuthConfigError;
  }
  throw new Error('expected an AuthConfigError');
}

describe('loadAuthConfig: error codes', () => {
  it('a missing secret or audience is config_missing, naming the key', () => {
    expect(refusal(() => loadAuthConfig({ [AUTH_ENV.audience]: 'a' }))).toMatchObject({
      code: 'config_missing',
      key: AUTH_ENV.secret,
      name: 'AuthConfigError',
    });
    expect(refusal(() => loadAuthConfig({ [AUTH_ENV.secret]: secretText }))).toMatchObject({
      code: 'config_missing',
      key: AUTH_ENV.audience,
    });
  });

  it('both secret forms are config_conflict, naming both keys', () => {
    const error = refusal(() =>
      loadAuthConfig({ [AUTH_ENV.secret]: secretText, [AUTH_ENV.secretArn]: arn, [AUTH_ENV.audience]: 'a' }),
    );
    expect(error).toMatchObject({ code: 'config_conflict', key: AUTH_ENV.secret });
    expect(error.message).toContain(AUTH_ENV.secretArn);
  });

  it('a bad value is config_invalid and never quoted', () => {
    for (const [key, value] of [
      [AUTH_ENV.secret, 'short-secret-5f1'],
      [AUTH_ENV.previousSecret, 'short-previous-8c2'],
      [AUTH_ENV.keyTtlSeconds, '86401'],
      [AUTH_ENV.keyMaxAgeSeconds, '1.5'],
    ] as const) {
      const error = refusal(() =>
        loadAuthConfig({ [AUTH_ENV.secret]: secretText, [AUTH_ENV.audience]: 'a', [key]: value }),
      );
      expect(error, key).toMatchObject({ code: 'config_invalid', key });
      expect(error.message).not.toContain(value);
    }
    expect(
      refusal(() => loadAuthConfig({ [AUTH_ENV.secretArn]: 'not-an-arn', [AUTH_ENV.audience]: 'a' })),
    ).toMatchObject({ code: 'config_invalid', key: AUTH_ENV.secretArn });
  });
});

describe('authConfig (in code)', () => {
  it('equals loadAuthConfig of the same values', () => {
    const env = {
      [AUTH_ENV.secret]: secretText,
      [AUTH_ENV.previousSecret]: previousText,
      [AUTH_ENV.audience]: 'guest-relay',
      [AUTH_ENV.issuer]: 'issuer-7',
      [AUTH_ENV.keyTtlSeconds]: '60',
      [AUTH_ENV.keyMaxAgeSeconds]: '600',
    };
    const config = authConfig({
      secret: secretText,
      previousSecret: previousText,
      audience: 'guest-relay',
      issuer: 'issuer-7',
      keyTtlMs: 60_000,
      keyMaxAgeMs: 600_000,
    });
    expect(config).toEqual(loadAuthConfig(env));
    expect(config.secret).toEqual({
      kind: 'value',
      secrets: [new Uint8Array(Buffer.alloc(32, 3)), new Uint8Array(Buffer.alloc(32, 4))],
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(authConfig({ secret: secretText, audience: 'a' })).toEqual(
      loadAuthConfig({ [AUTH_ENV.secret]: secretText, [AUTH_ENV.audience]: 'a' }),
    );
  });

  it('applies the same rules, naming the environment variable an operator would set', () => {
    expect(refusal(() => authConfig({ secret: '', audience: 'a' }))).toMatchObject({
      code: 'config_missing',
      key: AUTH_ENV.secret,
    });
    expect(refusal(() => authConfig({ secret: 'short', audience: 'a' })).key).toBe(AUTH_ENV.secret);
    expect(refusal(() => authConfig({ secret: secretText, audience: ' ' }))).toMatchObject({
      code: 'config_missing',
      key: AUTH_ENV.audience,
    });
    // Whole seconds from 1 s to one day, as the environment's *_SECONDS.
    for (const keyTtlMs of [0, 500, 1_500, 86_401_000]) {
      expect(refusal(() => authConfig({ secret: secretText, audience: 'a', keyTtlMs })).key).toBe(
        AUTH_ENV.keyTtlSeconds,
      );
    }
    expect(
      refusal(() =>
        authConfig({ secret: secretText, audience: 'a', keyTtlMs: 600_000, keyMaxAgeMs: 300_000 }),
      ).key,
    ).toBe(AUTH_ENV.keyMaxAgeSeconds);
  });
});
