/**
 * The store's document client: plain JavaScript values in and out, over the low-level DynamoDB client.
 *
 * It does what lib-dynamodb's DocumentClient does for the eight operations the store uses (marshal the
 * keys, items and expression values; unmarshal what comes back) and nothing else, so that the client
 * underneath can keep its resolved middleware (`cacheMiddleware: true`, see client.ts). Resolving the
 * SDK's middleware stack anew for every request was a quarter to two fifths of a request's cost on the
 * client (docs/performance.md), and lib-dynamodb's client refuses that option (its constructor throws): its
 * commands build their handler around their own instance, so a cached one would send the first
 * command's input again (aws-sdk-js-v3 pull request 7801).
 *
 * The commands keep lib-dynamodb's names and input and output types, so a repository reads as it did.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand as QueryItemsCommand,
  ScanCommand as ScanItemsCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { marshall, type NativeAttributeValue, unmarshall } from '@aws-sdk/util-dynamodb';

type Document = Record<string, NativeAttributeValue>;
type Marshalled = Record<string, AttributeValue>;

/** Absent attributes are left out (not an error); numbers come back as numbers. */
function toItem(document: Document): Marshalled {
  return marshall(document, { removeUndefinedValues: true, convertClassInstanceToMap: false });
}

function toItemIfAny(document: Document | undefined): Marshalled | undefined {
  return document === undefined ? undefined : toItem(document);
}

function fromItem(item: Marshalled): Document {
  return unmarshall(item, { wrapNumbers: false });
}

function fromItemIfAny(item: Marshalled | undefined): Document | undefined {
  return item === undefined ? undefined : fromItem(item);
}

/** Sets `key` only when `value` is defined, so an input or output never gains an `undefined` member. */
function withOptional<T extends object, K extends string, V>(
  base: T,
  key: K,
  value: V | undefined,
): T & Partial<Record<K, V>> {
  return value === undefined ? base : { ...base, [key]: value };
}

/** `base` with its expression values marshalled, when it has any. */
function withValues<T extends object>(base: T, values: Document | undefined) {
  return withOptional(base, 'ExpressionAttributeValues', toItemIfAny(values));
}

/** A single-item write's output: the attributes it returned, plain; its collection metrics dropped. */
function writeOutput<O extends { Attributes?: Marshalled | undefined; ItemCollectionMetrics?: unknown }>(
  output: O,
): Omit<O, 'Attributes' | 'ItemCollectionMetrics'> & { Attributes?: Document } {
  const { Attributes, ItemCollectionMetrics: _, ...out } = output;
  return withOptional(out, 'Attributes', fromItemIfAny(Attributes));
}

/** One operation: its plain input, and how it runs on the low-level client. */
abstract class DocumentCommand<Input, Output> {
  readonly input: Input;
  constructor(input: Input) {
    this.input = input;
  }
  abstract run(client: DynamoDBClient): Promise<Output>;
}

export class GetCommand extends DocumentCommand<GetCommandInput, GetCommandOutput> {
  async run(client: DynamoDBClient): Promise<GetCommandOutput> {
    const { Key, ...rest } = this.input;
    const { Item, ...out } = await client.send(new GetItemCommand({ ...rest, Key: toItemIfAny(Key) }));
    return withOptional(out, 'Item', fromItemIfAny(Item));
  }
}

export class PutCommand extends DocumentCommand<PutCommandInput, PutCommandOutput> {
  async run(client: DynamoDBClient): Promise<PutCommandOutput> {
    const { Item, ExpressionAttributeValues, ...rest } = this.input;
    const input = withValues({ ...rest, Item: toItemIfAny(Item) }, ExpressionAttributeValues);
    return writeOutput(await client.send(new PutItemCommand(input)));
  }
}

export class UpdateCommand extends DocumentCommand<UpdateCommandInput, UpdateCommandOutput> {
  async run(client: DynamoDBClient): Promise<UpdateCommandOutput> {
    const { Key, ExpressionAttributeValues, AttributeUpdates, ...rest } = this.input;
    if (AttributeUpdates !== undefined)
      throw new TypeError('UpdateCommand: AttributeUpdates is not supported');
    const input = withValues({ ...rest, Key: toItemIfAny(Key) }, ExpressionAttributeValues);
    return writeOutput(await client.send(new UpdateItemCommand(input)));
  }
}

export class DeleteCommand extends DocumentCommand<DeleteCommandInput, DeleteCommandOutput> {
  async run(client: DynamoDBClient): Promise<DeleteCommandOutput> {
    const { Key, ExpressionAttributeValues, ...rest } = this.input;
    const input = withValues({ ...rest, Key: toItemIfAny(Key) }, ExpressionAttributeValues);
    return writeOutput(await client.send(new DeleteItemCommand(input)));
  }
}

/** A page request's input: its expression values and start key marshalled. */
function pageInput<T extends object>(
  rest: T,
  values: Document | undefined,
  exclusiveStartKey: Document | undefined,
) {
  return withOptional(withValues(rest, values), 'ExclusiveStartKey', toItemIfAny(exclusiveStartKey));
}

