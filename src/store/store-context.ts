import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DocumentClient } from './document.js';
import type { TableNames } from './tables.js';

/** What every repository needs: the document client, the table names and the time. Injected. */
export interface StoreContext {
  readonly db: DocumentClient;
  readonly tables: TableNames;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

export function createStoreContext(options: {
  client: DynamoDBClient;
  tables: TableNames;
  now: () => number;
}): StoreContext {
  const db = new DocumentClient(options.client);
  return Object.freeze({ db, tables: options.tables, now: options.now });
}
