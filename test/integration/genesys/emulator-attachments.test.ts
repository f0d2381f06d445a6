import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, type Json, startHarness } from './emulator-harness.js';

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

const BYTES = Buffer.from('%PDF-1.4 a tiny test file\n');

function onAttachment(token: string, extra: Record<string, unknown> = {}) {
  return {
    action: 'onAttachment',
    token,
    attachmentId: 'abcd-1234',
    fileName: 'receipt.pdf',
    fileType: 'application/pdf',
    fileSize: BYTES.length,
    tracingId: 'up-1',
    ...extra,
  };
}

async function presigned(token = 't') {
  harness = await startHarness();
  const { client } = await harness.guest(token);
  const frame = await client.request(onAttachment(token), 'PresignedUrlResponse');
  return { client, frame, body: frame.body as Json };
}

describe('guest attachments', () => {
  it('answers onAttachment with a PresignedUrlResponse whose URL and headers point at the emulator', async () => {
    const { frame, body } = await presigned();
    expect(frame).toMatchObject({
      type: 'response',
      class: 'PresignedUrlResponse',
      code: 200,
      tracingId: 'up-1',
    });
    expect(body).toEqual({
      attachmentId: 'abcd-1234',
      url: expect.stringMatching(new RegExp(`^${harness.emulator.httpUrl}/uploads/abcd-1234\\?signature=.+`)),
      headers: {
        'x-amz-tagging': expect.stringMatching(
          /^organizationId=[0-9a-f-]{36}&originPlatform=PureCloud&role=darth&owner=Dev-CloudAppsDarth@genesys\.com$/,
        ),
      },
      fileName: 'receipt.pdf',
      fileSize: BYTES.length,
      fileType: 'application/pdf',
    });
  });

  it('takes the upload end to end: PUT, UploadSuccessEvent, the message with it, download, getAttachment, delete', async () => {
    const { client, body } = await presigned();
    const put = await fetch(body.url, {
      method: 'PUT',
      headers: { ...body.headers, 'Content-Type': 'application/pdf' },
      body: BYTES,
    });
    expect(put.status).toBe(200);
    const success = await client.nextOfClass('UploadSuccessEvent');
    expect(success).toEqual({
      type: 'message',
      class: 'UploadSuccessEvent',
      code: 200,
      body: {
        attachmentId: 'abcd-1234',
        downloadUrl: expect.stringContaining(`${harness.emulator.httpUrl}/downloads/abcd-1234?signature=`),
        timestamp: new Date(harness.clock.now()).toISOString(),
      },
    });
    const downloadUrl = (success.body as Json).downloadUrl as string;
    const download = await fetch(downloadUrl);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await download.arrayBuffer())).toEqual(BYTES);

    client.send(
      '{"token":"t","message":{"text":"Hello world","metadata":{"id":"aaa-bbb-ccc"},"content":[{"contentType":"Attachment",' +
        '"attachment":{"id":"abcd-1234"}}],"channel":{"metadata":{"customAttributes":{"A":"B"}}},"type":"Text"},' +
        '"tracingId":"msg-1","action":"onMessage"}',
    );
    const echo = (await client.nextOfClass('StructuredMessage')).body as Json;
    expect(echo.content).toEqual([
      {
        contentType: 'Attachment',
        attachment: {
          id: 'abcd-1234',
          filename: 'receipt.pdf',
          mediaType: 'File',
          fileSize: BYTES.length,
          mime: 'application/pdf',
          url: downloadUrl,
        },
      },
    ]);

    const refreshed = await client.request(
      '{"action":"getAttachment","token":"t","attachmentId":"abcd-1234"}',
      'PresignedUrlResponse',
    );
    expect(refreshed.body).toEqual({
      attachmentId: 'abcd-1234',
      headers: {},
      url: downloadUrl,
      fileName: 'receipt.pdf',
      fileSize: BYTES.length,
      fileType: 'application/pdf',
    });

    const deleted = await client.request(
      '{"action":"deleteAttachment","token":"t","attachmentId":"abcd-1234"}',
      'AttachmentDeletedResponse',
    );
    expect(deleted).toEqual({
      type: 'message',
      class: 'AttachmentDeletedResponse',
      code: 200,
      body: { attachmentId: 'abcd-1234' },
    });
    expect((await fetch(downloadUrl)).status).toBe(404);
    const gone = await client.request(
      '{"action":"getAttachment","token":"t","attachmentId":"abcd-1234"}',
      'string',
    );
    expect(gone.code).toBe(4009);
  });

  it('refuses a PUT without the returned headers with 403 and pushes nothing', async () => {
    const { client, body } = await presigned();
    const put = await fetch(body.url, { method: 'PUT', body: BYTES });
    expect(put.status).toBe(403);
    const wrongSignature = await fetch(body.url.replace(/signature=.*/, 'signature=forged'), {
      method: 'PUT',
      headers: body.headers,
      body: BYTES,
    });
    expect(wrongSignature.status).toBe(403);
    await client.expectNothing(
      't',
      (f) => f.class === 'UploadSuccessEvent' || f.class === 'UploadFailureEvent',
    );
    const notUploaded = await client.request(
      '{"action":"getAttachment","token":"t","attachmentId":"abcd-1234"}',
      'string',
    );
    expect(notUploaded.code).toBe(4010);
  });

  it('answers a PUT of another size with UploadFailureEvent 4002', async () => {
    const { client, body } = await presigned();
    const put = await fetch(body.url, {
      method: 'PUT',
      headers: body.headers,
      body: Buffer.concat([BYTES, BYTES]),
    });
    expect(put.status).toBe(400);
    const failure = await client.nextOfClass('UploadFailureEvent');
    expect(failure).toMatchObject({
      type: 'message',
      class: 'UploadFailureEvent',
      code: 200,
      body: { attachmentId: 'abcd-1234', errorCode: 4002, timestamp: expect.any(String) },
    });
    expect((failure.body as Json).errorMessage).toContain(`declared ${BYTES.length} bytes`);
  });

  it('refuses a type outside allowedMedia and a blocked extension with 4001', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('t');
    const type = await client.request(
      onAttachment('t', { fileName: 'clip.mp4', fileType: 'video/mp4' }),
      'string',
    );
    expect(type).toMatchObject({ type: 'response', class: 'string', code: 4001, tracingId: 'up-1' });
    const extension = await client.request(
      onAttachment('t', { fileName: 'run.exe', fileType: 'text/plain' }),
      'string',
    );
    expect(extension.code).toBe(4001);
    const asJson = await client.request(
      {
        action: 'onAttachment',
        token: 't',
        attachmentId: 'x-1',
        fileName: 'a.bmp',
        fileType: 'application/x-msdownload',
        fileSize: 10,
        errorsAsJson: true,
      },
      'GenerateUrlError',
    );
    expect(asJson).toMatchObject({
      type: 'message',
      class: 'GenerateUrlError',
      code: 200,
      body: { attachmentId: 'x-1', errorCode: 4001, errorMessage: expect.any(String) },
    });
  });

  it('refuses a file over maxFileSizeKB with 4002', async () => {
    harness = await startHarness({ limits: { maxFileSizeKB: 1 } });
    const { client } = await harness.guest('t');
    const big = await client.request(onAttachment('t', { fileSize: 1025 }), 'string');
    expect(big).toMatchObject({ code: 4002 });
    const fits = await client.request(onAttachment('t', { fileSize: 1024 }), 'PresignedUrlResponse');
    expect((fits.body as Json).fileSize).toBe(1024);
  });

  it("does not let another session send or fetch a guest's attachment", async () => {
    const { body } = await presigned('owner');
    await fetch(body.url, { method: 'PUT', headers: body.headers, body: BYTES });
    const { client } = await harness.guest('other');
    const refused = await client.request(
      {
        action: 'onMessage',
        token: 'other',
        message: {
          type: 'Text',
          text: 'x',
          content: [{ contentType: 'Attachment', attachment: { id: 'abcd-1234' } }],
        },
      },
      'string',
    );
    expect(refused.code).toBe(4010);
    expect(
      (await client.request({ action: 'getAttachment', token: 'other', attachmentId: 'abcd-1234' }, 'string'))
        .code,
    ).toBe(4009);
  });
});
