import { excerpt } from '../domain/characters.js';
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

/**
 * Bounds on what an error repeats, so that a hostile frame can neither make the answer large nor put
 * control or bidi characters into it: every string is cut short (an ellipsis marks
 * the cut) with such characters replaced by U+FFFD, and lists keep their first few items. The fuzz run
 * (bench/fuzz/run.ts) holds every hostile frame's error event under 4 KB.
 */
export const ERROR_ECHO_LIMITS = Object.freeze({
  /** Code points of `message` (and `error`). */
  message: 512,
  /** Code points of `action`. */
  action: 64,
  /** Code points of a string in `details`. */
  detail: 128,
  /** Items of a list in `details` (field names, ...). */
  items: 10,
  /** Code points of one item of such a list. */
  item: 64,
});

function boundDetails(details: ErrorDetails | undefined): ErrorDetails | undefined {
  if (details === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(details)
      .slice(0, ERROR_ECHO_LIMITS.items)
      .map(([key, value]) => [
        excerpt(key, ERROR_ECHO_LIMITS.item),
        typeof value === 'string'
          ? excerpt(value, ERROR_ECHO_LIMITS.detail)
          : typeof value === 'object'
            ? value.slice(0, ERROR_ECHO_LIMITS.items).map((item) => excerpt(item, ERROR_ECHO_LIMITS.item))
            : value,
      ]),
  );
}

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
    super(
      excerpt(message, ERROR_ECHO_LIMITS.message),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.action =
      options.action === undefined ? undefined : excerpt(options.action, ERROR_ECHO_LIMITS.action);
    this.clientMessageId = options.clientMessageId;
    this.retryAfterMs = options.retryAfterMs;
    this.details = boundDetails(options.details);
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
