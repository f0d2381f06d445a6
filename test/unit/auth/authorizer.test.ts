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
      context: { team: 'acme', role: 'guest', subject: 'u-1' },
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

describe('loadAuthConfig', () => {
  it('reads a local secret and the audience into a frozen config', () => {
    const config = loadAuthConfig({ ACCESS_TOKEN_SECRET: secretText, ACCESS_TOKEN_AUDIENCE: 'guest-relay' });
    expect(config).toEqual({
      secret: { kind: 'value', secrets: [secret] },
      audience: 'guest-relay',
      issuer: 'guest-relay',
    });
    expect(Object.isFrozen(config)).toBe(true);
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
  ])('fails naming the key at fault (%#)', (env, key) => {
    expect(() => loadAuthConfig(env)).toThrow(
      expect.objectContaining({ key, message: expect.stringContaining(key) }),
    );
  });
});
