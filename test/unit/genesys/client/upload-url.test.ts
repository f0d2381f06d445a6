import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GuestSession,
  type GuestSessionOptions,
  genesysEndpoint,
} from '../../../../src/genesys/client/index.js';
import { resolveOptions } from '../../../../src/genesys/client/options.js';
import { uploadUrlCheck } from '../../../../src/genesys/client/upload-url.js';
import { GenesysError } from '../../../../src/genesys/errors.js';
import { baseOptions, FakeClock, FakeSocket, fakeFetch, flush } from './fakes.js';

const region = genesysEndpoint({ domain: 'mypurecloud.ie' });
const emulator = genesysEndpoint({ wsUrl: 'ws://127.0.0.1:4000/v1', apiUrl: 'http://127.0.0.1:4000' });

function refusal(check: (url: string) => URL, url: string): GenesysError {
  try {
    check(url);
  } catch (error) {
    expect(error).toBeInstanceOf(GenesysError);
    expect((error as GenesysError).code).toBe('GENESYS_UPLOAD_URL_REFUSED');
    return error as GenesysError;
  }
  throw new Error(`${url} was allowed`);
}

describe('uploadUrlCheck for a region endpoint', () => {
  const check = uploadUrlCheck(region, []);

  it('allows https hosts under the region domain', () => {
    expect(check('https://fileupload.mypurecloud.ie/v2/x?sig=1').hostname).toBe('fileupload.mypurecloud.ie');
    expect(check('https://a.b.mypurecloud.ie/x').hostname).toBe('a.b.mypurecloud.ie');
  });

  it.each([
    ['https://attacker.net/x', /"attacker.net" is not under the region domain mypurecloud.ie/],
    ['https://mypurecloud.ie.attacker.net/x', /"mypurecloud.ie.attacker.net" is not under/],
    ['https://evilmypurecloud.ie/x', /"evilmypurecloud.ie" is not under/],
    ['https://fileupload.mypurecloud.com/x', /"fileupload.mypurecloud.com" is not under/],
    ['https://mypurecloud.ie/x', /"mypurecloud.ie" is not under/],
    ['http://fileupload.mypurecloud.ie/x', /scheme must be https, not http:/],
    ['https://fileupload.mypurecloud.ie:8443/x', /port 8443/],
    ['https://u:p@fileupload.mypurecloud.ie/x', /carries credentials/],
    ['https://169.254.169.254/latest/meta-data', /"169.254.169.254" is not under/],
    ['file:///etc/passwd', /scheme must be https/],
    ['not a url', /not a URL/],
  ])('refuses %s, saying why', (url, why) => {
    expect(refusal(check, url).message).toMatch(why);
  });

  it('never repeats the URL (its signature) in the message', () => {
    expect(refusal(check, 'https://attacker.net/x?X-Amz-Signature=secret').message).not.toContain('secret');
  });

  it('adds the hosts and subdomains of uploadHosts, over https only', () => {
    const wider = uploadUrlCheck(region, ['bucket.s3.amazonaws.com', '.s3.eu-west-1.amazonaws.com']);
    expect(wider('https://bucket.s3.amazonaws.com/k').hostname).toBe('bucket.s3.amazonaws.com');
    expect(wider('https://b.s3.eu-west-1.amazonaws.com/k').hostname).toBe('b.s3.eu-west-1.amazonaws.com');
    refusal(wider, 'https://other.s3.amazonaws.com/k');
    refusal(wider, 'https://s3.eu-west-1.amazonaws.com/k');
    refusal(wider, 'http://bucket.s3.amazonaws.com/k');
  });
});

describe('uploadUrlCheck for explicit URLs (the emulator)', () => {
  const check = uploadUrlCheck(emulator, []);

  it("allows the endpoint's own origin, over http too", () => {
    expect(check('http://127.0.0.1:4000/uploads/a?signature=s').pathname).toBe('/uploads/a');
  });

  it.each([
    'http://127.0.0.1:4001/uploads/a',
    'https://127.0.0.1:4000/uploads/a',
    'http://localhost:4000/uploads/a',
    'http://169.254.169.254/latest/meta-data',
    'https://fileupload.mypurecloud.ie/x',
  ])('refuses %s', (url) => {
    expect(refusal(check, url).message).toMatch(
      /neither the endpoint's own origin \(http:\/\/127.0.0.1:4000\)/,
    );
  });
});

describe('the uploadHosts option', () => {
  it('is lower-cased and checked', () => {
    const options = baseOptions(new FakeClock());
    expect(resolveOptions({ ...options, uploadHosts: [' Bucket.S3.amazonaws.com '] }).uploadHosts).toEqual([
      'bucket.s3.amazonaws.com',
    ]);
    expect(resolveOptions(options).uploadHosts).toEqual([]);
    for (const bad of ['*.amazonaws.com', '.com', 'https://x.com', 'x.com:443', '', 'a..b.com']) {
      expect(() => resolveOptions({ ...options, uploadHosts: [bad] }), bad).toThrow(/"uploadHosts"/);
    }
    expect(() => resolveOptions({ ...options, uploadHosts: 'x.com' as never })).toThrow(/"uploadHosts"/);
  });
});

describe('GuestSession upload to a refused URL', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock();
    FakeSocket.reset();
  });
  afterEach(() => FakeSocket.reset());

  async function ready(overrides: Partial<GuestSessionOptions>) {
    const guest = new GuestSession(baseOptions(clock, overrides));
    const uploads: unknown[] = [];
    guest.on('upload', (event) => uploads.push(event));
    const started = guest.start();
    const socket = FakeSocket.last();
    socket.open();
    socket.sessionResponse();
    await started;
    return { guest, socket, uploads };
  }

  it('fails the upload typed, naming the host, and sends no request', async () => {
    const fetch = fakeFetch(() => ({ status: 200 }));
    const { guest, socket } = await ready({ fetch, endpoint: region });
    const uploaded = guest.upload({ fileName: 'a.png', fileType: 'image/png', bytes: new Uint8Array(4) });
    uploaded.catch(() => {});
    const request = socket.lastSent('onAttachment');
    socket.receive({
      type: 'response',
      class: 'PresignedUrlResponse',
      code: 200,
      body: { attachmentId: request.attachmentId, url: 'https://attacker.net/put', headers: {} },
      tracingId: request.tracingId,
    });
    await flush();
    await expect(uploaded).rejects.toMatchObject({
      code: 'GENESYS_UPLOAD_URL_REFUSED',
      message: expect.stringContaining('"attacker.net"'),
    });
    expect(fetch.calls).toHaveLength(0);
    // The session itself carries on.
    expect(guest.state).toBe('ready');
    await guest.close();
  });
});
