import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isScriptCapable,
  MEDIA_TYPE_PATTERN,
  mediaTypeAllowed,
  parseMediaType,
} from '../../../src/domain/media-type.js';

describe('parseMediaType', () => {
  it('parses type, subtype and parameters, case-insensitively', () => {
    expect(parseMediaType('Text/Plain; Charset=UTF-8')).toEqual({
      type: 'text',
      subtype: 'plain',
      essence: 'text/plain',
      parameters: { charset: 'UTF-8' },
    });
    expect(parseMediaType('text/plain;a="x;\\"y";b=1 ;')?.parameters).toEqual({ a: 'x;"y', b: '1' });
  });

  it.each([
    'image/png\r\nX-Evil: 1',
    'image/png\nX: 1',
    'image/png\r',
    'image/png\u0000',
    'image/png\t',
    'image/pngé',
    'image',
    'image/',
    '/png',
    'image /png',
    'image/ png',
    'image/png x',
    'image/png;charset',
    'image/png;=x',
    'image/png;a="unterminated',
    'image/png;a="\u0085"',
    'image/png,image/gif',
    'image/*',
    '*/*',
    '*/png',
    'image/*; q=1',
    '',
  ])('refuses %j', (value) => {
    expect(parseMediaType(value)).toBeUndefined();
  });

  it('never accepts CR, LF or another control character, whatever surrounds it', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom('\r', '\n', '\u0000', '\u007f', '\u0009'),
        fc.string(),
        (a, c, b) => {
          expect(MEDIA_TYPE_PATTERN.test(`image/png${a}${c}${b}`)).toBe(false);
        },
      ),
    );
  });

  it('keeps parameter names from reaching a prototype', () => {
    const parsed = parseMediaType('text/plain;__proto__=x;constructor=y');
    expect(Object.getPrototypeOf(parsed?.parameters)).toBe(Object.prototype);
    expect(Object.entries(parsed?.parameters ?? {})).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
  });
});

describe('mediaTypeAllowed', () => {
  it('compares type and subtype exactly, never by prefix', () => {
    expect(mediaTypeAllowed('image/png', ['image/png'])).toBe(true);
    expect(mediaTypeAllowed('image/pngx', ['image/png'])).toBe(false);
    expect(mediaTypeAllowed('image/png+evil', ['image/png'])).toBe(false);
    expect(mediaTypeAllowed('application/pdf', ['image/*'])).toBe(false);
  });

  it.each(['image/svg+xml', 'text/html', 'application/xhtml+xml', 'text/javascript', 'application/atom+xml'])(
    'does not admit the script-capable %s by a wildcard, only by its exact name',
    (type) => {
      expect(isScriptCapable(type)).toBe(true);
      expect(mediaTypeAllowed(type, ['*/*', 'image/*', 'text/*', 'application/*'])).toBe(false);
      expect(mediaTypeAllowed(type, [type])).toBe(true);
    },
  );
});
