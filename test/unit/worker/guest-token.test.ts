import { describe, expect, it } from 'vitest';
import { deriveGuestToken, GuestTokens } from '../../../worker/guest-token.js';

const key = new TextEncoder().encode('k'.repeat(32));

describe('guest tokens', () => {
  it('derives a version-4 UUID per session, the same every time, different per session and per key', () => {
    const token = deriveGuestToken(key, 'session-1');
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deriveGuestToken(key, 'session-1')).toBe(token);
    expect(deriveGuestToken(key, 'session-2')).not.toBe(token);
    expect(deriveGuestToken(new TextEncoder().encode('j'.repeat(32)), 'session-1')).not.toBe(token);
  });

  it('keeps the token an older session stored, and refuses a short key', () => {
    const tokens = new GuestTokens(key);
    expect(tokens.tokenFor({ sessionId: 's', guestToken: 'stored-token' })).toBe('stored-token');
    expect(tokens.tokenFor({ sessionId: 's' })).toBe(deriveGuestToken(key, 's'));
    expect(() => new GuestTokens(new Uint8Array(31))).toThrow(RangeError);
  });
});
