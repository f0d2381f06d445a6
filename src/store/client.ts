/**
 * The DynamoDB client of the Lambdas and the worker. Its requests are bounded: the SDK's default waits
 * for ever on a connection or an answer that never comes, so a Lambda would run into its own timeout
 * (10 s) and the guest would hear nothing. A request that times out is retried by the SDK (3 attempts
 * in all); one that still does not answer becomes STORE_UNAVAILABLE, which the guest hears as
 * `service_unavailable` with a retry delay.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** No answer to a request within this: the attempt fails (and is retried). */
export const DYNAMODB_REQUEST_TIMEOUT_MS = 1_500;
/** No connection within this: the attempt fails (and is retried). */
export const DYNAMODB_CONNECTION_TIMEOUT_MS = 1_000;

export interface DynamoClientOptions {
  readonly region: string;
  /** A local engine (DynamoDB Local); absent: AWS. */
  readonly endpoint?: string | undefined;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
}

export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  return new DynamoDBClient({
    region: options.region,
    // The middleware stack is resolved once per command type, not on every request (see document.ts).
    cacheMiddleware: true,
    requestHandler: {
      requestTimeout: DYNAMODB_REQUEST_TIMEOUT_MS,
      connectionTimeout: DYNAMODB_CONNECTION_TIMEOUT_MS,
      // Without it this version of the handler only logs a warning when the time is up, and waits on.
      throwOnRequestTimeout: true,
    },
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
  });
}
