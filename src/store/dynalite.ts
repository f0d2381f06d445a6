import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/** How long close() waits for requests still in progress. */
const CLOSE_WAIT_MS = 15_000;

export interface EmbeddedDynamo {
  /** http://127.0.0.1:PORT: the endpoint for a DynamoDBClient. */
  readonly endpoint: string;
  /** Requests answered so far, by operation ('GetItem', 'Query' …): what a benchmark counts per message. */
  requests(): Record<string, number>;
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
  // Requests dynalite is still working on. A request whose client has gone (a destroyed SDK client, a
  // handler that timed out) is still processed; closing the database under it throws an uncaught error
  // from inside dynalite. So close waits until every request has been answered (bounded).
  let active = 0;
  const requests: Record<string, number> = {};
  server.on('request', (request, response) => {
    active++;
    // The operation is the part of `X-Amz-Target` after the dot (DynamoDB_20120810.GetItem).
    const target = String(request.headers['x-amz-target'] ?? 'unknown');
    const operation = target.slice(target.indexOf('.') + 1);
    requests[operation] = (requests[operation] ?? 0) + 1;
    const end = response.end.bind(response) as (...args: unknown[]) => unknown;
    let counted = true;
    response.end = ((...args: unknown[]) => {
      if (counted) {
        counted = false;
        active--;
      }
      return end(...args);
    }) as typeof response.end;
  });
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    requests: () => ({ ...requests }),
    close() {
      closed ??= (async () => {
        const deadline = Date.now() + CLOSE_WAIT_MS;
        while (active > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closed;
    },
  };
}
