import { describe, expect, it } from 'vitest';
import {
  type ChannelConstraints,
  checkAttachment,
  checkCustomData,
  checkText,
  constraintsFromSessionResponse,
  DEFAULT_CONSTRAINTS,
  mimeMatches,
  type SessionResponseBody,
} from '../../../src/domain/constraints.js';

/** Frames copied from the reference (§4): the SDK fixture and ovotech's real-traffic fresh session. */
const FULL_FRAME =
  '{"type":"response","class":"SessionResponse","code":200,"body":{"connected":true,"newSession":true,"readOnly":false,"maxCustomDataBytes":100,"allowedMedia":{"inbound":{"fileTypes":[{"type":"video/mpg"},{"type":"video/3gpp"}],"maxFileSizeKB":10240}},"blockedExtensions":[".ade",".adp"],"clearedExistingSession":false}}';
const MINIMAL_BODY = '{"connected":true,"newSession":true}';

const bodyOf = (frame: string): SessionResponseBody =>
  (JSON.parse(frame) as { body: SessionResponseBody }).body;

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

/** Images, PDFs, ".exe" blocked, 1 KB max: small numbers make the boundaries easy to hit. */
const attachmentRules: ChannelConstraints = constraintsFromSessionResponse({
  allowedMedia: {
    inbound: { fileTypes: [{ type: 'image/*' }, { type: 'application/pdf' }], maxFileSizeKB: 1 },
  },
  blockedExtensions: ['.exe'],
});
const png = { filename: 'photo.png', contentType: 'image/png', size: 100 };

describe('DEFAULT_CONSTRAINTS', () => {
  it('holds the documented defaults, deeply frozen', () => {
    expect(DEFAULT_CONSTRAINTS).toEqual({
      maxTextLength: 4000,
      maxCustomDataBytes: 2048,
      attachments: {
        enabled: false,
        fileTypes: [],
        maxFileSizeKB: 25_600,
        blockedExtensions: [],
        maxPerMessage: 1,
      },
      sendRatePerSecond: 2,
      typingIntervalMs: 5000,
    });
    expect(isDeepFrozen(DEFAULT_CONSTRAINTS)).toBe(true);
  });
});

describe('constraintsFromSessionResponse', () => {
  it('takes every limit the SDK fixture frame states', () => {
    const constraints = constraintsFromSessionResponse(bodyOf(FULL_FRAME));
    expect(constraints).toEqual({
      maxTextLength: 4000,
      maxCustomDataBytes: 100,
      attachments: {
        enabled: true,
        fileTypes: ['video/mpg', 'video/3gpp'],
        maxFileSizeKB: 10_240,
        blockedExtensions: ['.ade', '.adp'],
        maxPerMessage: 1,
      },
      sendRatePerSecond: 2,
      typingIntervalMs: 5000,
    });
    expect(isDeepFrozen(constraints)).toBe(true);
  });

  it('falls back to the defaults, attachments disabled, for a minimal fresh-session body', () => {
    const constraints = constraintsFromSessionResponse(JSON.parse(MINIMAL_BODY) as SessionResponseBody);
    expect(constraints).toEqual(DEFAULT_CONSTRAINTS);
    expect(constraints.attachments.enabled).toBe(false);
    expect(isDeepFrozen(constraints)).toBe(true);
  });

  it('ignores negative, non-finite and non-numeric numbers from the wire', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '100']) {
      const constraints = constraintsFromSessionResponse({
        maxCustomDataBytes: bad as number,
        allowedMedia: { inbound: { fileTypes: [{ type: 'image/png' }], maxFileSizeKB: bad as number } },
      });
      expect(constraints.maxCustomDataBytes).toBe(2048);
      expect(constraints.attachments.maxFileSizeKB).toBe(25_600);
    }
  });

  it('lower-cases and de-duplicates file types and drops entries without a type', () => {
    const fileTypes = [
      { type: 'Image/PNG' },
      { type: 'image/png' },
      { type: ' ' },
      { type: 5 },
      null,
      { type: '*/*' },
    ];
    const constraints = constraintsFromSessionResponse({
      allowedMedia: { inbound: { fileTypes: fileTypes as unknown as { type: string }[] } },
    });
    expect(constraints.attachments.fileTypes).toEqual(['image/png', '*/*']);
    expect(constraints.attachments.enabled).toBe(true);
  });

  it('disables attachments when the deployment lists no file types', () => {
    const constraints = constraintsFromSessionResponse({ allowedMedia: { inbound: { fileTypes: [] } } });
    expect(constraints.attachments.enabled).toBe(false);
  });

  it('normalises blocked extensions to lower case with a leading dot', () => {
    const constraints = constraintsFromSessionResponse({
      blockedExtensions: ['EXE', '.Bat', ' .cmd ', 'exe', '', '.'],
    });
    expect(constraints.attachments.blockedExtensions).toEqual(['.exe', '.bat', '.cmd']);
  });

  it('applies overrides for the limits the wire never carries', () => {
    const constraints = constraintsFromSessionResponse(
      {},
      { maxTextLength: 100, sendRatePerSecond: 1, typingIntervalMs: 0 },
    );
    expect(constraints).toMatchObject({ maxTextLength: 100, sendRatePerSecond: 1, typingIntervalMs: 0 });
  });

  it('throws a TypeError naming an unknown override and a RangeError for one out of range', () => {
    expect(() => constraintsFromSessionResponse({}, { maxCustomDataBytes: 1 } as never)).toThrow(
      /"maxCustomDataBytes"/,
    );
    expect(() => constraintsFromSessionResponse({}, { maxTextLength: 0 })).toThrow(RangeError);
    expect(() => constraintsFromSessionResponse({}, { sendRatePerSecond: 0 })).toThrow(RangeError);
    expect(() => constraintsFromSessionResponse({}, { typingIntervalMs: -1 })).toThrow(RangeError);
  });

  it('falls back to the given defaults rather than the built-in ones', () => {
    const defaults: ChannelConstraints = {
      ...DEFAULT_CONSTRAINTS,
      maxCustomDataBytes: 512,
      maxTextLength: 10,
    };
    const constraints = constraintsFromSessionResponse({}, {}, defaults);
    expect(constraints.maxCustomDataBytes).toBe(512);
    expect(constraints.maxTextLength).toBe(10);
  });
});

