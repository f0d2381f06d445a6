export const REDACTED = '[redacted]';

/**
 * Keys whose values are secret wherever they appear (compared without case, `-` or `_`): tokens of
 * every kind (access, guest, id, refresh, session), secrets, passwords, credentials, and the headers
 * that carry them (`Authorization`, `Cookie`, `Sec-WebSocket-Protocol`, which can carry a token).
 */
const SECRET_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'secwebsocketprotocol',
  'xapikey',
  'apikey',
  'password',
  'passphrase',
  'credentials',
  'signature',
  'privatekey',
  'jwt',
]);

function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replaceAll(/[-_]/g, '');
  return (
    SECRET_KEYS.has(normalized) ||
    normalized.endsWith('token') ||
    normalized.endsWith('tokenkey') ||
    normalized.endsWith('signature') ||
    normalized.includes('secret')
  );
}

/** A compact JWS/JWT: a base64url JSON header (`eyJ...`), a payload and a signature. */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
/**
 * `token=...` (and `access_token`, `guestToken`, ...) in a URL or query string, and the parts of a
 * presigned URL that make it a credential (`X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`,
 * `Signature`, `sig`).
 */
const TOKEN_PARAMETER = /([?&;\s]|^)([A-Za-z_-]*(?:token|secret|signature|credential)|sig)=[^&#\s"']*/gi;
/** `"token": "..."` (any key ending in token, or a secret or password) in JSON quoted in a message. */
const JSON_SECRET = /"([A-Za-z_-]*(?:token|secret|password))"(\s*:\s*)"[^"]*"/gi;
/** `Bearer <credential>` (any case: HTTP schemes are case-insensitive) or `Basic <credential>`. */
const BEARER = /\b([Bb][Ee][Aa][Rr][Ee][Rr]|Basic)\s+[A-Za-z0-9._~+/=-]+/g;

/** Removes tokens from free text: JWTs, token and signature parameters, secrets in quoted JSON, bearer credentials. */
export function redactString(text: string): string {
  return text
    .replace(JWT, REDACTED)
    .replace(TOKEN_PARAMETER, (_match, lead: string, name: string) => `${lead}${name}=${REDACTED}`)
    .replace(JSON_SECRET, (_match, name: string, colon: string) => `"${name}"${colon}"${REDACTED}"`)
    .replace(BEARER, (_match, scheme: string) => `${scheme} ${REDACTED}`);
}

/**
 * A copy of `value` safe to log: values under secret keys replaced, tokens removed from strings,
 * Errors turned into plain `{ name, message, code, cause }` (their messages redacted too). Cycles
 * and depth beyond 32 are cut.
 */
export function redact(value: unknown): unknown {
  return walk(value, new WeakSet(), 0);
}

function walk(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= 32) return '[too deep]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => walk(item, seen, depth + 1));
  const source: Record<string, unknown> =
    value instanceof Error
      ? {
          name: value.name,
          message: value.message,
          ...((value as { code?: unknown }).code === undefined
            ? {}
            : { code: (value as { code?: unknown }).code }),
          ...(value.cause === undefined ? {} : { cause: value.cause }),
        }
      : (value as Record<string, unknown>);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(source)) {
    copy[key] = isSecretKey(key) ? REDACTED : walk(item, seen, depth + 1);
  }
  return copy;
}

/**
 * A JSON replacer for Powertools Logger (`jsonReplacerFn`): the same rules applied to every log
 * line, including keys appended by other code and formatted errors.
 */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && isSecretKey(key)) return REDACTED;
  return typeof value === 'string' ? redactString(value) : value;
}
