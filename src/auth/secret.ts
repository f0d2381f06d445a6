import { AuthConfigError } from './errors.js';

/** HS256 needs a key at least as long as its output (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;

const BASE64_OR_URL = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * The signing key from its text form (an environment variable or a Secrets Manager string). A value
 * made only of base64/base64url characters that decodes to at least 32 bytes is taken as base64
 * (`openssl rand -base64 32`); any other value is used as its raw UTF-8 bytes, which must be at least
 * 32. Surrounding whitespace (a trailing newline from a file) is ignored. The error names the key,
 * never the value.
 */
export function secretFromString(value: string, key = 'ACCESS_TOKEN_SECRET'): Uint8Array {
  const text = value.trim();
  if (BASE64_OR_URL.test(text) && text.length % 4 !== 1) {
    const decoded = Buffer.from(text.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
    if (decoded.byteLength >= MIN_SECRET_BYTES) return new Uint8Array(decoded);
  }
  const raw = new TextEncoder().encode(text);
  if (raw.byteLength >= MIN_SECRET_BYTES) return raw;
  throw new AuthConfigError(
    key,
    `${key} is too short: give base64/base64url of at least ${MIN_SECRET_BYTES} random bytes ` +
      `(for example \`openssl rand -base64 32\`) or a raw string of at least ${MIN_SECRET_BYTES} bytes.`,
  );
}

/** Refuses a key that is too short to sign with; used by mint and verify alike. */
export function assertSecret(secret: Uint8Array, key = 'secret'): void {
  if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_SECRET_BYTES) {
    throw new AuthConfigError(
      key,
      `The signing ${key} must be a Uint8Array of at least ${MIN_SECRET_BYTES} bytes.`,
    );
  }
}
