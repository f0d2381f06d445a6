import { ConfigError } from '../config/index.js';

/**
 * Why an access token was refused. Codes are stable: they appear in logs and in docs/auth.md, and the
 * authorizer maps them to its answer. A message never contains the token or the signing secret.
 */
export const AUTH_ERROR_CODES = [
  'AUTH_MISSING',
  'AUTH_MALFORMED',
  'AUTH_EXPIRED',
  'AUTH_BAD_SIGNATURE',
  'AUTH_WRONG_AUDIENCE',
  'AUTH_WRONG_ISSUER',
  'AUTH_BAD_CLAIMS',
] as const;

export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number];

export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code: AuthErrorCode;
  /**
   * Not for a frontend: the handshake answers 401/403 without a body, and the reason only goes to
   * the logs, so that a caller probing tokens learns nothing from the answer.
   */
  readonly expose = false;

  constructor(code: AuthErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * The auth configuration (environment or secret) is missing or unusable; raised at start, or when the
 * secret is read. Its `code` is ConfigError's (`config_missing`, `config_invalid`, `config_conflict`).
 */
export class AuthConfigError extends ConfigError {
  override readonly name = 'AuthConfigError';
}
