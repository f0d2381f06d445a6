/**
 * dynalite in this process, reachable two ways that run the same request listener (so both are counted,
 * traced and waited for by close() alike): `requestHandler`, which the SDK clients of this process use,
 * hands requests to it without a socket; `endpoint` is a loopback HTTP server. The endpoint stays: the
 * SDK needs an endpoint URL to build and sign requests even in-process, and other processes (and the
 * tests that want the HTTP path) reach the engine over it.
 */
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import dynalite from 'dynalite';
import { keepIdleSockets } from '../aws/idle-sockets.js';
import {
  type InProcessRequestHandler,
  inProcessRequestHandler,
  type RequestListener,
} from '../aws/in-process-handler.js';
import { type PortRequest, type ThreadRequestHandler, threadRequestHandler } from '../aws/thread-handler.js';

/** How long close() waits for requests still in progress. */
const CLOSE_WAIT_MS = 15_000;
/** The most trace records kept; the oldest go first. */
const TRACE_LIMIT = 100_000;

/** One request dynalite answered, in epoch milliseconds with sub-millisecond precision. */
export interface DynamoTraceRecord {
  /** 'GetItem', 'Query' …: the part of `X-Amz-Target` after the dot. */
  readonly operation: string;
  /** When dynalite received the request. */
  readonly start: number;
  /** When it finished the response. */
  readonly end: number;
}

/** What an SDK client's `requestHandler` option takes (both kinds of embedded engine have one). */
export type EmbeddedRequestHandler = InProcessRequestHandler | ThreadRequestHandler;

export interface EmbeddedDynamo<H extends EmbeddedRequestHandler = EmbeddedRequestHandler> {
  /**
   * http://127.0.0.1:PORT: the endpoint for a DynamoDBClient. Still needed with `requestHandler`: the
   * SDK builds (and signs) every request for an endpoint URL even when no socket carries it; and other
   * processes reach the engine over it.
   */
  readonly endpoint: string;
  /**
   * The `requestHandler` for a DynamoDBClient in this process: requests go straight to dynalite's
   * request listener, with no loopback hop, and are counted, traced and waited for like HTTP ones.
   */
  readonly requestHandler: H;
  /** Requests answered so far, by operation ('GetItem', 'Query' …): what a benchmark counts per message. */
  requests(): Record<string, number>;
  /** Starts (true) or stops (false) recording requests for `traced()`; either way clears what was kept. */
  trace(enabled: boolean): void;
  /** The requests recorded since `trace(true)`, in the order they finished (the last 100,000 at most). */
  traced(): readonly DynamoTraceRecord[];
  close(): Promise<void>;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/**
 * dynalite, the pure-JavaScript DynamoDB engine, in this process (in memory): over HTTP on loopback at
 * `endpoint`, and without a socket through `requestHandler`. Both run the same request listener. It
 * starts in milliseconds: local mode and quick tests use it; the store's contract suite also runs on
 * DynamoDB Local.
 */
export async function startDynalite(
  options: { host?: string; port?: number } = {},
): Promise<EmbeddedDynamo<InProcessRequestHandler>> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite's own listener, taken off its server so both transports run the counting listener below.
  const serve = server.listeners('request');
  if (serve.length !== 1 || typeof serve[0] !== 'function') {
    throw new Error(
      `startDynalite: expected one request listener on dynalite's server, found ${serve.length}`,
    );
  }
  const dynaliteListener = serve[0] as RequestListener;
  server.removeAllListeners('request');

  // Requests dynalite is still working on. A request whose client has gone (a destroyed SDK client, a
  // handler that timed out, an aborted in-process request) is still processed; closing the database under
  // it throws an uncaught error from inside dynalite. So close waits until every request has been
  // answered (bounded).
  let active = 0;
  let closed: Promise<void> | undefined;
  let stopped = false;
  const requests: Record<string, number> = {};
  let records: DynamoTraceRecord[] | undefined;
  let oldest = 0;
  const record = (entry: DynamoTraceRecord): void => {
    if (!records) return;
    if (records.length < TRACE_LIMIT) records.push(entry);
    else {
      records[oldest] = entry;
      oldest = (oldest + 1) % TRACE_LIMIT;
    }
  };

