import { describe, expect, it } from 'vitest';
import { customAttributesOf, parseGuestRequest } from '../../../../src/genesys/emulator/guest-requests.js';
import { request, serializeRequest } from '../../../../src/genesys/requests.js';

describe('parseGuestRequest', () => {
  it.each([
    '{"token":"token","deploymentId":"deploymentId","action":"configureSession"}',
    '{"action":"onMessage","token":"t","message":{"type":"Event","events":[{"eventType":"Typing","typing":{"type":"On"}}]}}',
    '{"token":"t","action":"onMessage","message":{"events":[{"eventType":"Presence","presence":{"type":"Join"}}],"channel":{"metadata":{"customAttributes":{"A":"B"}}},"type":"Event"}}',
    '{"action":"echo","token":"t","tracingId":"SGVhbHRoQ2hlY2tNZXNzYWdlSWQ=","message":{"type":"Text","text":"ping"}}',
    '{"action":"onAttachment","token":"t","attachmentId":"u","fileName":"a.png","fileType":"image/png","fileSize":12345,"fileMd5":"x","errorsAsJson":true}',
    '{"action":"getAttachment","token":"t","attachmentId":"u"}',
    '{"action":"deleteAttachment","token":"t","attachmentId":"u"}',
    '{"action":"closeSession","token":"t","closeAllConnections":true}',
    '{"action":"getConfiguration","token":"t","deploymentId":"d"}',
  ])('accepts the reference frame %s', (raw) => {
    expect(parseGuestRequest(raw)).toMatchObject({ ok: true });
  });

  it('accepts every frame the project request builders produce', () => {
    const built = [
      request.configureSession({ token: 't', deploymentId: 'd', startNew: true, tracingId: 'x' }),
      request.text({
        token: 't',
        tracingId: 'x',
        text: 'hi',
        attachmentIds: ['a'],
        buttonResponse: { text: 'Yes', payload: 'y', type: 'Button' },
        customAttributes: { A: 'B' },
      }),
      request.typing({ token: 't' }),
      request.presence({ token: 't', type: 'Clear' }),
      request.echo({ token: 't' }),
      request.getJwt({ token: 't' }),
      request.onAttachment({ token: 't', fileName: 'a', fileType: 'text/plain', fileSize: 1 }),
      request.getAttachment({ token: 't', attachmentId: 'a' }),
      request.deleteAttachment({ token: 't', attachmentId: 'a' }),
      request.closeSession({ token: 't' }),
      request.getConfiguration({ token: 't', deploymentId: 'd' }),
    ];
    for (const frame of built) expect(parseGuestRequest(serializeRequest(frame))).toMatchObject({ ok: true });
  });

  it('keeps the tracingId of a request it refuses', () => {
    expect(parseGuestRequest('{"action":"onMessage","tracingId":"t-9","token":"t"}')).toEqual(
      expect.objectContaining({
        ok: false,
        code: 4020,
        message: 'Missing parameter: message',
        tracingId: 't-9',
      }),
    );
  });

  it.each([
    ['not json', 400],
    ['[1,2]', 400],
    ['{"token":"t"}', 4020],
    ['{"action":"fly","token":"t"}', 400],
    ['{"action":"resumeToken","token":"t"}', 4000],
    ['{"action":"echo"}', 4020],
    [`{"action":"echo","token":"${'x'.repeat(2049)}"}`, 400],
    ['{"action":"onMessage","token":"t","message":{"type":"Receipt"}}', 400],
    ['{"action":"onMessage","token":"t","message":{"type":"Text","metadata":{"n":1}}}', 400],
    ['{"action":"onAttachment","token":"t","fileName":"a","fileType":"b"}', 4020],
  ])('refuses %s with code %i', (raw, code) => {
    expect(parseGuestRequest(raw)).toMatchObject({ ok: false, code });
  });
});

describe('customAttributesOf', () => {
  function attributesOf(raw: string) {
    const parsed = parseGuestRequest(raw);
    if (!parsed.ok || parsed.request.action !== 'onMessage') throw new Error('not an onMessage');
    return customAttributesOf(parsed.request);
  }

  it('reads them inside message, at the top level, or both (message wins)', () => {
    expect(
      attributesOf(
        '{"action":"onMessage","token":"t","message":{"type":"Text","text":"x","channel":{"metadata":{"customAttributes":{"A":"1"}}}}}',
      ),
    ).toEqual({ A: '1' });
    expect(
      attributesOf(
        '{"action":"onMessage","token":"t","message":{"type":"Text","text":"x"},"channel":{"metadata":{"customAttributes":{"A":"2"}}}}',
      ),
    ).toEqual({ A: '2' });
    expect(
      attributesOf(
        '{"action":"onMessage","token":"t","message":{"type":"Text","text":"x","channel":{"metadata":{"customAttributes":{"A":"in","B":"b"}}}},' +
          '"channel":{"metadata":{"customAttributes":{"A":"top","C":"c"}}}}',
      ),
    ).toEqual({ A: 'in', B: 'b', C: 'c' });
    expect(
      attributesOf('{"action":"onMessage","token":"t","message":{"type":"Text","text":"x"}}'),
    ).toBeUndefined();
  });
});
