/**
 * What a frontend sees when DynamoDB fails in ways no local engine can be made to: throttling becomes
 * `service_unavailable` (retryable, with retryAfterMs), an unexpected failure `internal_error` with no
 * detail. The errors are injected with an SDK middleware on the handlers' own client, the one kind of
 * SDK tampering the project allows.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, type Relay, startRelay } from './harness.js';

type Fault = 'throttle' | 'crash' | undefined;

let fault: Fault;
let relay: Relay;

function faultyClient(endpoint: string): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      if (fault === 'throttle') {
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
          name: 'ProvisionedThroughputExceededException',
          $metadata: { httpStatusCode: 400 },
        });
      }
      if (fault === 'crash') throw new Error('socket hang up while talking to arn:aws:dynamodb:secret-table');
      return next(args);
    },
    { step: 'initialize', name: 'injectFault' },
  );
  return client;
}

beforeEach(async () => {
  fault = undefined;
  relay = await startRelay({ dynamodb: faultyClient });
});

afterEach(async () => {
  fault = undefined;
  await relay.close();
});

describe('relay handlers when DynamoDB fails', () => {
  it('answers throttling with service_unavailable and a retry delay, and the retry succeeds', async () => {
    const guest = await relay.client({ team: 'team-a' });
    await guest.start();
    fault = 'throttle';
    const refused = await guest.request({ action: 'send', text: 'hello', clientMessageId: 'c-1' });
    expect(refused).toMatchObject({
      type: 'error',
      code: 'service_unavailable',
      retryable: true,
      clientMessageId: 'c-1',
    });
    expect(refused.type === 'error' ? refused.retryAfterMs : undefined).toBeGreaterThan(0);
    fault = undefined;
    const sent = await guest.request({ action: 'send', text: 'hello', clientMessageId: 'c-1' });
    expect(sent).toMatchObject({ type: 'message', sequenceId: 1, text: 'hello', status: 'pending' });
  });

  it('answers an unexpected failure with internal_error and leaks nothing of it', async () => {
    const guest = await relay.client({ team: 'team-a' });
    await guest.start();
    fault = 'crash';
    const refused = await guest.request({ action: 'history' });
    expect(refused).toMatchObject({
      type: 'error',
      code: 'internal_error',
      retryable: true,
      action: 'history',
    });
    expect(JSON.stringify(refused)).not.toMatch(/arn:aws|socket hang up|secret-table/);
  });
});
