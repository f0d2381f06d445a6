import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AwsCredentials, presignControlUrl } from '../../../worker/control-auth.js';

const CREDENTIALS: AwsCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const SIGNING_DATE = new Date('2024-03-05T06:07:08.000Z');
const URL_IN = 'wss://abc123.execute-api.us-east-1.amazonaws.com/prod';

function presign(
  url: string,
  overrides: { credentials?: AwsCredentials; expiresIn?: number; region?: string } = {},
): Promise<string> {
  const credentials = overrides.credentials ?? CREDENTIALS;
  return presignControlUrl(url, {
    region: overrides.region ?? 'us-east-1',
    credentials: async () => credentials,
    signingDate: SIGNING_DATE,
    ...(overrides.expiresIn === undefined ? {} : { expiresIn: overrides.expiresIn }),
  });
}

// ------------------------------------------------------------------ an independent SigV4 (node:crypto)

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
/** SHA-256 of the empty string: the hashed payload of a request without a body (a GET). */
const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 URI encoding of every byte except the unreserved characters (SigV4's UriEncode). */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

function signString(secret: string, scope: string, amzDate: string, canonicalRequest: string): string {
  const [date, region, service] = scope.split('/') as [string, string, string];
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  return createHmac('sha256', signingKey(secret, date, region, service))
    .update(stringToSign)
    .digest('hex');
}

/** The signature a server computes for a presigned GET (query-string auth, `host` the one signed header). */
function expectedSignature(presigned: URL, secret: string, payloadHash: string): string {
  const params = [...presigned.searchParams].filter(([key]) => key !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const canonicalUri = presigned.pathname
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
  const canonicalRequest = [
    'GET',
    canonicalUri,
    canonicalQuery,
    `host:${presigned.host}\n`,
    'host',
    payloadHash,
  ].join('\n');
  const credential = presigned.searchParams.get('X-Amz-Credential') ?? '';
  const scope = credential.split('/').slice(1).join('/');
  return signString(secret, scope, presigned.searchParams.get('X-Amz-Date') ?? '', canonicalRequest);
}

describe('the independent SigV4 used by these tests', () => {
  it("derives AWS's documented example signing key", () => {
    // docs.aws.amazon.com "Examples of how to derive a signing key for Signature Version 4".
    expect(signingKey(CREDENTIALS.secretAccessKey, '20120215', 'us-east-1', 'iam').toString('hex')).toBe(
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    );
  });

  it("reproduces the AWS SigV4 test suite's get-vanilla signature", () => {
    const canonicalRequest = [
      'GET',
      '/',
      '',
      'host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n',
      'host;x-amz-date',
      EMPTY_PAYLOAD_SHA256,
    ].join('\n');
    expect(sha256Hex('')).toBe(EMPTY_PAYLOAD_SHA256);
    expect(
      signString(
        CREDENTIALS.secretAccessKey,
        '20150830/us-east-1/service/aws4_request',
        '20150830T123600Z',
        canonicalRequest,
      ),
    ).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  });
});

// ------------------------------------------------------------------ presignControlUrl

describe('presignControlUrl', () => {
  it('keeps scheme, host and path, and adds the SigV4 query parameters', async () => {
    const signed = new URL(await presign(URL_IN));
    expect(signed.protocol).toBe('wss:');
    expect(signed.host).toBe('abc123.execute-api.us-east-1.amazonaws.com');
    expect(signed.pathname).toBe('/prod');
    expect(signed.hash).toBe('');
    const q = signed.searchParams;
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20240305/us-east-1/execute-api/aws4_request');
    expect(q.get('X-Amz-Credential')).toMatch(/\/us-east-1\/execute-api\/aws4_request$/);
    expect(q.get('X-Amz-Date')).toBe('20240305T060708Z');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-SignedHeaders')).toBe('host');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(q.has('X-Amz-Security-Token')).toBe(false);
    // Nothing secret travels in the URL.
    expect(signed.toString()).not.toContain(CREDENTIALS.secretAccessKey);
    expect(signed.toString()).not.toContain(encodeURIComponent(CREDENTIALS.secretAccessKey));
  });

  it('signs for the given region and expiry', async () => {
    const q = new URL(await presign(URL_IN, { region: 'eu-west-1', expiresIn: 300 })).searchParams;
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20240305/eu-west-1/execute-api/aws4_request');
    expect(q.get('X-Amz-Expires')).toBe('300');
  });

  it('carries a session token as X-Amz-Security-Token', async () => {
    const sessionToken = 'FwoGZXIvYXdzEXAMPLE//token+with/special=chars';
    const signed = new URL(await presign(URL_IN, { credentials: { ...CREDENTIALS, sessionToken } }));
    expect(signed.searchParams.get('X-Amz-Security-Token')).toBe(sessionToken);
    // The token is part of what is signed.
    expect(signed.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(signed, CREDENTIALS.secretAccessKey, EMPTY_PAYLOAD_SHA256),
    );
    const withoutToken = new URL(await presign(URL_IN));
    expect(signed.searchParams.get('X-Amz-Signature')).not.toBe(
      withoutToken.searchParams.get('X-Amz-Signature'),
    );
  });

  it('gives the same signature for the same inputs', async () => {
    const a = await presign(URL_IN);
    const b = await presign(URL_IN);
    expect(a).toBe(b);
  });

  it('gives a different signature for a different secret, date or expiry', async () => {
    const base = new URL(await presign(URL_IN)).searchParams.get('X-Amz-Signature');
    const otherSecret = new URL(
      await presign(URL_IN, {
        credentials: { ...CREDENTIALS, secretAccessKey: `${CREDENTIALS.secretAccessKey}X` },
      }),
    ).searchParams.get('X-Amz-Signature');
    expect(otherSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(otherSecret).not.toBe(base);
    const otherExpiry = new URL(await presign(URL_IN, { expiresIn: 61 })).searchParams.get('X-Amz-Signature');
    expect(otherExpiry).not.toBe(base);
    const otherDate = new URL(
      await presignControlUrl(URL_IN, {
        region: 'us-east-1',
        credentials: async () => CREDENTIALS,
        signingDate: new Date('2024-03-05T06:07:09.000Z'),
      }),
    ).searchParams.get('X-Amz-Signature');
    expect(otherDate).not.toBe(base);
  });

  it('produces the signature an independent SigV4 computation expects', async () => {
    const signed = new URL(await presign(URL_IN));
    expect(signed.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(signed, CREDENTIALS.secretAccessKey, EMPTY_PAYLOAD_SHA256),
    );
    // …and not one computed with another secret (the check can fail).
    expect(signed.searchParams.get('X-Amz-Signature')).not.toBe(
      expectedSignature(signed, 'another-secret', EMPTY_PAYLOAD_SHA256),
    );
  });

  it('signs the port in the host and keeps (and signs) an existing query', async () => {
    const signed = new URL(await presign('ws://127.0.0.1:3001/control/stage?team=a-b&x=1%202'));
    expect(signed.protocol).toBe('ws:');
    expect(signed.host).toBe('127.0.0.1:3001');
    expect(signed.pathname).toBe('/control/stage');
    expect(signed.searchParams.get('team')).toBe('a-b');
    expect(signed.searchParams.get('x')).toBe('1 2');
    expect(signed.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(signed, CREDENTIALS.secretAccessKey, EMPTY_PAYLOAD_SHA256),
    );
    // The port is signed: the same request for another port has another signature.
    const otherPort = new URL(await presign('ws://127.0.0.1:3002/control/stage?team=a-b&x=1%202'));
    expect(otherPort.searchParams.get('X-Amz-Signature')).not.toBe(
      signed.searchParams.get('X-Amz-Signature'),
    );
  });
});
