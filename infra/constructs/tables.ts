/**
 * The four tables, built from the one definition the store code uses (src/store/tables.ts): keys,
 * indexes, their projections and TTL cannot drift between the code and the cloud. On-demand billing,
 * point-in-time recovery, TTL on `expiresAt`, AWS-owned encryption at rest (DynamoDB's default).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  type IndexProjection,
  type KeyDefinition,
  TABLE_ENV,
  TABLES,
  type TableKey,
} from '../../src/store/tables.js';
import type { TableGrants } from '../permissions.js';

const TYPES = { S: AttributeType.STRING, N: AttributeType.NUMBER } as const;

function attribute(key: KeyDefinition): { name: string; type: AttributeType } {
  return { name: key.name, type: TYPES[key.type] };
}

function projection(p: IndexProjection): { projectionType: ProjectionType; nonKeyAttributes?: string[] } {
  return p.type === 'INCLUDE'
    ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...p.attributes] }
    : { projectionType: ProjectionType.KEYS_ONLY };
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
          ...projection(index.projection),
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

  /**
   * Exactly the actions `grants` names (infra/permissions.ts), table by table, and `dynamodb:Query` on
   * the named indexes only. Not Table.grant(): on a table with indexes it adds `<table>/index/*`, every
   * index, whatever the grantee queries.
   */
  grant(grantee: IGrantable, grants: TableGrants): void {
    for (const key of Object.keys(grants) as TableKey[]) {
      const access = grants[key];
      if (access === undefined) continue;
      const table = this.tables[key];
      if (access.actions.includes('Scan') !== (access.scan !== undefined)) {
        throw new Error(
          `RelayTables.grant: a Scan of ${key} needs its reason (scan), and only a Scan has one.`,
        );
      }
      if (access.actions.length > 0) {
        Grant.addToPrincipal({
          grantee,
          actions: access.actions.map((action) => `dynamodb:${action}`),
          resourceArns: [table.tableArn],
        });
      }
      const indexes = access.indexes ?? [];
      const unknown = indexes.filter((name) => !TABLES[key].indexes.some((index) => index.name === name));
      if (unknown.length > 0) throw new Error(`RelayTables.grant: ${key} has no index ${unknown.join(', ')}`);
      if (indexes.length > 0) {
        Grant.addToPrincipal({
          grantee,
          actions: ['dynamodb:Query'],
          resourceArns: indexes.map((name) => `${table.tableArn}/index/${name}`),
        });
      }
    }
  }
}
