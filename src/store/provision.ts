import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { createTableInput, TABLES, type TableKey, type TableNames } from './tables.js';

/**
 * Creates the tables from the shared definitions (local engines and tests; the cloud gets them from
 * infra). Idempotent: a table that exists is left alone. TTL is switched on where the engine supports
 * it (DynamoDB Local does; dynalite does not implement UpdateTimeToLive, and readers filter expired
 * items themselves anyway).
 */
export async function provisionTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  await Promise.all(
    (Object.keys(TABLES) as TableKey[]).map(async (key) => {
      const definition = TABLES[key];
      const name = names[key];
      try {
        await client.send(new CreateTableCommand(createTableInput(definition, name)));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
      await waitActive(client, name);
      if (definition.ttlAttribute) {
        try {
          await client.send(
            new UpdateTimeToLiveCommand({
              TableName: name,
              TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true },
            }),
          );
        } catch {
          // dynalite: UnknownOperationException; a table whose TTL is already on: ValidationException.
        }
      }
    }),
  );
}

async function waitActive(client: DynamoDBClient, name: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexesReady) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Table ${name} did not become ACTIVE`);
}
