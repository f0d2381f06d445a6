/**
 * The four tables, built from the one definition the store code uses (src/store/tables.ts): keys,
 * indexes and TTL cannot drift between the code and the cloud. On-demand billing, point-in-time
 * recovery, TTL on `expiresAt`, AWS-owned encryption at rest (DynamoDB's default).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { type KeyDefinition, TABLE_ENV, TABLES, type TableKey } from '../../src/store/tables.js';

const TYPES = { S: AttributeType.STRING, N: AttributeType.NUMBER } as const;

function attribute(key: KeyDefinition): { name: string; type: AttributeType } {
  return { name: key.name, type: TYPES[key.type] };
}

export interface RelayTablesProps {
  /** Default RETAIN: a stack deletion must not take the transcripts with it. */
  readonly removalPolicy?: RemovalPolicy;
}

export class RelayTables extends Construct {
  readonly tables: Readonly<Record<TableKey, Table>>;

  constructor(scope: Construct, id: string, props: RelayTablesProps = {}) {
    super(scope, id);
    const tables = {} as Record<TableKey, Table>;
    for (const key of Object.keys(TABLES) as TableKey[]) {
      const definition = TABLES[key];
      const table = new Table(this, key, {
        partitionKey: attribute(definition.partitionKey),
        ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        ...(definition.ttlAttribute ? { timeToLiveAttribute: definition.ttlAttribute } : {}),
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      for (const index of definition.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: attribute(index.partitionKey),
          ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
          projectionType: ProjectionType.ALL,
        });
      }
      tables[key] = table;
    }
    this.tables = Object.freeze(tables);
  }

  /** The environment variables naming the tables (the store's TABLE_ENV). */
  environment(): Record<string, string> {
    return Object.fromEntries(
      (Object.keys(this.tables) as TableKey[]).map((key) => [TABLE_ENV[key], this.tables[key].tableName]),
    );
  }

  all(): Table[] {
    return Object.values(this.tables);
  }
}