  const listener: RequestListener = (request, response) => {
    if (stopped) {
      // Only in-process requests get here: the HTTP server has stopped listening, and the database is shut.
      response.destroy(Object.assign(new Error('dynalite is closed'), { code: 'ECONNREFUSED' }));
      return;
    }
    active++;
    // The operation is the part of `X-Amz-Target` after the dot (DynamoDB_20120810.GetItem).
    const target = String(request.headers['x-amz-target'] ?? 'unknown');
    const operation = target.slice(target.indexOf('.') + 1);
    requests[operation] = (requests[operation] ?? 0) + 1;
    // Which trace this request belongs to: one that was cleared or stopped meanwhile gets no record.
    const traceAtStart = records;
    const start = traceAtStart ? epochNow() : 0;
    const end = response.end.bind(response) as (...args: unknown[]) => unknown;
    let counted = true;
    response.end = ((...args: unknown[]) => {
      if (counted) {
        counted = false;
        active--;
        if (traceAtStart && traceAtStart === records) record({ operation, start, end: epochNow() });
      }
      return end(...args);
    }) as typeof response.end;
    dynaliteListener(request, response);
  };
  server.on('request', listener);
  keepIdleSockets(server);

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    requestHandler: inProcessRequestHandler(listener),
    requests: () => ({ ...requests }),
    trace(enabled) {
      records = enabled ? [] : undefined;
      oldest = 0;
    },
    traced() {
      if (!records) return [];
      return [...records.slice(oldest), ...records.slice(0, oldest)];
    },
    close() {
      closed ??= (async () => {
        const deadline = Date.now() + CLOSE_WAIT_MS;
        while (active > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        stopped = true;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closed;
    },
  };
}

/**
 * dynalite on a thread of its own (src/store/dynalite-thread.ts): SDK clients of this process reach it
 * through `requestHandler` over a MessagePort, other processes over `endpoint`. Its event loop then serves
 * nothing but DynamoDB, on the second core, while this thread runs the rest (src/aws/thread-handler.ts
 * says why that matters). `requests()` and `traced()` count what this process sent (not what other
 * processes send to the endpoint); a trace's times are this thread's, the crossing included.
 *
 * The thread loads the TypeScript sources through tsx's loader, as local mode runs them.
 */
export async function startDynaliteThread(
  options: { host?: string; port?: number } = {},
): Promise<EmbeddedDynamo<ThreadRequestHandler>> {
  const entry = new URL('./dynalite-thread.ts', import.meta.url).href;
  const worker = new Worker(
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`,
    { eval: true, workerData: { host: options.host ?? '127.0.0.1', port: options.port ?? 0 } },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    const onMessage = (message: { type?: string; endpoint?: string }) => {
      if (message.type !== 'ready' || message.endpoint === undefined) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve(message.endpoint);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
  const requests: Record<string, number> = {};
  let records: DynamoTraceRecord[] | undefined;
  const handler = threadRequestHandler(worker, (request: PortRequest) => {
    const target = String(request.headers['x-amz-target'] ?? 'unknown');
    const operation = target.slice(target.indexOf('.') + 1);
    requests[operation] = (requests[operation] ?? 0) + 1;
    const trace = records;
    if (trace === undefined) return undefined;
    const start = epochNow();
    return () => {
      if (trace === records && trace.length < TRACE_LIMIT) trace.push({ operation, start, end: epochNow() });
    };
  });
  let closed: Promise<void> | undefined;
  return {
    endpoint,
    requestHandler: handler,
    requests: () => ({ ...requests }),
    trace(enabled) {
      records = enabled ? [] : undefined;
    },
    traced: () => [...(records ?? [])].sort((a, b) => a.end - b.end),
    close() {
      closed ??= (async () => {
        const done = new Promise<void>((resolve) => {
          worker.on('message', (message: { type?: string }) => {
            if (message.type === 'closed') resolve();
          });
          worker.once('exit', () => resolve());
        });
        worker.postMessage({ type: 'close' });
        await done;
        await worker.terminate();
      })();
      return closed;
    },
  };
}
