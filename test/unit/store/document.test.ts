/**
 * The store's document client over a request handler that records each request and answers with a
 * canned body: what reaches the wire is marshalled, what comes back is plain, and with the handler cache
 * on (`cacheMiddleware`) each request carries its own input, however many are in flight (what
 * lib-dynamodb's client cannot promise, and why it refuses the option: see src/store/document.ts).
 * The repositories run on it against both engines in test/store.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { HttpRequest } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '../../../src/store/document.js';

interface Seen {
  readonly target: string;
  readonly body: Record<string, unknown>;
}

/** A client whose every request is recorded and answered with `answer(target)` (a wire-format body). */
function recording(answer: (target: string) => unknown = () => ({})): { db: DocumentClient; seen: Seen[] } {
  const seen: Seen[] = [];
  const requestHandler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: HttpRequest) {
      const target = String(request.headers['x-amz-target']).split('.')[1] ?? '?';
      const text = typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body);
      seen.push({ target, body: JSON.parse(text) as Record<string, unknown> });
      // Answered on a later turn, so that requests sent together are in flight together.
      await new Promise((resolve) => setTimeout(resolve, 1));
      const body = new TextEncoder().encode(JSON.stringify(answer(target)));
      return {
        response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body },
      };
    },
    destroy() {},
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // The canned handler stands in for the engine: the shape the SDK expects of one has no public type.
    requestHandler: requestHandler as unknown as DynamoDBClient['config']['requestHandler'],
    cacheMiddleware: true,
    maxAttempts: 1,
  });
  return { db: new DocumentClient(client), seen };
}

