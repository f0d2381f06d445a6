import { errors, jwtVerify, SignJWT } from 'jose';
import { AuthError, type AuthErrorCode } from './errors.js';
import { assertSecret } from './secret.js';

export const ACCESS_TOKEN_ROLES = ['guest', 'agent-console', 'admin'] as const;
export type AccessTokenRole = (typeof ACCESS_TOKEN_ROLES)[number];

/** A team (tenant) id: a lowercase DNS-label-like slug, safe in keys, logs and ARNs. */
export const TEAM_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A subject: printable ASCII without spaces (an email, a user id), 1 to 128 characters. */
export const SUBJECT_PATTERN = /^[\x21-\x7e]{1,128}$/;

export const DEFAULT_TTL_SECONDS = 3600;
export const MAX_TTL_SECONDS = 86_400;
export const DEFAULT_ISSUER = 'guest-relay';
export const DEFAULT_AUDIENCE = 'guest-relay';
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
/** The only algorithm signed or accepted: a token naming any other (`none`, `RS256`, ...) is refused. */
export const ACCESS_TOKEN_ALGORITHM = 'HS256';
/** Longer input is refused before any decoding: a real token is a few hundred characters. */
export const MAX_TOKEN_LENGTH = 4096;

export interface AccessClaims {
  readonly team: string;
  readonly role: AccessTokenRole;
  readonly subject?: string;
}

export interface MintRequest extends AccessClaims {
  /** Lifetime in seconds: an integer from 1 to 86,400 (one day). Default 3600. */
  readonly ttlSeconds?: number;
}

export interface SigningOptions {
  /** The HS256 key, at least 32 bytes (see secretFromString). */
  readonly secret: Uint8Array;
  /** The current time, epoch milliseconds. */
  readonly now: number;
  readonly issuer?: string;
  readonly audience?: string;
}

export interface VerifyOptions {
  /**
   * The HS256 key, or the keys accepted during a rotation (current first, then the previous one): a
   * token is accepted when one of them verifies its signature.
   */
  readonly secret: Uint8Array | readonly Uint8Array[];
  /** The current time, epoch milliseconds. */
  readonly now: number;
  readonly issuer?: string;
  readonly audience?: string;
  readonly clockToleranceSeconds?: number;
}

export interface VerifiedAccess extends AccessClaims {
  /** When the token expires, epoch milliseconds. */
  readonly expiresAt: number;
}

/** Signs a short-lived access token naming a team and a role. Throws AuthError on bad claims. */
export async function mintAccessToken(request: MintRequest, options: SigningOptions): Promise<string> {
  assertSecret(options.secret);
  const claims = checkClaims(request);
  if (!claims.ok) throw new AuthError('AUTH_BAD_CLAIMS', claims.reason);
  const ttl = request.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) {
    throw new AuthError('AUTH_BAD_CLAIMS', `ttlSeconds must be an integer from 1 to ${MAX_TTL_SECONDS}.`);
  }
  const issuedAt = Math.floor(options.now / 1000);
  const jwt = new SignJWT({ team: claims.value.team, role: claims.value.role })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, typ: 'JWT' })
    .setIssuer(options.issuer ?? DEFAULT_ISSUER)
    .setAudience(options.audience ?? DEFAULT_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttl);
  if (claims.value.subject !== undefined) jwt.setSubject(claims.value.subject);
  return jwt.sign(options.secret);
}

/**
 * Verifies an access token and returns its claims, or throws an AuthError with a stable code. The
 * signature check is jose's HMAC verification (WebCrypto `verify`, constant time). Only HS256 is
 * accepted; the lifetime may not exceed MAX_TTL_SECONDS even if the signer asked for more.
 */
