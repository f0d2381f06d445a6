import { DomainError, type ErrorDetails } from '../domain/errors.js';
import { ERROR_CODES, type ErrorCode, isErrorCode } from './error-codes.js';
import type { ErrorEvent } from './server-events.js';

export interface ProtocolErrorOptions {
  /** The offending action, when it could be read from the frame. */
  readonly action?: string | undefined;
  readonly clientMessageId?: string | undefined;
  readonly retryAfterMs?: number | undefined;
  readonly details?: ErrorDetails | undefined;
  readonly cause?: unknown;
}

/** Longest `action` echoed back in an error, so a hostile frame cannot make the answer large. */
const MAX_ECHOED_ACTION = 64;

/**
 * A refused frame or command, ready to become one `error` event. Every ProtocolError is safe to show
 * the client that caused it (`expose`): its message never contains secrets or internals.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ErrorCode;
  readonly action: string | undefined;
  readonly clientMessageId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly details: ErrorDetails | undefined;
  readonly expose = true;

  constructor(code: ErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.action = options.action?.slice(0, MAX_ECHOED_ACTION);
    this.clientMessageId = options.clientMessageId;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  /** Turns a domain error (a broken channel constraint) into the protocol error it stands for. */
  static fromDomain(
    error: DomainError,
    context: Pick<ProtocolErrorOptions, 'action' | 'clientMessageId'> = {},
  ) {
    return new ProtocolError(error.code, error.message, { ...context, details: error.details, cause: error });
  }

  toEvent(): ErrorEvent {
    const event: ErrorEvent = {
      type: 'error',
      code: this.code,
      message: this.message,
      error: this.message,
      retryable: this.retryable,
    };
    if (this.retryAfterMs !== undefined) event.retryAfterMs = Math.max(0, Math.ceil(this.retryAfterMs));
    if (this.action !== undefined) event.action = this.action;
    if (this.clientMessageId !== undefined) event.clientMessageId = this.clientMessageId;
    if (this.details !== undefined && Object.keys(this.details).length > 0) {
      event.details = Object.fromEntries(
        Object.entries(this.details).map(([key, value]) => [
          key,
          typeof value === 'object' ? [...value] : value,
        ]),
      );
    }
    return event;
  }
}

/**
 * The `error` event for anything thrown while handling a frame. Only errors that are meant for the
 * client (ProtocolError, DomainError, or any error with `expose: true` and a known code) keep their
 * message; everything else becomes `internal_error` with a generic message, so that stack traces,
 * AWS details and secrets never reach a frontend.
 */
export function errorEventFor(
  error: unknown,
  context: Pick<ProtocolErrorOptions, 'action' | 'clientMessageId'> = {},
): ErrorEvent {
  if (error instanceof ProtocolError) return error.toEvent();
  if (error instanceof DomainError) return ProtocolError.fromDomain(error, context).toEvent();
  if (error instanceof Error && (error as { expose?: unknown }).expose === true) {
    const code = (error as { code?: unknown }).code;
    if (isErrorCode(code)) return new ProtocolError(code, error.message, context).toEvent();
  }
  return new ProtocolError(
    'internal_error',
    'Something went wrong on our side. Please try again.',
    context,
  ).toEvent();
}
