import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** UUIDs: inbound echo ids, conversation, participant, attachment and correlation ids. */
export const newUuid = (): string => randomUUID();

/** Agent and bot message ids look like Genesys': 32 hex characters, no dashes (reference §11). */
export const newOutboundId = (): string => randomBytes(16).toString('hex');

/** A random secret, base64url. */
export const newSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** HMAC-SHA256 of `value` under `key`, base64url. */
export function sign(key: string, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}

export function signatureMatches(key: string, value: string, signature: string | null | undefined): boolean {
  if (typeof signature !== 'string') return false;
  const expected = Buffer.from(sign(key, value));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A real HS256 JWT (header.payload.signature), as Genesys' guest JWTs are. */
export function signJwt(key: string, claims: Readonly<Record<string, string | number>>): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify(claims));
  return `${header}.${payload}.${sign(key, `${header}.${payload}`)}`;
}
