/**
 * Errors of the gateway adapter with stable codes. SDK exceptions of
 * `@aws-sdk/client-apigatewaymanagementapi` are mapped here, so callers branch on our codes and never
 * on SDK class names. None of these is safe to show a frontend as is (`expose` false).
 */

export type GatewayErrorCode =
  /** The message is larger than API Gateway's 128 KB (413 PayloadTooLargeException). */
  | 'GATEWAY_PAYLOAD_TOO_LARGE'
  /** Still throttled (429 LimitExceededException) after every allowed attempt. */
  | 'GATEWAY_THROTTLED'
  /** The caller may not manage connections of this API (403 ForbiddenException): IAM or endpoint wrong. */
  | 'GATEWAY_FORBIDDEN'
  /** 5xx, timeout or network failure: retrying later may succeed. */
  | 'GATEWAY_UNAVAILABLE'
  /** The caller's AbortSignal fired. */
  | 'GATEWAY_ABORTED'
  /** Anything else. */
  | 'GATEWAY_FAILED';

export class GatewayError extends Error {
  override readonly name: string = 'GatewayError';
  readonly code: GatewayErrorCode;
  readonly retryable: boolean;
  /** HTTP status from the management API, when there was one. */
  readonly status: number | undefined;
  readonly expose = false;

  constructor(
    code: GatewayErrorCode,
    message: string,
    options: { cause?: unknown; status?: number | undefined } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.retryable = code === 'GATEWAY_THROTTLED' || code === 'GATEWAY_UNAVAILABLE';
  }
}

/** Name and HTTP status of anything the SDK (or the network) throws. */
export function describeSdkError(error: unknown): { name: string; status: number | undefined } {
  const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const name = typeof e?.name === 'string' ? e.name : typeof e?.code === 'string' ? e.code : 'Error';
  const raw = e?.$metadata?.httpStatusCode;
  return { name, status: typeof raw === 'number' ? raw : undefined };
}

/** GoneException, or any 410 (a proxy that drops `x-amzn-ErrorType` yields name 'Unknown'). */
export function isGone(error: unknown): boolean {
  const { name, status } = describeSdkError(error);
  return name === 'GoneException' || status === 410;
}

export function isThrottled(error: unknown): boolean {
  const { name, status } = describeSdkError(error);
  return name === 'LimitExceededException' || name === 'TooManyRequestsException' || status === 429;
}

/**
 * A failure worth another try: a 5xx, or the connection failing (reset, refused, timed out). A reused
 * keep-alive socket that the server closed as it was taken ("socket hang up") is the everyday case.
 */
export function isTransient(error: unknown): boolean {
  const { name, status } = describeSdkError(error);
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (status !== undefined && status >= 500) ||
    NETWORK.has(name) ||
    (typeof code === 'string' && NETWORK.has(code))
  );
}

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);

/** Maps a non-410, non-429 failure. `context` names the operation; it never contains message data. */
export function toGatewayError(error: unknown, context: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const { name, status } = describeSdkError(error);
  if (name === 'AbortError')
    return new GatewayError('GATEWAY_ABORTED', `${context}: aborted`, { cause: error, status });
  if (name === 'PayloadTooLargeException' || status === 413) {
    return new GatewayError('GATEWAY_PAYLOAD_TOO_LARGE', `${context}: message larger than 128 KB`, {
      cause: error,
      status,
    });
  }
  if (name === 'ForbiddenException' || status === 403) {
    return new GatewayError('GATEWAY_FORBIDDEN', `${context}: forbidden (${name})`, { cause: error, status });
  }
  if (isThrottled(error)) {
    return new GatewayError('GATEWAY_THROTTLED', `${context}: throttled`, { cause: error, status });
  }
  if (isTransient(error)) {
    return new GatewayError('GATEWAY_UNAVAILABLE', `${context}: management API unavailable (${name})`, {
      cause: error,
      status,
    });
  }
  return new GatewayError('GATEWAY_FAILED', `${context}: ${name}`, { cause: error, status });
}
