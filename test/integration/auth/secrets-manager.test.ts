/**
 * secretsManagerLoader against the real @aws-sdk/client-secrets-manager, pointed at a small fake of the
 * Secrets Manager JSON API on loopback (POST /, X-Amz-Target: secretsmanager.GetSecretValue), so the
 * request the SDK builds and the response it parses are real.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthConfigError } from '../../../src/auth/errors.js';
import { secretsManagerLoader } from '../../../src/auth/secrets-manager.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:guest-relay-signing-key-AbCdEf';
const KEY = 'a-signing-key-of-at-least-thirty-two-bytes!!';
const requests: { target: string | undefined; body: Record<string, unknown> }[] = [];

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}

let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const body = JSON.parse((await readBody(request)) || '{}') as Record<string, unknown>;
    const target = request.headers['x-amz-target'] as string | undefined;
    requests.push({ target, body });
    response.setHeader('content-type', 'application/x-amz-json-1.1');
    if (target === 'secretsmanager.GetSecretValue' && body.SecretId === ARN) {
      response.end(
        JSON.stringify({ ARN, Name: 'guest-relay-signing-key', SecretString: KEY, VersionId: 'v1' }),
      );
      return;
    }
    response.statusCode = 400;
    response.setHeader('x-amzn-errortype', 'ResourceNotFoundException');
    response.end(
      JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find it." }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint,
    region: 'eu-west-1',
    // The fake accepts any signature; these are not secrets.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

describe('secretsManagerLoader', () => {
  it('reads the secret string with GetSecretValue', async () => {
    await expect(secretsManagerLoader(client())(ARN)).resolves.toBe(KEY);
    expect(requests.at(-1)).toEqual({ target: 'secretsmanager.GetSecretValue', body: { SecretId: ARN } });
  });

  it('fails with an AuthConfigError naming the setting and the SDK error, not the secret or its text', async () => {
    const error = await secretsManagerLoader(client())(`${ARN}-missing`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthConfigError);
    expect((error as AuthConfigError).key).toBe('ACCESS_TOKEN_SECRET_ARN');
    expect((error as Error).message).toContain('ResourceNotFoundException');
    expect((error as Error).message).not.toContain("can't find");
  });
});
