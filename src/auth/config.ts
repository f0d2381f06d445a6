import { AuthConfigError } from './errors.js';
import { secretFromString } from './secret.js';
import { DEFAULT_ISSUER } from './tokens.js';

/** The environment variables the auth code reads. infra/ imports these names. */
export const AUTH_ENV = Object.freeze({
  secret: 'ACCESS_TOKEN_SECRET',
  secretArn: 'ACCESS_TOKEN_SECRET_ARN',
  previousSecret: 'ACCESS_TOKEN_PREVIOUS_SECRET',
  audience: 'ACCESS_TOKEN_AUDIENCE',
  issuer: 'ACCESS_TOKEN_ISSUER',
  keyTtlSeconds: 'ACCESS_TOKEN_KEY_TTL_SECONDS',
  keyMaxAgeSeconds: 'ACCESS_TOKEN_KEY_MAX_AGE_SECONDS',
});

/**
 * Cloud mode: the keys read from Secrets Manager are read again after this long, so a rotation (or an
 * emergency replacement) takes effect within it.
 */
export const DEFAULT_KEY_TTL_SECONDS = 300;
/**
 * Cloud mode: when reading them again fails, the keys already read are used until they are this old;
 * after that every `$connect` fails (500) until a read succeeds. A revoked key cannot live on because
 * Secrets Manager is unreachable for longer than this.
 */
export const DEFAULT_KEY_MAX_AGE_SECONDS = 3600;

export type SecretSource =
  /** Local mode: the key itself, already decoded (plus the previous key during a rotation). */
  | { readonly kind: 'value'; readonly secrets: readonly Uint8Array[] }
  /** Cloud mode: a Secrets Manager secret, read through an injected loader and cached (keyTtlMs). */
  | { readonly kind: 'arn'; readonly arn: string };

export interface AuthConfig {
  readonly secret: SecretSource;
  readonly audience: string;
  readonly issuer: string;
  /** Cloud mode: how long keys read from Secrets Manager are used before they are read again. */
  readonly keyTtlMs: number;
  /** Cloud mode: the oldest keys may get while reads fail; never shorter than keyTtlMs. */
  readonly keyMaxAgeMs: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the auth configuration once, at start. Fails naming the missing or bad key, never showing a
 * secret's value. Exactly one of ACCESS_TOKEN_SECRET / ACCESS_TOKEN_SECRET_ARN must be set.
 */
export function loadAuthConfig(env: Env): AuthConfig {
  const value = nonEmpty(env[AUTH_ENV.secret]);
  const arn = nonEmpty(env[AUTH_ENV.secretArn]);
  if (value !== undefined && arn !== undefined) {
    throw new AuthConfigError(AUTH_ENV.secret, `Set ${AUTH_ENV.secret} or ${AUTH_ENV.secretArn}, not both.`);
  }
  let secret: SecretSource;
  if (value !== undefined) {
    const secrets = [secretFromString(value, AUTH_ENV.secret)];
    const previous = nonEmpty(env[AUTH_ENV.previousSecret]);
    if (previous !== undefined) secrets.push(secretFromString(previous, AUTH_ENV.previousSecret));
    secret = Object.freeze({ kind: 'value', secrets: Object.freeze(secrets) });
  } else if (arn !== undefined) {
    if (!arn.startsWith('arn:')) {
      throw new AuthConfigError(AUTH_ENV.secretArn, `${AUTH_ENV.secretArn} must be a Secrets Manager ARN.`);
    }
    secret = Object.freeze({ kind: 'arn', arn });
  } else {
    throw new AuthConfigError(
      AUTH_ENV.secret,
      `Missing ${AUTH_ENV.secret} (the signing secret, local mode) or ${AUTH_ENV.secretArn} (cloud mode).`,
    );
  }
  const audience = nonEmpty(env[AUTH_ENV.audience]);
  if (audience === undefined) {
    throw new AuthConfigError(AUTH_ENV.audience, `Missing ${AUTH_ENV.audience} (for example "guest-relay").`);
  }
  const keyTtlSeconds = seconds(env, AUTH_ENV.keyTtlSeconds, DEFAULT_KEY_TTL_SECONDS);
  const keyMaxAgeSeconds = seconds(env, AUTH_ENV.keyMaxAgeSeconds, DEFAULT_KEY_MAX_AGE_SECONDS);
  if (keyMaxAgeSeconds < keyTtlSeconds) {
    throw new AuthConfigError(
      AUTH_ENV.keyMaxAgeSeconds,
      `${AUTH_ENV.keyMaxAgeSeconds} must be at least ${AUTH_ENV.keyTtlSeconds}.`,
    );
  }
  return Object.freeze({
    secret,
    audience,
    issuer: nonEmpty(env[AUTH_ENV.issuer]) ?? DEFAULT_ISSUER,
    keyTtlMs: keyTtlSeconds * 1000,
    keyMaxAgeMs: keyMaxAgeSeconds * 1000,
  });
}

/** A whole number of seconds from 1 to one day; the default when unset. */
function seconds(env: Env, key: string, fallback: number): number {
  const text = nonEmpty(env[key]);
  if (text === undefined) return fallback;
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value) || value < 1 || value > 86_400) {
    throw new AuthConfigError(key, `${key} must be a whole number of seconds from 1 to 86400.`);
  }
  return value;
}

/** Fetches a secret string by ARN (in the cloud: secretsManagerLoader). Injected. */
export type LoadSecret = (arn: string) => Promise<string>;

/**
 * The verification keys, from the config or through the injected loader (one read; the authorizer
 * caches the result, see createAuthorizer). A Secrets Manager value may hold one key, or a JSON
 * `{"current": "...", "previous": "..."}` during a rotation.
 */
export async function resolveSecrets(
  config: AuthConfig,
  loadSecret: LoadSecret | undefined,
): Promise<readonly Uint8Array[]> {
  if (config.secret.kind === 'value') return config.secret.secrets;
  if (loadSecret === undefined) {
    throw new AuthConfigError(
      AUTH_ENV.secretArn,
      `${AUTH_ENV.secretArn} is set but no secret loader was given.`,
    );
  }
  const text = await loadSecret(config.secret.arn);
  const rotation = parseRotation(text);
  if (rotation === undefined) return [secretFromString(text, AUTH_ENV.secretArn)];
  const keys = [secretFromString(rotation.current, `${AUTH_ENV.secretArn}.current`)];
  if (rotation.previous !== undefined)
    keys.push(secretFromString(rotation.previous, `${AUTH_ENV.secretArn}.previous`));
  return keys;
}

function parseRotation(text: string): { current: string; previous?: string } | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AuthConfigError(AUTH_ENV.secretArn, `The secret at ${AUTH_ENV.secretArn} is not valid JSON.`);
  }
  const { current, previous } = (value ?? {}) as { current?: unknown; previous?: unknown };
  if (typeof current !== 'string' || (previous !== undefined && typeof previous !== 'string')) {
    throw new AuthConfigError(
      AUTH_ENV.secretArn,
      `The secret at ${AUTH_ENV.secretArn} must be a key or {"current": "...", "previous": "..."}.`,
    );
  }
  return previous === undefined ? { current } : { current, previous };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
