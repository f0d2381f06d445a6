import { describe, expect, it } from 'vitest';
import { type MediaType, parseMediaType } from '../../../src/domain/media-type.js';
import { contentMismatch, SNIFFED_TYPES } from '../../../src/domain/sniff.js';
import { PNG_1X1_BASE64 } from '../../../support/seed-frames.js';

const type = (value: string): MediaType => {
  const parsed = parseMediaType(value);
  if (parsed === undefined) throw new Error(`not a media type: ${value}`);
  return parsed;
};
const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(
    parts.flatMap((part) => (typeof part === 'string' ? [...Buffer.from(part, 'latin1')] : part)),
  );

const SAMPLES: Record<string, Uint8Array> = {
  'image/png': new Uint8Array(Buffer.from(PNG_1X1_BASE64, 'base64')),
  'image/jpeg': bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF'),
  'image/gif': bytes('GIF89a', [1, 0, 1, 0]),
  'image/webp': bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 '),
  'application/pdf': bytes('%PDF-1.4\n'),
  'text/plain': new Uint8Array(Buffer.from('héllo, 世界\n')),
};

describe('contentMismatch', () => {
  it('checks exactly the documented types', () => {
    expect([...SNIFFED_TYPES].sort()).toEqual(
      [
        'application/pdf',
        'image/gif',
        'image/jpeg',
        'image/jpg',
        'image/pjpeg',
        'image/png',
        'image/webp',
        'text/plain',
      ].sort(),
    );
  });

  it.each(Object.keys(SAMPLES))('passes real %s content', (declared) => {
    expect(contentMismatch(type(declared), SAMPLES[declared] as Uint8Array)).toBeUndefined();
  });

  it('refuses content of another format, saying what it looks like', () => {
    expect(contentMismatch(type('image/png'), SAMPLES['image/gif'] as Uint8Array)).toEqual({
      declared: 'image/png',
      found: 'a GIF image',
    });
    expect(contentMismatch(type('IMAGE/JPEG'), bytes('MZ\x90\x00'))).toEqual({
      declared: 'image/jpeg',
      found: 'none of the known formats',
    });
    expect(contentMismatch(type('application/pdf'), SAMPLES['image/png'] as Uint8Array)?.found).toBe(
      'a PNG image',
    );
    expect(contentMismatch(type('image/webp'), bytes('RIFF', [0, 0, 0, 0], 'WAVE'))?.declared).toBe(
      'image/webp',
    );
  });

  it('refuses text/plain with a NUL or invalid UTF-8, and passes other charsets unchecked', () => {
    expect(contentMismatch(type('text/plain'), bytes('ab', [0], 'c'))?.found).toContain(
      'NUL byte at offset 2',
    );
    expect(contentMismatch(type('text/plain; charset=utf-8'), bytes([0xc3, 0x28]))?.found).toBe(
      'bytes that are not valid UTF-8',
    );
    expect(contentMismatch(type('text/plain; charset=utf-16le'), bytes([0x68, 0]))).toBeUndefined();
  });

  it('passes types it cannot check, and leaves empty files to attachment_empty', () => {
    expect(contentMismatch(type('video/mp4'), bytes('anything'))).toBeUndefined();
    expect(contentMismatch(type('application/octet-stream'), bytes([0]))).toBeUndefined();
    expect(contentMismatch(type('image/png'), new Uint8Array())).toBeUndefined();
  });
});
