/**
 * Posts to and disconnects frontend connections through API Gateway's `@connections` API. The SDK client
 * is injected and its endpoint comes from config (`stage.callbackUrl` in AWS, the emulator's
 * `managementEndpoint` locally), never from an event's `domainName`, which is wrong behind a custom domain
 * and locally (aws-notes §1.4, §1.6).
 *
 * A 410 is a normal outcome, not an error: the connection is gone, its row is deleted (the connection
 * that was posted to, not the caller's) and `{ gone: true }` is returned. A 429, a 5xx or a failed
 * connection is retried after a full-jitter backoff delay, a bounded number of times, abortably: a post
 * that is dropped reaches a frontend that stays connected by no other way (only a resume replays). So a
 * post is delivered at least once: one whose connection failed after the gateway took it may arrive
 * twice (message events carry their `sequenceId`; doorbells are idempotent). Everything else becomes a
 * GatewayError.
 * A message over 32 KB is still one POST: API Gateway splits it into frames itself.
 */
import {
  ApiGatewayManagementApiClient,
  type ApiGatewayManagementApiClientConfig,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { withoutSdkLogger } from '../aws/without-sdk-logger.js';
import { type BackoffPolicy, backoffPolicy, nextDelay, sleep } from '../domain/backoff.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { withDefaults } from '../domain/options.js';
import { GatewayError, isGone, isThrottled, isTransient, toGatewayError } from './errors.js';

/** What the client needs of the SDK client: `send`. */
export interface ManagementSdk {
  send(
    command: PostToConnectionCommand | DeleteConnectionCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<unknown>;
}

/** Where stale rows go: the ConnectionStore fits. */
export interface StaleConnectionSink {
  delete(connectionId: string): Promise<unknown>;
}

export interface ManagementClientOptions {
  /** Total tries of one call while it is throttled or fails transiently (>= 1). */
  readonly maxAttempts: number;
  /** Delays between those tries. */
  readonly backoff: BackoffPolicy;
  readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  readonly random: () => number;
}

export interface ManagementClientDeps {
  readonly sdk: ManagementSdk;
  readonly connections: StaleConnectionSink;
}

export type DeliveryResult = { readonly gone: false } | { readonly gone: true };

const DEFAULTS: ManagementClientOptions = Object.freeze({
  maxAttempts: 4,
  backoff: backoffPolicy({ baseMs: 50, capMs: 1_000, factor: 2, minUptimeMs: 0 }),
  clock: systemClock,
  random: Math.random,
});

export class ManagementClient {
  readonly #sdk: ManagementSdk;
  readonly #connections: StaleConnectionSink;
  readonly #options: ManagementClientOptions;

  constructor(deps: ManagementClientDeps, options: Partial<ManagementClientOptions> = {}) {
    const merged = withDefaults('ManagementClient', DEFAULTS, options);
    if (!Number.isSafeInteger(merged.maxAttempts) || merged.maxAttempts < 1) {
      throw new RangeError(
        `ManagementClient: maxAttempts must be an integer >= 1, got ${merged.maxAttempts}`,
      );
    }
    this.#sdk = deps.sdk;
    this.#connections = deps.connections;
    this.#options = merged;
  }

  /** Sends `data` (a UTF-8 string or bytes) to the connection as one message. @throws GatewayError */
  post(
    connectionId: string,
    data: string | Uint8Array,
    options: { signal?: AbortSignal } = {},
  ): Promise<DeliveryResult> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.#call(
      connectionId,
      () => new PostToConnectionCommand({ ConnectionId: connectionId, Data: bytes }),
      `post to connection ${connectionId}`,
      options.signal,
    );
  }

  /** Disconnects the connection (its $disconnect runs). A gone connection is not an error. @throws GatewayError */
  delete(connectionId: string, options: { signal?: AbortSignal } = {}): Promise<DeliveryResult> {
    return this.#call(
      connectionId,
      () => new DeleteConnectionCommand({ ConnectionId: connectionId }),
      `delete of connection ${connectionId}`,
      options.signal,
    );
  }

  async #call(
    connectionId: string,
    command: () => PostToConnectionCommand | DeleteConnectionCommand,
    context: string,
    signal: AbortSignal | undefined,
  ): Promise<DeliveryResult> {
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted)
        throw new GatewayError('GATEWAY_ABORTED', `${context}: aborted`, { cause: signal.reason });
      try {
        await this.#sdk.send(command(), signal ? { abortSignal: signal } : undefined);
        return { gone: false };
      } catch (error) {
        if (isGone(error)) {
          await this.#forget(connectionId, context, error);
          return { gone: true };
        }
        if (!(isThrottled(error) || isTransient(error)) || attempt + 1 >= this.#options.maxAttempts) {
          throw toGatewayError(error, attempt > 0 ? `${context} (after ${attempt + 1} attempts)` : context);
        }
        const delay = nextDelay(attempt, this.#options.backoff, this.#options.random);
        try {
          await sleep(delay, { clock: this.#options.clock, signal });
        } catch (abort) {
          throw new GatewayError('GATEWAY_ABORTED', `${context}: aborted between attempts`, { cause: abort });
        }
      }
    }
  }

  async #forget(connectionId: string, context: string, gone: unknown): Promise<void> {
    try {
      await this.#connections.delete(connectionId);
    } catch (error) {
      throw new GatewayError(
        'GATEWAY_FAILED',
        `${context}: connection gone, but its row could not be deleted`,
        {
          cause: new AggregateError([gone, error]),
        },
      );
    }
  }
}

export interface ManagementSdkConfig {
  /** The management endpoint, from config: `https://{api}.execute-api.{region}.amazonaws.com/{stage}` or the emulator's. */
  readonly endpoint: string;
  readonly region: string;
  /** Default: the SDK's default chain. Locally any static pair works (the emulator checks presence only). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** Default: the SDK's HTTP handler. Locally the emulator's `requestHandler`, which skips the loopback hop. */
  readonly requestHandler?: ApiGatewayManagementApiClientConfig['requestHandler'] | undefined;
  /** Default: SigV4. Locally `localSigner` (the emulator checks the headers' shape, not the signature). */
  readonly signer?: ApiGatewayManagementApiClientConfig['signer'] | undefined;
}

/**
 * The SDK client as the ManagementClient expects it: `maxAttempts: 1`, because the SDK's own standard
 * retry would retry 429s and failed connections as well and multiply the attempts; ManagementClient owns
 * that policy.
 */
export function createManagementSdk(config: ManagementSdkConfig): ApiGatewayManagementApiClient {
  if (!/^https?:\/\//.test(config.endpoint)) {
    throw new TypeError(`createManagementSdk: endpoint must be an http(s) URL, got "${config.endpoint}"`);
  }
  const client = new ApiGatewayManagementApiClient({
    endpoint: config.endpoint,
    region: config.region,
    maxAttempts: 1,
    // The middleware stack is resolved once per command type (requests sent without options only).
    cacheMiddleware: true,
    ...(config.credentials ? { credentials: config.credentials } : {}),
    ...(config.requestHandler ? { requestHandler: config.requestHandler } : {}),
    ...(config.signer ? { signer: config.signer } : {}),
  });
  // No logger is configured: the SDK's logger middleware would only copy every input and output.
  return withoutSdkLogger(client);
}
