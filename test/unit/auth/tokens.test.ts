import { createHmac, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthConfigError, AuthError, type AuthErrorCode } from '../../../src/auth/errors.js';
import { secretFromString } from '../../../src/auth/secret.js';
import { mintAccessToken, verifyAccessToken } from '../../../src/auth/tokens.js';

const secret = new Uint8Array(32).fill(7);
const otherSecret = new Uint8Array(32).fill(9);
const now = Date.UTC(2025, 0, 1, 12);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error('expected the token to be refused');
}

async function expectCode(token: string | undefined, code: AuthErrorCode, at = now) {
  const error = await refusal(verifyAccessToken(token, { secret, now: at }));
  expect(error.code).toBe(code);
  if (token) expect(error.message).not.toContain(token);
  return error;
}

function decodesTheSame(a: string, b: string): boolean {
  const partsA = a.split('.');
  const partsB = b.split('.');
  return (
    partsA.length === partsB.length &&
    partsA.every((part, i) =>
      Buffer.from(part, 'base64url').equals(Buffer.from(partsB[i] ?? '', 'base64url')),
    )
  );
}

/** Signs arbitrary header and claims with HMAC-SHA256, to build tokens jose would refuse to mint. */
function hs256(header: object, payload: object, key: Uint8Array = secret): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

const validPayload = () => ({
  team: 'acme',
  role: 'guest',
  iss: 'guest-relay',
  aud: 'guest-relay',
  iat: Math.floor(now / 1000),
  exp: Math.floor(now / 1000) + 600,
});

