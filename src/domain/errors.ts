/**
 * Errors raised by the pure domain core. Each carries a stable `code` that is also a public protocol
 * error code (see `src/protocol/error-codes.ts`, which checks at compile time that every code here is
 * documented there), a human message, and structured `details` safe to show a frontend.
 */

/** Codes the domain core can produce. Every one is a public protocol error code. */
export type DomainErrorCode =
  | 'text_too_long'
  | 'text_invalid'
  | 'context_too_large'
  | 'context_invalid'
  | 'attachment_type_not_allowed'
  | 'attachment_extension_blocked'
  | 'attachment_too_large'
  | 'attachment_empty'
  | 'attachment_name_invalid';

export type ErrorDetails = Readonly<Record<string, string | number | boolean | readonly string[]>>;

export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  readonly code: DomainErrorCode;
  readonly details: ErrorDetails;
  /** Domain errors describe the caller's own input, so they are always safe to show that caller. */
  readonly expose = true;

  constructor(code: DomainErrorCode, message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/** Input that breaks one of the session's channel constraints (text, attachment or custom data). */
export class ConstraintError extends DomainError {
  override readonly name = 'ConstraintError';
}
