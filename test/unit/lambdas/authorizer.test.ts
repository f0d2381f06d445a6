import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mintAccessToken } from '../../../src/auth/tokens.js';

const secret = new Uint8Array(Buffer.alloc(32, 1));
const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc/prod/$connect';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
  vi.restoreAllMocks();
});

describe('lambdas/authorizer', () => {
  it('reads its config at start and allows a valid token', async () => {
    vi.stubEnv('ACCESS_TOKEN_SECRET', Buffer.from(secret).toString('base64'));
    vi.stubEnv('ACCESS_TOKEN_AUDIENCE', 'guest-relay');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const { handler } = await import('../../../lambdas/authorizer.js');
    const token = await mintAccessToken({ team: 'acme', role: 'guest' }, { secret, now: Date.now() });
    const result = await handler({ type: 'REQUEST', methodArn, queryStringParameters: { token } }, {
      functionName: 'authorizer',
      awsRequestId: 'r-1',
    } as Context);
    expect(result).toMatchObject({ context: { team: 'acme', role: 'guest' } });
  });

  it('fails at start naming the missing key', async () => {
    vi.stubEnv('ACCESS_TOKEN_SECRET', '');
    vi.stubEnv('ACCESS_TOKEN_SECRET_ARN', '');
    vi.stubEnv('ACCESS_TOKEN_AUDIENCE', 'guest-relay');
    await expect(import('../../../lambdas/authorizer.js')).rejects.toThrow(/ACCESS_TOKEN_SECRET/);
  });
});
