import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface EmbeddedDynamo {
  /** http://127.0.0.1:PORT: the endpoint for a DynamoDBClient. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * dynalite, the pure-JavaScript DynamoDB engine, in this process on loopback (in memory). It starts in
 * milliseconds: local mode and quick tests use it; the store's contract suite also runs on DynamoDB Local.
 */
export async function startDynalite(options: { host?: string; port?: number } = {}): Promise<EmbeddedDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return closed;
    },
  };
}
