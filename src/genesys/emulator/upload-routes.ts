/**
 * The presigned URLs behind attachments, S3-like: `PUT /uploads/:id?signature=…` (every header of the
 * PresignedUrlResponse, exactly the declared bytes) and `GET /downloads/:id?signature=…`.
 */
import type { EmulatorCore } from './core.js';
import { frames, isoTime } from './frames.js';
import { emulatorError, HttpError, type Router, readBody } from './http.js';

export function registerUploadRoutes(router: Router, core: EmulatorCore): void {
  router.on('PUT', '/uploads/:id', async ({ req, res, url, params }) => {
    const id = params.id ?? '';
    const attachment = core.attachments.get(id);
    if (attachment?.origin !== 'guest' || attachment.state === 'deleted') {
      throw emulatorError(404, 'no_such_upload', 'No upload is pending for this attachment.');
    }
    if (!core.attachments.uploadSignatureValid(id, url.searchParams.get('signature'))) {
      throw emulatorError(403, 'signature_mismatch', 'The signature does not match this upload URL.');
    }
    for (const [name, value] of Object.entries(core.attachments.uploadHeaders())) {
      if (req.headers[name.toLowerCase()] !== value) {
        throw emulatorError(
          403,
          'header_mismatch',
          `The upload must carry the header "${name}" exactly as given.`,
        );
      }
    }
    const { bytes, length } = await readBody(req, attachment.fileSize);
    const session = core.sessions.get(attachment.token);
    const now = isoTime(core.now);
    if (length !== attachment.fileSize) {
      const message = `file size invalid: declared ${attachment.fileSize} bytes, received ${length}`;
      if (session) core.broadcast(session, frames.uploadFailure(attachment.id, 4002, message, now));
      throw new HttpError(400, { error: { code: 'size_mismatch', message } });
    }
    attachment.bytes = bytes;
    attachment.state = 'uploaded';
    attachment.uploadedAt = core.now;
    res.writeHead(200, { ETag: `"${attachment.id}"`, 'Content-Length': 0 });
    res.end();
    if (session) {
      core.broadcast(
        session,
        frames.uploadSuccess(attachment.id, core.attachments.downloadUrl(attachment), isoTime(core.now)),
      );
    }
  });

  router.on('GET', '/downloads/:id', ({ res, url, params }) => {
    const id = params.id ?? '';
    if (!core.attachments.downloadSignatureValid(id, url.searchParams.get('signature'))) {
      throw emulatorError(403, 'signature_mismatch', 'The signature does not match this download URL.');
    }
    const attachment = core.attachments.get(id);
    if (!attachment?.bytes || attachment.state !== 'uploaded') {
      throw emulatorError(404, 'not_found', 'No such attachment (or it was deleted).');
    }
    res.writeHead(200, {
      'Content-Type': attachment.fileType,
      'Content-Length': attachment.bytes.length,
      'Content-Disposition': `inline; filename*=UTF-8''${encodeURIComponent(attachment.fileName)}`,
    });
    res.end(attachment.bytes);
  });
}
