import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { SDK_LOGGER_MIDDLEWARE, withoutSdkLogger } from '../../../src/aws/without-sdk-logger.js';
import { createManagementSdk } from '../../../src/gateway/management-client.js';
import { createDynamoClient } from '../../../src/store/client.js';

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The names of a client's middlewares (`identify()` answers "name - step", or "name (a.k.a. …) - step"). */
function middlewares(client: { middlewareStack: { identify(): string[] } }): string[] {
  return client.middlewareStack.identify().map((entry) => entry.split(' ')[0] ?? entry);
}

describe('withoutSdkLogger', () => {
  it('names the middleware the SDK adds to every client (so taking it off is not a silent no-op)', () => {
    const client = new DynamoDBClient({ region: 'eu-west-1', credentials: CREDENTIALS });
    expect(middlewares(client)).toContain(SDK_LOGGER_MIDDLEWARE);
    expect(withoutSdkLogger(client)).toBe(client);
    expect(middlewares(client)).not.toContain(SDK_LOGGER_MIDDLEWARE);
    // Everything else stays.
    expect(middlewares(client)).toEqual(
      expect.arrayContaining(['retryMiddleware', 'httpSigningMiddleware', 'serializerMiddleware']),
    );
    client.destroy();
  });

  it("is off the store's and the gateway's clients", () => {
    const dynamo = createDynamoClient({ region: 'eu-west-1', credentials: CREDENTIALS });
    const management = createManagementSdk({
      endpoint: 'http://127.0.0.1:1',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
    });
    expect(middlewares(dynamo)).not.toContain(SDK_LOGGER_MIDDLEWARE);
    expect(middlewares(management)).not.toContain(SDK_LOGGER_MIDDLEWARE);
    dynamo.destroy();
    management.destroy();
  });
});
