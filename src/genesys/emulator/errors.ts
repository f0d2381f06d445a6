/** Errors of the emulator's own APIs (agent console, faults, REST). Each has a stable code and an HTTP status. */

export type EmulatorErrorCode =
  /** No session has this token (never configured, or cleared). */
  | 'session_not_found'
  /** No message with this id in the session's conversation. */
  | 'message_not_found'
  /** The session expired: nothing more can happen in it. */
  | 'session_expired'
  /** The conversation is read-only or already ended: it takes no more agent messages. */
  | 'conversation_ended'
  /** A reply or request body that does not validate. */
  | 'invalid_request';

const STATUS: Readonly<Record<EmulatorErrorCode, number>> = {
  session_not_found: 404,
  message_not_found: 404,
  session_expired: 409,
  conversation_ended: 409,
  invalid_request: 400,
};

export class EmulatorError extends Error {
  override readonly name = 'EmulatorError';
  readonly code: EmulatorErrorCode;
  readonly status: number;

  constructor(code: EmulatorErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.status = STATUS[code];
  }
}