describe('checkText', () => {
  const limit3 = constraintsFromSessionResponse({}, { maxTextLength: 3 });

  it('passes a text exactly at the limit and fails one code point over', () => {
    expect(checkText('abc', limit3)).toBeUndefined();
    const error = checkText('abcd', limit3);
    expect(error?.code).toBe('text_too_long');
    expect(error?.details).toEqual({ field: 'text', length: 4, maxLength: 3 });
    expect(error?.message).toContain('4');
    expect(error?.message).toContain('3');
  });

  it('counts an astral character as one code point, not two UTF-16 units', () => {
    expect(checkText('😀😀😀', limit3)).toBeUndefined();
    expect(checkText('😀😀😀😀', limit3)?.details).toEqual({ field: 'text', length: 4, maxLength: 3 });
  });

  it('passes the default limit of 4000 and fails at 4001', () => {
    expect(checkText('x'.repeat(4000), DEFAULT_CONSTRAINTS)).toBeUndefined();
    expect(checkText('x'.repeat(4001), DEFAULT_CONSTRAINTS)?.code).toBe('text_too_long');
  });

  it('rejects lone surrogates as text_invalid', () => {
    expect(checkText('a\ud800', DEFAULT_CONSTRAINTS)?.code).toBe('text_invalid');
    expect(checkText('\udc00b', DEFAULT_CONSTRAINTS)?.code).toBe('text_invalid');
  });

  it.each([
    ['NUL', 'a\u0000b', 'U+0000', 1],
    ['a C0 control', 'a\u001bb', 'U+001B', 1],
    ['DEL', '\u007f', 'U+007F', 0],
    ['a C1 control', 'ab\u0085', 'U+0085', 2],
    ['a bidi override', '😀\u202Egnp.exe', 'U+202E', 1],
    ['a bidi embedding', '\u202Ax', 'U+202A', 0],
    ['a bidi isolate', 'x\u2066y\u2069', 'U+2066', 1],
  ])('refuses %s as text_invalid, naming the field and the code point', (_, text, codePoint, index) => {
    const error = checkText(text, DEFAULT_CONSTRAINTS, 'caption');
    expect(error?.code).toBe('text_invalid');
    expect(error?.details).toEqual({ field: 'caption', codePoint, index });
    expect(error?.message).toContain(codePoint);
    expect(error?.message).toContain('caption');
    expect(error?.message).not.toContain(String.fromCodePoint(Number.parseInt(codePoint.slice(2), 16)));
  });

  it('keeps tab, newlines, bidi marks and joiners in text', () => {
    expect(
      checkText('a\tb\nc\r\nd \u200e\u200f\u061c 👨\u200d👩 \u200c', DEFAULT_CONSTRAINTS),
    ).toBeUndefined();
  });
});