export async function verifyAccessToken(
  token: string | null | undefined,
  options: VerifyOptions,
): Promise<VerifiedAccess> {
  if (token === undefined || token === null || token === '') {
    throw new AuthError('AUTH_MISSING', 'No access token was given.');
  }
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) {
    throw new AuthError('AUTH_MALFORMED', 'The access token is not a compact JWS.');
  }
  const secrets = options.secret instanceof Uint8Array ? [options.secret] : options.secret;
  if (secrets.length === 0) assertSecret(new Uint8Array(0));
  for (const secret of secrets) assertSecret(secret);

  let payload: Record<string, unknown> | undefined;
  let lastError: AuthError | undefined;
  for (const secret of secrets) {
    try {
      ({ payload } = await jwtVerify(token, secret, {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        issuer: options.issuer ?? DEFAULT_ISSUER,
        audience: options.audience ?? DEFAULT_AUDIENCE,
        currentDate: new Date(options.now),
        clockTolerance: options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['iat', 'exp'],
      }));
      break;
    } catch (error) {
      lastError = fromJose(error);
      if (lastError.code !== 'AUTH_BAD_SIGNATURE') throw lastError;
    }
  }
  if (payload === undefined) throw lastError ?? new AuthError('AUTH_BAD_SIGNATURE', 'Bad signature.');

  const claims = checkClaims({ team: payload.team, role: payload.role, subject: payload.sub });
  if (!claims.ok) throw new AuthError('AUTH_BAD_CLAIMS', claims.reason);
  const { iat, exp } = payload as { iat: number; exp: number };
  if (exp - iat > MAX_TTL_SECONDS) {
    throw new AuthError('AUTH_BAD_CLAIMS', `The token lives longer than ${MAX_TTL_SECONDS} seconds.`);
  }
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (iat > options.now / 1000 + tolerance) {
    throw new AuthError('AUTH_BAD_CLAIMS', 'The token is not valid yet (issued in the future).');
  }
  return { ...claims.value, expiresAt: exp * 1000 };
}

type ClaimsCheck = { ok: true; value: AccessClaims } | { ok: false; reason: string };

function checkClaims(input: { team: unknown; role: unknown; subject?: unknown }): ClaimsCheck {
  if (typeof input.team !== 'string' || !TEAM_PATTERN.test(input.team)) {
    return {
      ok: false,
      reason: 'team must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit.',
    };
  }
  if (typeof input.role !== 'string' || !(ACCESS_TOKEN_ROLES as readonly string[]).includes(input.role)) {
    return { ok: false, reason: `role must be one of ${ACCESS_TOKEN_ROLES.join(', ')}.` };
  }
  const value: { team: string; role: AccessTokenRole; subject?: string } = {
    team: input.team,
    role: input.role as AccessTokenRole,
  };
  if (input.subject !== undefined) {
    if (typeof input.subject !== 'string' || !SUBJECT_PATTERN.test(input.subject)) {
      return { ok: false, reason: 'subject must be 1-128 printable ASCII characters without spaces.' };
    }
    value.subject = input.subject;
  }
  return { ok: true, value };
}

/**
 * Maps jose's errors to ours. The jose error is not kept as `cause`: some carry the decoded payload,
 * and nothing from the token should ride along into logs. Its code and claim name are enough.
 */
function fromJose(error: unknown): AuthError {
  const summary = error instanceof errors.JOSEError ? { cause: describe(error) } : undefined;
  const make = (code: AuthErrorCode, message: string) => new AuthError(code, message, summary);
  if (error instanceof errors.JWTExpired) return make('AUTH_EXPIRED', 'The access token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud')
      return make('AUTH_WRONG_AUDIENCE', 'The access token is for another audience.');
    if (error.claim === 'iss') return make('AUTH_WRONG_ISSUER', 'The access token has another issuer.');
    if (error.claim === 'nbf' || error.claim === 'iat') {
      return make('AUTH_BAD_CLAIMS', `The access token is not valid yet (${error.claim}).`);
    }
    return make('AUTH_BAD_CLAIMS', `The access token's "${error.claim}" claim is ${error.reason}.`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JOSEAlgNotAllowed) {
    return make('AUTH_BAD_SIGNATURE', 'The access token signature does not verify (only HS256 is accepted).');
  }
  if (error instanceof errors.JOSEError) return make('AUTH_MALFORMED', 'The access token cannot be decoded.');
  return new AuthError('AUTH_MALFORMED', 'The access token cannot be decoded.');
}

function describe(error: InstanceType<typeof errors.JOSEError>): Record<string, string> {
  const summary: Record<string, string> = { joseCode: error.code };
  if (error instanceof errors.JWTClaimValidationFailed) {
    summary.claim = error.claim;
    summary.reason = error.reason;
  }
  return summary;
}
