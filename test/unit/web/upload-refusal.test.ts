/**
 * The web page's sentence for a file its storage host refused (web/upload-refusal.js): the status, the
 * S3 error's code and message when the body has them, and what to do.
 */
import { describe, expect, it } from 'vitest';
import { uploadRefusalText } from '../../../web/upload-refusal.js';

const s3Error = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>R</RequestId></Error>`;

describe('uploadRefusalText', () => {
  it('names the code and message of an S3 refusal and what to do about it', () => {
    expect(uploadRefusalText(403, s3Error('AccessDenied', 'Request has expired'))).toBe(
      'Upload refused (HTTP 403, AccessDenied: Request has expired). The upload URL expired or was refused: choose the file again for a new one.',
    );
    expect(
      uploadRefusalText(
        400,
        s3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'),
      ),
    ).toMatch(
      /EntityTooLarge: Your proposed upload exceeds .*\. The file is too large for this deployment\.$/,
    );
    expect(uploadRefusalText(403, s3Error('RequestTimeTooSkewed', 'The difference is too large.'))).toMatch(
      /clock is off/,
    );
  });

  it('says the status and a next step when the body says nothing it can read', () => {
    expect(uploadRefusalText(500, '')).toBe('Upload refused (HTTP 500). Try the file again.');
    expect(uploadRefusalText(403, '<html>denied</html>')).toBe(
      'Upload refused (HTTP 403). The upload URL expired or was refused: choose the file again for a new one.',
    );
    expect(uploadRefusalText(502, undefined)).toBe('Upload refused (HTTP 502). Try the file again.');
  });

  it('keeps the message to one bounded line', () => {
    const said = uploadRefusalText(400, s3Error('InvalidArgument', `line one\nline\ttwo ${'x'.repeat(400)}`));
    expect(said).not.toMatch(/[\n\t]/);
    expect(said.length).toBeLessThan(330);
  });
});