describe('mimeMatches', () => {
  it.each([
    ['*/*', 'application/x-anything', true],
    ['*/*', '', false],
    ['image/*', 'image/png', true],
    ['image/*', 'IMAGE/PNG; charset=binary', true],
    ['image/*', 'video/mp4', false],
    ['image/*', 'imagex/png', false],
    ['image/*', 'image', false],
    ['image/png', 'image/png;charset=utf-8', true],
    ['Image/PNG', 'image/png', true],
    ['image/png', 'image/jpeg', false],
    ['image/png', '', false],
    ['', '', false],
    ['image/*', 'image/svg+xml', false],
    ['*/*', 'image/svg+xml', false],
    ['*/*', 'text/html', false],
    ['text/*', 'text/html; charset=utf-8', false],
    ['application/*', 'application/vnd.evil+xml', false],
    ['image/svg+xml', 'IMAGE/SVG+XML', true],
    ['image/*', 'image/png\r\nX-Evil: 1', false],
    ['image/png', 'image/png\r\nX-Evil: 1', false],
    ['image/png', 'image/pngx', false],
    ['image/*', 'image/png x', false],
    ['image/*', 'image /png', false],
    ['image/*', 'image/', false],
    ['image/*', 'image/png; charset="a;b"', true],
  ])('matches pattern %j against %j: %s', (pattern, contentType, expected) => {
    expect(mimeMatches(pattern, contentType)).toBe(expected);
  });
});