/** A page's output: its items and the key to go on from, plain. */
function pageOutput<
  O extends { Items?: Marshalled[] | undefined; LastEvaluatedKey?: Marshalled | undefined },
>(output: O): Omit<O, 'Items' | 'LastEvaluatedKey'> & { Items?: Document[]; LastEvaluatedKey?: Document } {
  const { Items, LastEvaluatedKey, ...out } = output;
  return withOptional(
    withOptional(out, 'Items', Items?.map(fromItem)),
    'LastEvaluatedKey',
    fromItemIfAny(LastEvaluatedKey),
  );
}

export class QueryCommand extends DocumentCommand<QueryCommandInput, QueryCommandOutput> {
  async run(client: DynamoDBClient): Promise<QueryCommandOutput> {
    const { ExpressionAttributeValues, ExclusiveStartKey, KeyConditions, QueryFilter, ...rest } = this.input;
    if (KeyConditions !== undefined || QueryFilter !== undefined)
      throw new TypeError('QueryCommand: use KeyConditionExpression and FilterExpression');
    const input = pageInput(rest, ExpressionAttributeValues, ExclusiveStartKey);
    return pageOutput(await client.send(new QueryItemsCommand(input)));
  }
}

export class ScanCommand extends DocumentCommand<ScanCommandInput, ScanCommandOutput> {
  async run(client: DynamoDBClient): Promise<ScanCommandOutput> {
    const { ExpressionAttributeValues, ExclusiveStartKey, ScanFilter, ...rest } = this.input;
    if (ScanFilter !== undefined) throw new TypeError('ScanCommand: use FilterExpression');
    const input = pageInput(rest, ExpressionAttributeValues, ExclusiveStartKey);
    return pageOutput(await client.send(new ScanItemsCommand(input)));
  }
}

export class BatchGetCommand extends DocumentCommand<BatchGetCommandInput, BatchGetCommandOutput> {
  async run(client: DynamoDBClient): Promise<BatchGetCommandOutput> {
    const { RequestItems, ...rest } = this.input;
    const requests = Object.fromEntries(
      Object.entries(RequestItems ?? {}).map(([table, { Keys, ...keysAndAttributes }]) => [
        table,
        { ...keysAndAttributes, Keys: Keys?.map(toItem) },
      ]),
    );
    const { Responses, UnprocessedKeys, ...out } = await client.send(
      new BatchGetItemCommand({ ...rest, RequestItems: requests }),
    );
    const responses =
      Responses &&
      Object.fromEntries(Object.entries(Responses).map(([table, items]) => [table, items.map(fromItem)]));
    const unprocessed =
      UnprocessedKeys &&
      Object.fromEntries(
        Object.entries(UnprocessedKeys).map(([table, { Keys, ...keysAndAttributes }]) => [
          table,
          { ...keysAndAttributes, Keys: Keys?.map(fromItem) },
        ]),
      );
    return withOptional(withOptional(out, 'Responses', responses), 'UnprocessedKeys', unprocessed);
  }
}

type PlainWriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

function toWriteRequest({ PutRequest, DeleteRequest }: PlainWriteRequest): WriteRequest {
  return {
    ...(PutRequest === undefined ? {} : { PutRequest: { Item: toItemIfAny(PutRequest.Item) } }),
    ...(DeleteRequest === undefined ? {} : { DeleteRequest: { Key: toItemIfAny(DeleteRequest.Key) } }),
  } as WriteRequest;
}

function fromWriteRequest({ PutRequest, DeleteRequest }: WriteRequest): PlainWriteRequest {
  return {
    ...(PutRequest?.Item === undefined ? {} : { PutRequest: { Item: fromItem(PutRequest.Item) } }),
    ...(DeleteRequest?.Key === undefined ? {} : { DeleteRequest: { Key: fromItem(DeleteRequest.Key) } }),
  };
}

export class BatchWriteCommand extends DocumentCommand<BatchWriteCommandInput, BatchWriteCommandOutput> {
  async run(client: DynamoDBClient): Promise<BatchWriteCommandOutput> {
    const { RequestItems, ...rest } = this.input;
    const requests = Object.fromEntries(
      Object.entries(RequestItems ?? {}).map(([table, writes]) => [table, writes.map(toWriteRequest)]),
    );
    const {
      UnprocessedItems,
      ItemCollectionMetrics: _,
      ...out
    } = await client.send(new BatchWriteItemCommand({ ...rest, RequestItems: requests }));
    const unprocessed =
      UnprocessedItems &&
      Object.fromEntries(
        Object.entries(UnprocessedItems).map(([table, writes]) => [table, writes.map(fromWriteRequest)]),
      );
    return withOptional(out, 'UnprocessedItems', unprocessed);
  }
}

/** The client the repositories hold: `send(new GetCommand({...}))`, as with lib-dynamodb's. */
export class DocumentClient {
  readonly client: DynamoDBClient;
  constructor(client: DynamoDBClient) {
    this.client = client;
  }

  send<Input, Output>(command: DocumentCommand<Input, Output>): Promise<Output> {
    return command.run(this.client);
  }
}