describe('mintAccessToken / verifyAccessToken', () => {
  it('accepts a token it minted and returns its claims', async () => {
    const token = await mintAccessToken(
      { team: 'acme', role: 'agent-console', subject: 'ana@example.com', ttlSeconds: 600 },
      { secret, now },
    );
    await expect(verifyAccessToken(token, { secret, now: now + 1000 })).resolves.toEqual({
      team: 'acme',
      role: 'agent-console',
      subject: 'ana@example.com',
      expiresAt: Math.floor(now / 1000) * 1000 + 600_000,
    });
  });

  it('omits the subject when the token has none, and defaults the lifetime to one hour', async () => {
    const token = await mintAccessToken({ team: 'acme', role: 'guest' }, { secret, now });
    const access = await verifyAccessToken(token, { secret, now });
    expect(access).toEqual({ team: 'acme', role: 'guest', expiresAt: now + 3_600_000 });
    expect('subject' in access).toBe(false);
  });

  it('refuses an expired token, allowing 5 seconds of clock skew', async () => {
    const token = await mintAccessToken({ team: 'acme', role: 'guest', ttlSeconds: 60 }, { secret, now });
    await expect(verifyAccessToken(token, { secret, now: now + 64_000 })).resolves.toBeDefined();
    await expectCode(token, 'AUTH_EXPIRED', now + 66_000);
  });

  it('refuses a token that is not valid yet', async () => {
    const future = await mintAccessToken({ team: 'acme', role: 'guest' }, { secret, now: now + 60_000 });
    await expectCode(future, 'AUTH_BAD_CLAIMS');
    const nbf = hs256({ alg: 'HS256' }, { ...validPayload(), nbf: Math.floor(now / 1000) + 60 });
    await expectCode(nbf, 'AUTH_BAD_CLAIMS');
  });

  it('refuses a token signed with another secret', async () => {
    const token = await mintAccessToken({ team: 'acme', role: 'guest' }, { secret: otherSecret, now });
    await expectCode(token, 'AUTH_BAD_SIGNATURE');
  });

  it('accepts the previous secret during a rotation', async () => {
    const token = await mintAccessToken({ team: 'acme', role: 'guest' }, { secret: otherSecret, now });
    const access = await verifyAccessToken(token, { secret: [secret, otherSecret], now });
    expect(access.team).toBe('acme');
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const aud = await mintAccessToken({ team: 'acme', role: 'guest' }, { secret, now, audience: 'other' });
    await expectCode(aud, 'AUTH_WRONG_AUDIENCE');
    const iss = await mintAccessToken({ team: 'acme', role: 'guest' }, { secret, now, issuer: 'evil' });
    await expectCode(iss, 'AUTH_WRONG_ISSUER');
    await expect(verifyAccessToken(aud, { secret, now, audience: 'other' })).resolves.toBeDefined();
  });

  it('refuses alg "none"', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(validPayload())}.`;
    await expectCode(token, 'AUTH_BAD_SIGNATURE');
  });

  it('refuses an RS256 token', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = await new SignJWT(validPayload()).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    await expectCode(token, 'AUTH_BAD_SIGNATURE');
  });

  it('refuses a tampered payload', async () => {
    const token = await mintAccessToken({ team: 'acme', role: 'guest' }, { secret, now });
    const [header, , signature] = token.split('.');
    const forged = `${header}.${b64url({ ...validPayload(), role: 'admin' })}.${signature}`;
    await expectCode(forged, 'AUTH_BAD_SIGNATURE');
  });

  it('refuses a team outside the safe pattern, an unknown role and a bad subject', async () => {
    await expectCode(hs256({ alg: 'HS256' }, { ...validPayload(), team: '../acme' }), 'AUTH_BAD_CLAIMS');
    await expectCode(hs256({ alg: 'HS256' }, { ...validPayload(), team: 'ACME' }), 'AUTH_BAD_CLAIMS');
    await expectCode(hs256({ alg: 'HS256' }, { ...validPayload(), role: 'root' }), 'AUTH_BAD_CLAIMS');
    await expectCode(hs256({ alg: 'HS256' }, { ...validPayload(), sub: 'a b' }), 'AUTH_BAD_CLAIMS');
    await expect(mintAccessToken({ team: 'Acme!', role: 'guest' }, { secret, now })).rejects.toMatchObject({
      code: 'AUTH_BAD_CLAIMS',
    });
  });

  it('refuses missing claims and a lifetime beyond one day', async () => {
    const { team: _team, ...noTeam } = validPayload();
    await expectCode(hs256({ alg: 'HS256' }, noTeam), 'AUTH_BAD_CLAIMS');
    const { exp: _exp, ...noExp } = validPayload();
    await expectCode(hs256({ alg: 'HS256' }, noExp), 'AUTH_BAD_CLAIMS');
    const { iat: _iat, ...noIat } = validPayload();
    await expectCode(hs256({ alg: 'HS256' }, noIat), 'AUTH_BAD_CLAIMS');
    const long = { ...validPayload(), exp: Math.floor(now / 1000) + 86_401 };
    await expectCode(hs256({ alg: 'HS256' }, long), 'AUTH_BAD_CLAIMS');
    await expect(
      mintAccessToken({ team: 'acme', role: 'guest', ttlSeconds: 86_401 }, { secret, now }),
    ).rejects.toMatchObject({ code: 'AUTH_BAD_CLAIMS' });
  });

  it('says AUTH_MISSING for no token and AUTH_MALFORMED for garbage', async () => {
    await expectCode(undefined, 'AUTH_MISSING');
    await expectCode('', 'AUTH_MISSING');
    await expectCode('not-a-token', 'AUTH_MALFORMED');
    await expectCode('a.b.c', 'AUTH_MALFORMED');
    await expectCode(`${'a'.repeat(5000)}.b.c`, 'AUTH_MALFORMED');
  });

  it('never signs or verifies with a short secret', async () => {
    const short = new Uint8Array(31);
    await expect(
      mintAccessToken({ team: 'acme', role: 'guest' }, { secret: short, now }),
    ).rejects.toBeInstanceOf(AuthConfigError);
    await expect(verifyAccessToken('a.b.c', { secret: short, now })).rejects.toBeInstanceOf(AuthConfigError);
  });

  it('refuses any mutation of a valid token (property)', async () => {
    const token = await mintAccessToken({ team: 'acme', role: 'admin', subject: 'ops' }, { secret, now });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...alphabet),
        fc.boolean(),
        async (index, char, insert) => {
          const mutated = insert
            ? token.slice(0, index) + char + token.slice(index)
            : token.slice(0, index) + char + token.slice(index + 1);
          // Base64url's last character of a part can carry unused bits: a change there that decodes to
          // the same bytes is the same token, not a mutation.
          fc.pre(!decodesTheSame(mutated, token));
          await expect(verifyAccessToken(mutated, { secret, now })).rejects.toBeInstanceOf(AuthError);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('secretFromString', () => {
  it('decodes base64 and base64url keys of at least 32 bytes', () => {
    const bytes = new Uint8Array(32).map((_, i) => i * 7 + 250);
    expect(secretFromString(Buffer.from(bytes).toString('base64'))).toEqual(bytes);
    expect(secretFromString(`${Buffer.from(bytes).toString('base64url')}\n`)).toEqual(bytes);
  });

  it('takes any other value of at least 32 bytes as raw UTF-8', () => {
    const raw = 'correct horse battery staple, really!';
    expect(secretFromString(raw)).toEqual(new TextEncoder().encode(raw));
  });

  it('refuses a short secret naming the key, never the value', () => {
    const value = 'hunter2-but-longer';
    const error = (() => {
      try {
        secretFromString(value, 'ACCESS_TOKEN_SECRET');
      } catch (caught) {
        return caught as AuthConfigError;
      }
      throw new Error('expected a refusal');
    })();
    expect(error).toBeInstanceOf(AuthConfigError);
    expect(error.key).toBe('ACCESS_TOKEN_SECRET');
    expect(error.message).toContain('ACCESS_TOKEN_SECRET');
    expect(error.message).not.toContain(value);
  });
});
