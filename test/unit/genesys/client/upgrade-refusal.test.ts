import { describe, expect, it } from 'vitest';
import {
  MAX_REFUSAL_BYTES,
  REFUSAL_READ_MS,
  readRefusal,
  refusalWords,
} from '../../../../src/genesys/client/upgrade-refusal.js';
import { FakeClock, FakeResponse } from './fakes.js';

describe('refusalWords', () => {
  it('takes the first message-like field of a JSON body, nested under error too', () => {
    expect(refusalWords('application/json', '{"message":"Origin not allowed"}')).toBe('Origin not allowed');
    expect(
      refusalWords(
        'application/json; charset=utf-8',
        '{"error":{"code":"Not Found","message":"Unknown deploymentId"}}',
      ),
    ).toBe('Unknown deploymentId');
    expect(refusalWords('application/json', '{"error":"forbidden"}')).toBe('forbidden');
    expect(refusalWords('application/json', '"HTTP authorization error"')).toBe('HTTP authorization error');
    expect(refusalWords(undefined, '{"errorMessage":"Turn on the Feature Toggle"}')).toBe(
      'Turn on the Feature Toggle',
    );
  });

  it('gives no words for JSON without a message, for broken JSON, or for a body of another kind', () => {
    expect(refusalWords('application/json', '{"status":403}')).toBeUndefined();
    expect(refusalWords('application/json', '{"message":"cut sho')).toBeUndefined();
    expect(refusalWords('application/octet-stream', 'binary')).toBeUndefined();
    expect(refusalWords('text/plain', '   ')).toBeUndefined();
  });

  it("takes an HTML page's title, and nothing from a page without one", () => {
    expect(
      refusalWords('text/html', '<html><head><title>403 Forbidden</title></head><body>…</body></html>'),
    ).toBe('403 Forbidden');
    expect(refusalWords('text/html', '<html><body><h1>Denied</h1></body></html>')).toBeUndefined();
    expect(refusalWords(undefined, '<!DOCTYPE html><title>Bad gateway</title>')).toBe('Bad gateway');
  });

  it('hides the strings it is given before cutting the words, so that no part of them shows', () => {
    const token = `eyJ${'a'.repeat(300)}`;
    const said = refusalWords('application/json', JSON.stringify({ message: `Invalid token ${token}` }), [
      token,
    ]);
    expect(said).toBe('Invalid token <hidden>');
    expect(refusalWords('text/plain', 'no secret here', ['', 'absent'])).toBe('no secret here');
  });

  it('makes plain text one bounded line without query strings', () => {
    expect(refusalWords('text/plain', 'Request failed.\r\n\tTry again\u0000later')).toBe(
      'Request failed. Try again later',
    );
    expect(refusalWords(undefined, 'see https://example.invalid/x?token=secret now')).toBe(
      'see https://example.invalid/x now',
    );
    const long = refusalWords('text/plain', 'x'.repeat(500));
    expect(long).toHaveLength(160);
    expect(long?.endsWith('…')).toBe(true);
  });
});

describe('readRefusal', () => {
  it('reads the status and the words once the body has ended, and destroys the response', async () => {
    const clock = new FakeClock();
    const response = new FakeResponse(403, { 'content-type': 'text/plain' });
    const read = readRefusal(response, clock);
    response.emit('data', Buffer.from('Origin '));
    response.emit('data', 'not allowed');
    response.emit('end');
    await expect(read).resolves.toEqual({ status: 403, said: 'Origin not allowed' });
    expect(response.destroyed).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('stops reading at the cap', async () => {
    const clock = new FakeClock();
    const response = new FakeResponse(502, { 'content-type': 'text/plain' });
    const read = readRefusal(response, clock);
    response.emit('data', Buffer.alloc(MAX_REFUSAL_BYTES + 10, 'a'));
    const refusal = await read;
    expect(response.destroyed).toBe(true);
    expect(refusal.status).toBe(502);
    expect(refusal.said).toHaveLength(160);
  });

  it('reports the status with what it has when the body does not end in time', async () => {
    const clock = new FakeClock();
    const response = new FakeResponse(404, { 'content-type': 'application/json' });
    const read = readRefusal(response, clock);
    response.emit('data', '{"message":"Unknown');
    clock.advance(REFUSAL_READ_MS);
    await expect(read).resolves.toEqual({ status: 404 });
    expect(response.destroyed).toBe(true);
  });

  it('reports the status alone when the response fails', async () => {
    const clock = new FakeClock();
    const response = new FakeResponse(500);
    const read = readRefusal(response, clock);
    response.emit('error', new Error('socket hang up'));
    await expect(read).resolves.toEqual({ status: 500 });
    expect(clock.pending).toBe(0);
  });
});
