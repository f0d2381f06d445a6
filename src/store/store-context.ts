import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableNames } from './tables.js';

/** What every repository needs: the document client, the table names and the time. Injected. */
export interface StoreContext {
  readonly db: DynamoDBDocumentClient;
  readonly tables: TableNames;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

export function createStoreContext(options: {
  client: DynamoDBClient;
  tables: TableNames;
  now: () => number;
}): StoreContext {
  const db = DynamoDBDocumentClient.from(options.client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  return Object.freeze({ db, tables: options.tables, now: options.now });
}
