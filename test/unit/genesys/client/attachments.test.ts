import { describe, expect, it } from 'vitest';
import { putToSlot, UploadTracker, uploadHeaders } from '../../../../src/genesys/client/attachments.js';
import { uploadUrlCheck } from '../../../../src/genesys/client/upload-url.js';
import { GenesysError } from '../../../../src/genesys/errors.js';
import { FakeClock, fakeFetch } from './fakes.js';

describe('uploadHeaders', () => {
  it('keeps every presigned header and adds Content-Type', () => {
    expect(uploadHeaders({ 'x-amz-tagging': 'a=b', 'x-other': '1' }, 'image/png')).toEqual({
      'x-amz-tagging': 'a=b',
      'x-other': '1',
      'Content-Type': 'image/png',
    });
  });

  it('lets a signed content-type win', () => {
    expect(uploadHeaders({ 'content-type': 'image/jpeg' }, 'image/png')).toEqual({
      'content-type': 'image/jpeg',
    });
  });
});

describe('putToSlot', () => {
  const slot = { attachmentId: 'a1', url: 'https://up.example/a1', headers: { 'x-amz-tagging': 't' } };
  const checkUrl = uploadUrlCheck({ wsUrl: 'wss://ws.example/v1', apiUrl: 'https://api.example' }, [
    'up.example',
  ]);

  it('PUTs the bytes with the headers, refusing redirects', async () => {
    const fetch = fakeFetch(() => ({ status: 200 }));
    const bytes = new Uint8Array([1, 2, 3]);
    await putToSlot({ fetch, slot, fileType: 'text/plain', bytes, checkUrl });
    expect(fetch.calls[0]).toMatchObject({
      url: 'https://up.example/a1',
      init: {
        method: 'PUT',
        headers: { 'x-amz-tagging': 't', 'Content-Type': 'text/plain' },
        body: bytes,
        redirect: 'error',
      },
    });
  });

  it('fails typed with the HTTP status', async () => {
    const fetch = fakeFetch(() => ({ status: 403 }));
    const error = await putToSlot({
      fetch,
      slot,
      fileType: 'text/plain',
      bytes: new Uint8Array(1),
      checkUrl,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(GenesysError);
    expect(error).toMatchObject({ code: 'GENESYS_UPLOAD_FAILED', genesysCode: 403 });
  });

  it('sends nothing to a URL the check refuses', async () => {
    const fetch = fakeFetch(() => ({ status: 200 }));
    const error = await putToSlot({
      fetch,
      slot: { ...slot, url: 'https://attacker.net/a1?X-Amz-Signature=s' },
      fileType: 'text/plain',
      bytes: new Uint8Array(1),
      checkUrl,
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'GENESYS_UPLOAD_URL_REFUSED' });
    expect(error.message).toContain('"attacker.net"');
    expect(error.message).not.toContain('X-Amz-Signature');
    expect(fetch.calls).toHaveLength(0);
  });

  it('fails typed when the answer to the PUT is over its cap', async () => {
    const fetch = fakeFetch(() => ({ status: 200, text: 'x'.repeat(64 * 1024 + 1) }));
    const error = await putToSlot({
      fetch,
      slot,
      fileType: 'text/plain',
      bytes: new Uint8Array(1),
      checkUrl,
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'GENESYS_RESPONSE_TOO_LARGE' });
  });
});

describe('UploadTracker', () => {
  it('remembers an outcome that arrives before anyone waits, for ids it expects', async () => {
    const tracker = new UploadTracker(new FakeClock(), 1000);
    tracker.expect('a1');
    expect(tracker.settle('a1', { ok: true, result: { attachmentId: 'a1', downloadUrl: 'u' } })).toBe(true);
    await expect(tracker.wait('a1')).resolves.toEqual({ attachmentId: 'a1', downloadUrl: 'u' });
    expect(tracker.settle('zz', { ok: true, result: { attachmentId: 'zz' } })).toBe(false);
  });

  it('settles waiters and clears their timers', async () => {
    const clock = new FakeClock();
    const tracker = new UploadTracker(clock, 1000);
    const waiting = tracker.wait('a1');
    expect(tracker.waiting()).toEqual(['a1']);
    tracker.settle('a1', {
      ok: false,
      error: new GenesysError('GENESYS_UPLOAD_FAILED', 'x', { genesysCode: 4001 }),
    });
    await expect(waiting).rejects.toMatchObject({ genesysCode: 4001 });
    expect(clock.pending).toBe(0);
  });

  it('times a waiter out', async () => {
    const clock = new FakeClock();
    const tracker = new UploadTracker(clock, 1000);
    const waiting = tracker.wait('a1');
    clock.advance(1000);
    await expect(waiting).rejects.toMatchObject({ code: 'GENESYS_TIMEOUT' });
    expect(tracker.waiting()).toEqual([]);
  });

  it('forgets the oldest expected ids past its capacity', async () => {
    const tracker = new UploadTracker(new FakeClock(), 1000, 2);
    tracker.expect('a');
    tracker.expect('b');
    tracker.expect('c');
    expect(tracker.settle('a', { ok: true, result: { attachmentId: 'a' } })).toBe(false);
    expect(tracker.settle('c', { ok: true, result: { attachmentId: 'c' } })).toBe(true);
  });
});
