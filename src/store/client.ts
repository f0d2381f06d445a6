/**
 * The DynamoDB client of the Lambdas and the worker. Its requests are bounded: the SDK's default waits
 * for ever on a connection or an answer that never comes, so a Lambda would run into its own timeout
 * (10 s) and the guest would hear nothing. A request that times out is retried by the SDK (3 attempts
 * in all); one that still does not answer becomes STORE_UNAVAILABLE, which the guest hears as
 * `service_unavailable` with a retry delay.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { withoutSdkLogger } from '../aws/without-sdk-logger.js';

/** No answer to a request within this: the attempt fails (and is retried). */
export const DYNAMODB_REQUEST_TIMEOUT_MS = 1_500;
/**
 * The same bound for a local engine (an `endpoint`: dynalite, DynamoDB Local). It shares the machine's
 * cores with the gateway, the handlers and the workers, and under load answers late but does answer: at
 * 1.5 s `npm run chaos -- --sessions 120 --rounds 36` timed out live requests and the SDK's retries of
 * applied writes stored duplicates; at 5 s a run still stopped on a read that timed out three times
 * (docs/performance.md). A local engine that hangs is still told apart, after three attempts.
 */
export const LOCAL_ENGINE_REQUEST_TIMEOUT_MS = 15_000;
/**
 * No connection within this: the attempt fails (and is retried). The SDK's HTTP handler starts this clock
 * when the request is made, not when it gets a socket, so a request queued behind the agent's busy
 * sockets (50 by default) counts its wait too: see `requestHandlerFor` for local engines.
 */
export const DYNAMODB_CONNECTION_TIMEOUT_MS = 1_000;

export interface DynamoClientOptions {
  readonly region: string;
  /** A local engine (DynamoDB Local); absent: AWS. */
  readonly endpoint?: string | undefined;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** Default: DYNAMODB_REQUEST_TIMEOUT_MS for AWS, LOCAL_ENGINE_REQUEST_TIMEOUT_MS with an endpoint. */
  readonly requestTimeoutMs?: number;
}

/** How long one attempt may wait for its answer: longer for a local engine than for AWS. */
export function requestTimeoutFor(
  options: Pick<DynamoClientOptions, 'endpoint' | 'requestTimeoutMs'>,
): number {
  if (options.requestTimeoutMs !== undefined) return options.requestTimeoutMs;
  return options.endpoint === undefined ? DYNAMODB_REQUEST_TIMEOUT_MS : LOCAL_ENGINE_REQUEST_TIMEOUT_MS;
}

/**
 * The HTTP handler's settings. AWS: the SDK's agent (50 sockets per origin) and a 1 s connection bound.
 * A local engine on loopback: no socket limit and the request's own bound for connecting. With the limit,
 * 120 reads at once in `npm run chaos -- --sessions 120` queued behind 50 sockets that a busy engine held,
 * and after 1 s in the queue failed as "the request socket did not establish a connection" although no
 * connection had been tried; three such attempts became STORE_UNAVAILABLE (docs/performance.md).
 */
export function requestHandlerFor(options: Pick<DynamoClientOptions, 'endpoint' | 'requestTimeoutMs'>): {
  readonly requestTimeout: number;
  readonly connectionTimeout: number;
  readonly throwOnRequestTimeout: true;
  readonly httpAgent?: { readonly keepAlive: true; readonly maxSockets: number };
} {
  const requestTimeout = requestTimeoutFor(options);
  const base = {
    requestTimeout,
    // Without it this version of the handler only logs a warning when the time is up, and waits on.
    throwOnRequestTimeout: true as const,
  };
  if (options.endpoint === undefined) return { ...base, connectionTimeout: DYNAMODB_CONNECTION_TIMEOUT_MS };
  return {
    ...base,
    connectionTimeout: requestTimeout,
    httpAgent: { keepAlive: true, maxSockets: Number.POSITIVE_INFINITY },
  };
}

export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  // No logger is configured, so the SDK's logger middleware only copies every item (without-sdk-logger.ts).
  const client = new DynamoDBClient({
    region: options.region,
    // The middleware stack is resolved once per command type, not on every request (see document.ts).
    cacheMiddleware: true,
    requestHandler: requestHandlerFor(options),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
  });
  return withoutSdkLogger(client);
}
