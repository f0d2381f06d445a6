/**
 * Local mode's transport for SDK clients: dynalite on a thread of its own, reached over a MessagePort,
 * and the local signer, which stamps SigV4's shape for engines that never check a signature. What breaks
 * if these fail: `npm start` (which uses both) stops working or stops matching the cloud's behaviour.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSigner } from '../../../src/aws/local-signer.js';
import { type EmbeddedDynamo, startDynaliteThread } from '../../../src/store/dynalite.js';
import { provisionTables } from '../../../src/store/provision.js';
import { tableNames } from '../../../src/store/tables.js';

// Local engines accept any credentials; these are not secrets.
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

function client(endpoint: string, extra: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1, ...extra });
}

describe('dynalite on its own thread', () => {
  let dynamo: EmbeddedDynamo;
  const tables = tableNames('thread-');
  beforeAll(async () => {
    dynamo = await startDynaliteThread();
    await provisionTables(client(dynamo.endpoint, { requestHandler: dynamo.requestHandler }), tables);
  });
  afterAll(() => dynamo.close());

  it('serves the real SDK over the port, signed by the local signer, with the engine errors as they are', async () => {
    const raw = client(dynamo.endpoint, {
      requestHandler: dynamo.requestHandler,
      signer: localSigner({ region: 'us-east-1', service: 'dynamodb' }),
    });
    const db = DynamoDBDocumentClient.from(raw);
    const before = dynamo.requests().PutItem ?? 0;
    dynamo.trace(true);
    await db.send(new PutCommand({ TableName: tables.workers, Item: { workerId: 'w1', load: 3 } }));
    const refused = await db
      .send(
        new PutCommand({
          TableName: tables.workers,
          Item: { workerId: 'w1', load: 4 },
          ConditionExpression: 'attribute_not_exists(workerId)',
        }),
      )
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConditionalCheckFailedException);
    const { Item } = await db.send(new GetCommand({ TableName: tables.workers, Key: { workerId: 'w1' } }));
    expect(Item).toEqual({ workerId: 'w1', load: 3 });
    expect((dynamo.requests().PutItem ?? 0) - before).toBe(2);
    const traced = dynamo.traced();
    expect(traced.map((r) => r.operation)).toEqual(['PutItem', 'PutItem', 'GetItem']);
    for (const r of traced) expect(r.end).toBeGreaterThanOrEqual(r.start);
  });

  it('is reachable over its endpoint too, for other processes (and signs as the SDK does)', async () => {
    const db = DynamoDBDocumentClient.from(client(dynamo.endpoint));
    await db.send(new PutCommand({ TableName: tables.workers, Item: { workerId: 'w2', load: 1 } }));
    const { Item } = await db.send(new GetCommand({ TableName: tables.workers, Key: { workerId: 'w2' } }));
    expect(Item).toEqual({ workerId: 'w2', load: 1 });
  });

  it('rejects a request whose signal is already aborted, before it crosses', async () => {
    const controller = new AbortController();
    controller.abort();
    const db = DynamoDBDocumentClient.from(
      client(dynamo.endpoint, { requestHandler: dynamo.requestHandler }),
    );
    const error = await db
      .send(new GetCommand({ TableName: tables.workers, Key: { workerId: 'w1' } }), {
        abortSignal: controller.signal,
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
  });
});

describe('localSigner', () => {
  it('stamps the SigV4 headers the local engines check, with no signature computed', async () => {
    const signed = await localSigner({ region: 'eu-west-1', service: 'execute-api' }).sign({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/',
      headers: {},
    } as never);
    expect(signed.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-date, Signature=0{64}$/,
    );
    expect(signed.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });
});