describe('DocumentClient', () => {
  it('sends each request with its own input while many are in flight on the cached handler', async () => {
    const { db, seen } = recording(() => ({ Attributes: { lastSeq: { N: '1' } } }));
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        db.send(
          new UpdateCommand({
            TableName: 'sessions',
            Key: { pk: `s${i}`, sk: 'session' },
            UpdateExpression: 'SET lastSeq = :n',
            ExpressionAttributeValues: { ':n': i },
          }),
        ),
      ),
    );
    const keys = seen.map((s) => (s.body.Key as { pk: { S: string } }).pk.S).sort();
    expect(keys).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7']);
    const values = seen.map((s) => (s.body.ExpressionAttributeValues as { ':n': { N: string } })[':n'].N);
    expect(values.sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
  });

  it('marshals keys, items and values, leaves absent attributes out, and unmarshals what comes back', async () => {
    const { db, seen } = recording((target) =>
      target === 'GetItem'
        ? {
            Item: {
              pk: { S: 'a' },
              n: { N: '3' },
              list: { L: [{ S: 'x' }] },
              map: { M: { ok: { BOOL: true } } },
            },
          }
        : { Attributes: { pk: { S: 'a' } } },
    );
    const got = await db.send(new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'session' } }));
    expect(got.Item).toEqual({ pk: 'a', n: 3, list: ['x'], map: { ok: true } });
    const put = await db.send(
      new PutCommand({
        TableName: 't',
        Item: { pk: 'a', absent: undefined, nested: { n: 1, gone: undefined } },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValues: 'ALL_OLD',
      }),
    );
    expect(put.Attributes).toEqual({ pk: 'a' });
    await db.send(
      new DeleteCommand({
        TableName: 't',
        Key: { pk: 'a' },
        ConditionExpression: 'v = :v',
        ExpressionAttributeValues: { ':v': 'x' },
      }),
    );
    expect(seen.map((s) => s.target)).toEqual(['GetItem', 'PutItem', 'DeleteItem']);
    expect(seen[0]?.body.Key).toEqual({ pk: { S: 'a' }, sk: { S: 'session' } });
    expect(seen[1]?.body.Item).toEqual({ pk: { S: 'a' }, nested: { M: { n: { N: '1' } } } });
    expect(seen[1]?.body).not.toHaveProperty('ExpressionAttributeValues');
    expect(seen[2]?.body.ExpressionAttributeValues).toEqual({ ':v': { S: 'x' } });
  });

  it('a missing item is no Item at all', async () => {
    const { db } = recording(() => ({}));
    const got = await db.send(new GetCommand({ TableName: 't', Key: { pk: 'none' } }));
    expect(got).not.toHaveProperty('Item');
  });

  it('pages a query and a scan with plain start keys', async () => {
    const { db, seen } = recording(() => ({
      Items: [{ sessionId: { S: 's' }, seq: { N: '4' } }],
      Count: 1,
      LastEvaluatedKey: { sessionId: { S: 's' }, seq: { N: '4' } },
    }));
    const page = await db.send(
      new QueryCommand({
        TableName: 'transcript',
        KeyConditionExpression: 'sessionId = :s AND seq > :after',
        ExpressionAttributeValues: { ':s': 's', ':after': 3 },
        ExclusiveStartKey: { sessionId: 's', seq: 3 },
      }),
    );
    expect(page.Items).toEqual([{ sessionId: 's', seq: 4 }]);
    expect(page.LastEvaluatedKey).toEqual({ sessionId: 's', seq: 4 });
    expect(seen[0]?.body.ExclusiveStartKey).toEqual({ sessionId: { S: 's' }, seq: { N: '3' } });
    const scanned = await db.send(new ScanCommand({ TableName: 'workers' }));
    expect(scanned.Items).toEqual([{ sessionId: 's', seq: 4 }]);
    expect(seen[1]?.body).not.toHaveProperty('ExpressionAttributeValues');
  });

  it('batches both ways, with what the engine left unprocessed handed back plain', async () => {
    const { db, seen } = recording((target) =>
      target === 'BatchGetItem'
        ? {
            Responses: { quotas: [{ pk: { S: 'team' }, n: { N: '2' } }] },
            UnprocessedKeys: { quotas: { Keys: [{ pk: { S: 'other' } }] } },
          }
        : { UnprocessedItems: { transcript: [{ PutRequest: { Item: { seq: { N: '9' } } } }] } },
    );
    const got = await db.send(
      new BatchGetCommand({ RequestItems: { quotas: { Keys: [{ pk: 'team' }, { pk: 'other' }] } } }),
    );
    expect(got.Responses).toEqual({ quotas: [{ pk: 'team', n: 2 }] });
    expect(got.UnprocessedKeys).toEqual({ quotas: { Keys: [{ pk: 'other' }] } });
    const wrote = await db.send(
      new BatchWriteCommand({
        RequestItems: {
          transcript: [
            { PutRequest: { Item: { seq: 9, text: 'hi' } } },
            { DeleteRequest: { Key: { seq: 8 } } },
          ],
        },
      }),
    );
    expect(wrote.UnprocessedItems).toEqual({ transcript: [{ PutRequest: { Item: { seq: 9 } } }] });
    expect(seen[0]?.body.RequestItems).toEqual({
      quotas: { Keys: [{ pk: { S: 'team' } }, { pk: { S: 'other' } }] },
    });
    expect(seen[1]?.body.RequestItems).toEqual({
      transcript: [
        { PutRequest: { Item: { seq: { N: '9' }, text: { S: 'hi' } } } },
        { DeleteRequest: { Key: { seq: { N: '8' } } } },
      ],
    });
  });

  it('refuses the legacy parameters it does not translate, before anything is sent', async () => {
    const { db, seen } = recording();
    await expect(
      db.send(
        new UpdateCommand({
          TableName: 't',
          Key: { pk: 'a' },
          AttributeUpdates: { n: { Action: 'PUT', Value: 1 } },
        }),
      ),
    ).rejects.toThrow(/AttributeUpdates is not supported/);
    await expect(
      db.send(new QueryCommand({ TableName: 't', KeyConditions: { pk: { ComparisonOperator: 'EQ' } } })),
    ).rejects.toThrow(/KeyConditionExpression/);
    expect(seen).toEqual([]);
  });
});
