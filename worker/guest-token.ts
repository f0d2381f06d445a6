/**
 * Genesys guest tokens (the credential that resumes a web messaging session, reference §7.1) derived
 * rather than stored: token = HMAC-SHA256(key, "guest-relay/guest-token/v1/" + sessionId), shaped as a
 * version-4 UUID as Genesys' own SDKs make them. Only the worker holds the key (GUEST_TOKEN_KEY_ARN, a
 * secret no Lambda may read; a random key per run in local mode), so nothing in DynamoDB, its indexes,
 * its backups or a Lambda's memory can resume a guest's conversation. A session stored by an earlier
 * version keeps the token it stored.
 */
import { createHmac } from 'node:crypto';
import type { SessionRecord } from '../src/store/sessions.js';

const LABEL = 'guest-relay/guest-token/v1/';
/** Keys shorter than this are refused: HMAC-SHA256 wants at least its output size of key material. */
export const MIN_GUEST_TOKEN_KEY_BYTES = 32;

export class GuestTokens {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.byteLength < MIN_GUEST_TOKEN_KEY_BYTES) {
      throw new RangeError(`The guest-token key must be at least ${MIN_GUEST_TOKEN_KEY_BYTES} bytes.`);
    }
    this.#key = key;
  }

  /** The session's guest token: the one it stored (older sessions), else the derived one. */
  tokenFor(session: Pick<SessionRecord, 'sessionId' | 'guestToken'>): string {
    return session.guestToken ?? deriveGuestToken(this.#key, session.sessionId);
  }
}

export function deriveGuestToken(key: Uint8Array, sessionId: string): string {
  const digest = createHmac('sha256', key).update(LABEL).update(sessionId).digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
