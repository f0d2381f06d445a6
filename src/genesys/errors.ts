/**
 * Errors of the Genesys guest protocol. Codes are stable strings; `genesysCode` keeps the wire code
 * (reference §6) where there is one.
 */

export type GenesysErrorCode =
  /** Genesys answered a request with an error code (class "string", code ≠ 200). */
  | 'GENESYS_REQUEST_REJECTED'
  /** 429 / TooManyRequestsErrorMessage: too many onMessage for this session. */
  | 'GENESYS_RATE_LIMITED'
  /** The session expired (SessionExpiredEvent or 4006). */
  | 'GENESYS_SESSION_EXPIRED'
  /** The conversation is read-only: a new session must be started. */
  | 'GENESYS_READ_ONLY'
  /** The socket closed or could not be opened; the request may or may not have reached Genesys. */
  | 'GENESYS_CONNECTION_LOST'
  /** The client was closed on purpose; nothing more will be sent. */
  | 'GENESYS_CLOSED'
  /** No answer came in time. */
  | 'GENESYS_TIMEOUT'
  /** An attachment upload failed (presigned PUT refused, or UploadFailureEvent). */
  | 'GENESYS_UPLOAD_FAILED'
  /** A REST call (history, JWT, config) failed. */
  | 'GENESYS_HTTP_ERROR'
  /** The guest session's send queue is full: the send was refused at once, nothing went upstream. */
  | 'GENESYS_QUEUE_FULL'
  /** The client's configuration is missing or invalid (endpoint, region, options). */
  | 'GENESYS_CONFIG_INVALID'
  /** The call does not fit the session's current state (e.g. startNew on a session that is not read-only). */
  | 'GENESYS_INVALID_STATE'
  /** The upstream socket sent a frame over the client's cap (ws closed it with 1009); the session failed. */
  | 'GENESYS_FRAME_TOO_LARGE'
  /** An HTTP answer (history page, upload answer) was over the client's cap; reading stopped there. */
  | 'GENESYS_RESPONSE_TOO_LARGE'
  /** The presigned upload URL Genesys returned is not one the client PUTs to (scheme or host); nothing was sent. */
  | 'GENESYS_UPLOAD_URL_REFUSED';

export class GenesysError extends Error {
  override readonly name: string = 'GenesysError';
  readonly code: GenesysErrorCode;
  /** The wire error code (4011, 4013, 429, …), when Genesys gave one. */
  readonly genesysCode: number | undefined;

  constructor(
    code: GenesysErrorCode,
    message: string,
    options: { genesysCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.genesysCode = options.genesysCode;
  }
}

/** Genesys refused a request; `genesysCode` says why (4011 message too long, 4013 attributes too large, …). */
export class GenesysRequestError extends GenesysError {
  override readonly name = 'GenesysRequestError';
  constructor(genesysCode: number, message: string) {
    super('GENESYS_REQUEST_REJECTED', message, { genesysCode });
  }
}

/** Genesys asked us to slow down: nothing may be sent for `retryAfterMs`. */
export class GenesysRateLimitError extends GenesysError {
  override readonly name = 'GenesysRateLimitError';
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message: string) {
    super('GENESYS_RATE_LIMITED', message, { genesysCode: 429 });
    this.retryAfterMs = retryAfterMs;
  }
}