describe('checkAttachment', () => {
  it('passes an allowed file within every limit', () => {
    expect(checkAttachment(png, attachmentRules)).toBeUndefined();
    expect(
      checkAttachment({ ...png, filename: 'a.pdf', contentType: 'application/pdf' }, attachmentRules),
    ).toBe(undefined);
  });

  it('rejects empty names, separators and control characters', () => {
    for (const filename of [
      '',
      '   ',
      'a/b.png',
      'a\\b.png',
      'a\u0000.png',
      'a\n.png',
      'a\u001f.png',
      'a\u007f.png',
    ]) {
      expect(checkAttachment({ ...png, filename }, attachmentRules)?.code).toBe('attachment_name_invalid');
    }
  });

  it.each([
    ['a bidi override', 'inv\u202Egnp.scr', 'U+202E', 3],
    ['a bidi isolate', 'a\u2067b.png', 'U+2067', 1],
    ['a right-to-left mark', 'a\u200f.png', 'U+200F', 1],
    ['a zero width space', 'a.pdf\u200b.png', 'U+200B', 5],
    ['a byte order mark', '\ufeffa.png', 'U+FEFF', 0],
    ['a C1 control', 'a\u0085.png', 'U+0085', 1],
    ['a tab', 'a\t.png', 'U+0009', 1],
    ['a line separator', 'a\u2028.png', 'U+2028', 1],
  ])('refuses %s in a file name, naming the code point', (_, filename, codePoint, index) => {
    const error = checkAttachment({ ...png, filename }, attachmentRules);
    expect(error?.code).toBe('attachment_name_invalid');
    expect(error?.details).toEqual({ field: 'filename', codePoint, index });
    expect(error?.message).toContain(codePoint);
    expect(JSON.stringify(error?.details)).not.toContain(filename);
  });

  it('keeps joiners (emoji, scripts) in file names', () => {
    expect(checkAttachment({ ...png, filename: '👨\u200d👩 \u200c.png' }, attachmentRules)).toBeUndefined();
  });

  it('passes a 255-character name and rejects 256 characters, counted in code points', () => {
    expect(checkAttachment({ ...png, filename: `${'x'.repeat(251)}.png` }, attachmentRules)).toBeUndefined();
    expect(checkAttachment({ ...png, filename: `${'😀'.repeat(251)}.png` }, attachmentRules)).toBeUndefined();
    expect(checkAttachment({ ...png, filename: `${'x'.repeat(252)}.png` }, attachmentRules)?.code).toBe(
      'attachment_name_invalid',
    );
  });

  it('blocks the last extension, case-insensitively, after trailing dots and spaces', () => {
    for (const filename of ['run.exe', 'RUN.EXE', 'report.pdf.exe.', 'report.pdf.exe . ', '.exe']) {
      const error = checkAttachment({ ...png, filename }, attachmentRules);
      expect(error?.code).toBe('attachment_extension_blocked');
      expect(error?.details.extension).toBe('.exe');
    }
    expect(checkAttachment({ ...png, filename: 'exe' }, attachmentRules)).toBeUndefined();
    expect(checkAttachment({ ...png, filename: 'report.exe.png' }, attachmentRules)).toBeUndefined();
  });

  it('rejects every type when the deployment accepts no attachments', () => {
    expect(checkAttachment(png, DEFAULT_CONSTRAINTS)?.code).toBe('attachment_type_not_allowed');
  });

  it('rejects a content type that matches no allowed pattern', () => {
    const error = checkAttachment({ ...png, filename: 'a.mp4', contentType: 'video/mp4' }, attachmentRules);
    expect(error?.code).toBe('attachment_type_not_allowed');
    expect(error?.details).toMatchObject({
      contentType: 'video/mp4',
      allowed: ['image/*', 'application/pdf'],
    });
  });

  it('refuses a content type that is not a media type, without repeating it', () => {
    for (const contentType of ['image/png\r\nX-Evil: 1', 'image/png\u0000', 'image', 'image/png;x', '']) {
      const error = checkAttachment({ ...png, contentType }, attachmentRules);
      expect(error?.code, JSON.stringify(contentType)).toBe('attachment_type_not_allowed');
      expect(error?.details).toEqual({ field: 'contentType' });
    }
  });

  it('admits a script-capable type only when it is listed by its exact name', () => {
    const svg = { ...png, filename: 'a.svg', contentType: 'image/svg+xml' };
    expect(checkAttachment(svg, attachmentRules)?.code).toBe('attachment_type_not_allowed');
    const listed = constraintsFromSessionResponse({
      allowedMedia: { inbound: { fileTypes: [{ type: 'image/svg+xml' }] } },
    });
    expect(checkAttachment(svg, listed)).toBeUndefined();
  });

  it('admits any well-formed type with anyContentType, and still refuses a malformed one', () => {
    const svg = { ...png, filename: 'a.svg', contentType: 'image/svg+xml' };
    expect(checkAttachment(svg, attachmentRules, { anyContentType: true })).toBeUndefined();
    expect(
      checkAttachment({ ...png, contentType: 'image/png\nX: 1' }, attachmentRules, { anyContentType: true })
        ?.code,
    ).toBe('attachment_type_not_allowed');
  });

  it('rejects an empty file', () => {
    expect(checkAttachment({ ...png, size: 0 }, attachmentRules)?.code).toBe('attachment_empty');
    expect(checkAttachment({ ...png, size: -1 }, attachmentRules)?.code).toBe('attachment_empty');
  });

  it('passes exactly maxFileSizeKB * 1024 bytes and rejects one byte more', () => {
    expect(checkAttachment({ ...png, size: 1024 }, attachmentRules)).toBeUndefined();
    const error = checkAttachment({ ...png, size: 1025 }, attachmentRules);
    expect(error?.code).toBe('attachment_too_large');
    expect(error?.details).toEqual({ size: 1025, maxBytes: 1024 });
  });

  it('checks name, then extension, then type, then emptiness, then size', () => {
    const worst = { filename: 'a/b.exe', contentType: 'video/mp4', size: 0 };
    expect(checkAttachment(worst, attachmentRules)?.code).toBe('attachment_name_invalid');
    expect(checkAttachment({ ...worst, filename: 'b.exe' }, attachmentRules)?.code).toBe(
      'attachment_extension_blocked',
    );
    expect(checkAttachment({ ...worst, filename: 'b.mp4' }, attachmentRules)?.code).toBe(
      'attachment_type_not_allowed',
    );
    expect(checkAttachment({ ...png, size: 0 }, attachmentRules)?.code).toBe('attachment_empty');
  });
});

describe('checkCustomData', () => {
  const budget100 = constraintsFromSessionResponse(bodyOf(FULL_FRAME));

  it('passes attributes exactly at maxCustomDataBytes and fails one byte over', () => {
    expect(checkCustomData({ k: 'x'.repeat(99) }, budget100)).toBeUndefined();
    const error = checkCustomData({ k: 'x'.repeat(100) }, budget100);
    expect(error?.code).toBe('context_too_large');
    expect(error?.message).toBe(
      "Context needs 101 bytes of custom attributes; the session's budget is 100 bytes (1 over).",
    );
    expect(error?.details).toEqual({ bytes: 101, maxBytes: 100, overflow: 1, largestKeys: ['k'] });
  });

  it('counts multi-byte characters in UTF-8', () => {
    expect(checkCustomData({ é: '€'.repeat(32) }, budget100)).toBeUndefined();
    expect(checkCustomData({ é: '€'.repeat(33) }, budget100)?.details.bytes).toBe(101);
  });
});
