import { configChecks, type Env, nonEmpty, numberFrom, optional } from '../config/index.js';
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

export type { Env } from '../config/index.js';

/** Local mode, in code: the same rules as the environment (the secret given as its text form). */
export interface AuthConfigInput {
  /** The signing secret (base64/base64url of ≥ 32 bytes, or a raw string of ≥ 32 bytes). */
  readonly secret: string;
  /** The previous secret, still accepted during a rotation. */
  readonly previousSecret?: string | undefined;
  readonly audience: string;
  /** Default DEFAULT_ISSUER. */
  readonly issuer?: string | undefined;
  /** Whole seconds (a multiple of 1000), 1 s to one day; default DEFAULT_KEY_TTL_SECONDS. */
  readonly keyTtlMs?: number | undefined;
  /** Whole seconds, 1 s to one day, at least keyTtlMs; default DEFAULT_KEY_MAX_AGE_SECONDS. */
  readonly keyMaxAgeMs?: number | undefined;
}

const check = configChecks(AuthConfigError);

/**
 * Reads the auth configuration once, at start. Fails naming the missing or bad key, never showing a
 * secret's value. Exactly one of ACCESS_TOKEN_SECRET / ACCESS_TOKEN_SECRET_ARN must be set.
 */
export function loadAuthConfig(env: Env): AuthConfig {
  const value = optional(env, AUTH_ENV.secret);
  const arn = optional(env, AUTH_ENV.secretArn);
  if (value !== undefined && arn !== undefined) {
    throw check.error(
      'config_conflict',
      AUTH_ENV.secret,
      `Set ${AUTH_ENV.secret} or ${AUTH_ENV.secretArn}, not both.`,
    );
  }
  const rest = {
    audience: optional(env, AUTH_ENV.audience) ?? '',
    issuer: optional(env, AUTH_ENV.issuer),
    keyTtlMs: secondsAsMillis(numberFrom(env, AUTH_ENV.keyTtlSeconds)),
    keyMaxAgeMs: secondsAsMillis(numberFrom(env, AUTH_ENV.keyMaxAgeSeconds)),
  };
  if (value !== undefined) {
    return authConfig({ secret: value, previousSecret: optional(env, AUTH_ENV.previousSecret), ...rest });
  }
  if (arn === undefined) {
    throw check.error(
      'config_missing',
      AUTH_ENV.secret,
      `Missing ${AUTH_ENV.secret} (the signing secret, local mode) or ${AUTH_ENV.secretArn} (cloud mode).`,
    );
  }
  return withSecret(Object.freeze({ kind: 'arn', arn: check.arn(arn, AUTH_ENV.secretArn) }), rest);
}

/** Local mode in code (`createSystem`): the secret as text, checked as ACCESS_TOKEN_SECRET would be. */
export function authConfig(input: AuthConfigInput): AuthConfig {
  const secrets = [secretFromString(check.required(input.secret, AUTH_ENV.secret), AUTH_ENV.secret)];
  const previous = nonEmpty(input.previousSecret);
  if (previous !== undefined) secrets.push(secretFromString(previous, AUTH_ENV.previousSecret));
  return withSecret(Object.freeze({ kind: 'value', secrets: Object.freeze(secrets) }), input);
}

function withSecret(
  secret: SecretSource,
  input: Omit<AuthConfigInput, 'secret' | 'previousSecret'>,
): AuthConfig {
  const audience = check.required(input.audience, AUTH_ENV.audience, 'for example "guest-relay"');
  const keyTtlMs = seconds(input.keyTtlMs, AUTH_ENV.keyTtlSeconds, DEFAULT_KEY_TTL_SECONDS);
  const keyMaxAgeMs = seconds(input.keyMaxAgeMs, AUTH_ENV.keyMaxAgeSeconds, DEFAULT_KEY_MAX_AGE_SECONDS);
  if (keyMaxAgeMs < keyTtlMs) {
    throw check.error(
      'config_invalid',
      AUTH_ENV.keyMaxAgeSeconds,
      `${AUTH_ENV.keyMaxAgeSeconds} must be at least ${AUTH_ENV.keyTtlSeconds}.`,
    );
  }
  return Object.freeze({
    secret,
    audience,
    issuer: nonEmpty(input.issuer) ?? DEFAULT_ISSUER,
    keyTtlMs,
    keyMaxAgeMs,
  });
}

/** The environment says seconds; the config, milliseconds. NaN stays NaN, for the check to refuse. */
function secondsAsMillis(value: number | undefined): number | undefined {
  return value === undefined ? undefined : value * 1000;
}

/** A whole number of seconds from 1 to one day, in milliseconds; the default when unset. */
function seconds(ms: number | undefined, key: string, fallbackSeconds: number): number {
  const value = ms === undefined ? undefined : ms / 1000;
  return (
    check.integer(value, key, { min: 1, max: 86_400, fallback: fallbackSeconds, unit: 'seconds' }) * 1000
  );
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
