/**
 * Runs a contract suite once per DynamoDB engine (dynalite, and DynamoDB Local where Java is present,
 * always in CI). Each engine starts once per test file with freshly provisioned tables; tests isolate
 * themselves by using fresh session, connection and worker ids (see `uniqueId`).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { StoreError } from '../../src/store/errors.js';
import { provisionTables } from '../../src/store/provision.js';
import { createStoreContext, type StoreContext } from '../../src/store/store-context.js';
import { tableNames } from '../../src/store/tables.js';
import { type Engine, engineStarters } from '../../support/engines.js';

export interface EngineFixture {
  readonly engine: Engine['name'];
  /** A store context on this engine; `now` can be moved by the test through `clock`. */
  readonly store: () => StoreContext;
  readonly client: () => DynamoDBClient;
  readonly clock: { now: number };
}

/** The StoreError code a promise rejects with, or 'resolved'; any other error is rethrown. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoreError) return error.code;
    throw error;
  }
  return 'resolved';
}

export function uniqueId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}

export function describeOnEngines(title: string, suite: (fixture: EngineFixture) => void): void {
  for (const { name, start } of engineStarters()) {
    describe(`${title} [${name}]`, () => {
      let engine: Engine | undefined;
      let client: DynamoDBClient | undefined;
      let context: StoreContext | undefined;
      // The real time (to the whole hour), which tests move forward: DynamoDB Local deletes items whose TTL
      // (computed from this clock) is past in real time, so a fixed date in the past lost rows mid-test.
      const clock = { now: Math.floor(Date.now() / 3_600_000) * 3_600_000 };
      const tables = tableNames(`contract-${randomUUID().slice(0, 8)}-`);

      beforeAll(async () => {
        engine = await start();
        client = engine.client();
        await provisionTables(client, tables);
        context = createStoreContext({ client, tables, now: () => clock.now });
      }, 60_000);

      afterAll(async () => {
        client?.destroy();
        await engine?.close();
      });

      suite({
        engine: name,
        clock,
        store: () => {
          if (!context) throw new Error('engine not started');
          return context;
        },
        client: () => {
          if (!client) throw new Error('engine not started');
          return client;
        },
      });
    });
  }
}

/** The part of the SDK's middleware contract the tests use (the full types live in @smithy/types). */
export type TestHandler = (args: { input: Record<string, unknown> }) => Promise<unknown>;
export type TestMiddleware = (next: TestHandler, context: { commandName?: string }) => TestHandler;

/**
 * A second client on the same engine with `middleware` at the 'initialize' step (which wraps the SDK's
 * retries: what it throws or returns reaches the caller as is), so that a test's tampering cannot touch
 * the shared client. One attempt per request; the middleware cache on, as the store's clients run.
 */
export async function separateClient(
  shared: DynamoDBClient,
  middleware: TestMiddleware,
): Promise<DynamoDBClient> {
  const endpoint = await shared.config.endpoint?.();
  if (!endpoint) throw new Error('the shared client has no endpoint');
  const client = new DynamoDBClient({
    endpoint: `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    cacheMiddleware: true,
  });
  // `as never`: our narrower middleware type is structurally what the SDK calls; its overloads cannot be
  // named without importing a transitive package.
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'testTamper' });
  return client;
}
