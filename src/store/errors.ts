/**
 * Store errors with stable codes. Vendor errors (AWS SDK exceptions) are mapped here, at the adapter,
 * so callers branch on our codes and never on SDK class names or message text.
 */

export type StoreErrorCode =
  /** A conditional write lost: the item changed (or exists) since it was read. */
  | 'STORE_CONFLICT'
  /** The item does not exist. */
  | 'STORE_NOT_FOUND'
  /** The caller's ownership epoch is stale: another worker owns the session now. */
  | 'STORE_FENCED'
  /** The session already has a live owner; it cannot be claimed. */
  | 'STORE_CLAIM_REFUSED'
  /** An item would exceed DynamoDB's 400 KB limit; refused before reaching the engine. */
  | 'STORE_ITEM_TOO_LARGE'
  /** The same idempotency key was used for a different payload. */
  | 'STORE_IDEMPOTENCY_MISMATCH'
  /** Too many pending commands for one session. */
  | 'STORE_QUEUE_FULL'
  /** A continuation token was not produced by this store for this query. */
  | 'STORE_INVALID_CURSOR'
  /** The engine refused the request as malformed (a bug here, or a table that does not match). */
  | 'STORE_INVALID_REQUEST'
  /** Throttled, timed out or unavailable: retrying later may succeed. */
  | 'STORE_UNAVAILABLE'
  /** Anything else. */
  | 'STORE_FAILED';

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  readonly code: StoreErrorCode;
  readonly retryable: boolean;

  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? code === 'STORE_UNAVAILABLE';
  }
}

/** Exception names (the SDK's `name`) that mean "busy or down, try later". */
const UNAVAILABLE_NAMES: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * Node's network error codes (the `code` of the Error the SDK's request handler rethrows, whose `name` is
 * plain "Error"): the request never got an answer, so DynamoDB is unreachable, not failing. Node's own
 * "socket hang up" is an ECONNRESET.
 */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * True when the error says DynamoDB could not be reached or is busy: a throttling or server-side
 * exception by name, a network error by code, an HTTP 5xx, or an error that passed the SDK's retry
 * layer (it has `$metadata`) without any HTTP response (no `httpStatusCode`): the request handler
 * failed before DynamoDB answered.
 */
function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code, $metadata } = error as { name?: unknown; code?: unknown; $metadata?: unknown };
  if (typeof name === 'string' && UNAVAILABLE_NAMES.has(name)) return true;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_NAMES.has(code))) return true;
  if (typeof $metadata !== 'object' || $metadata === null) return false;
  const status = ($metadata as { httpStatusCode?: unknown }).httpStatusCode;
  if (typeof status === 'number') return status >= 500;
  return true;
}

/**
 * Maps anything the SDK throws to a StoreError. `context` names the operation for the message; it must
 * never contain item contents (they may hold guest text or tokens).
 */
export function toStoreError(error: unknown, context: string): StoreError {
  if (error instanceof StoreError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  const code = (error as { code?: unknown } | null)?.code;
  // A plain Error's name says nothing ("Error"); its code (ECONNREFUSED, ...) does.
  const kind =
    typeof name === 'string' && name !== 'Error' ? name : typeof code === 'string' ? code : 'Error';
  if (kind === 'ConditionalCheckFailedException') {
    return new StoreError('STORE_CONFLICT', `${context}: the item changed since it was read`, {
      cause: error,
    });
  }
  if (kind === 'ResourceNotFoundException') {
    return new StoreError('STORE_INVALID_REQUEST', `${context}: table not found`, { cause: error });
  }
  if (kind === 'ValidationException' || kind === 'SerializationException') {
    return new StoreError('STORE_INVALID_REQUEST', `${context}: the engine refused the request`, {
      cause: error,
    });
  }
  if (isUnavailable(error)) {
    return new StoreError('STORE_UNAVAILABLE', `${context}: DynamoDB is unavailable (${kind})`, {
      cause: error,
    });
  }
  return new StoreError('STORE_FAILED', `${context}: ${kind}`, { cause: error });
}
