import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codePointLength, isWellFormedUnicode, utf8ByteLength } from '../../../src/domain/utf8.js';

/** Any UTF-16 code unit, lone surrogates included. */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
/** Strings mixing whole code points (astral ones too) with stray surrogates. */
const anyString = fc.string({
  unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), anyUnit),
});

/** The reference for well-formedness: encodeURIComponent throws on a lone surrogate. */
function encodable(value: string): boolean {
  try {
    encodeURIComponent(value);
    return true;
  } catch {
    return false;
  }
}

describe('utf8ByteLength', () => {
  it.each([
    ['', 0],
    ['a', 1],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['👩‍💻', 11],
    ['\ud800', 3],
    ['\udc00', 3],
    ['\ud800a', 4],
    ['\ud800\ud800', 6],
    ['\udc00\ud800', 6],
    ['a\ud83d', 4],
  ])('counts %j as %i bytes', (value, bytes) => {
    expect(utf8ByteLength(value)).toBe(bytes);
  });

  it('agrees with Buffer.byteLength on any string, lone surrogates included', () => {
    fc.assert(
      fc.property(anyString, (value) => {
        expect(utf8ByteLength(value)).toBe(Buffer.byteLength(value, 'utf8'));
      }),
    );
  });
});

describe('codePointLength', () => {
  it('counts an emoji as one code point and a lone surrogate as one', () => {
    expect(codePointLength('😀')).toBe(1);
    expect(codePointLength('a😀b')).toBe(3);
    expect(codePointLength('\ud800')).toBe(1);
    expect(codePointLength('\ud83d\ud83d\ude00')).toBe(2);
  });

  it('agrees with string iteration on any string', () => {
    fc.assert(
      fc.property(anyString, (value) => {
        expect(codePointLength(value)).toBe([...value].length);
      }),
    );
  });
});

describe('isWellFormedUnicode', () => {
  it('accepts proper surrogate pairs and rejects lone or reversed ones', () => {
    expect(isWellFormedUnicode('a😀b')).toBe(true);
    expect(isWellFormedUnicode('')).toBe(true);
    expect(isWellFormedUnicode('\ud800')).toBe(false);
    expect(isWellFormedUnicode('\udc00')).toBe(false);
    expect(isWellFormedUnicode('\ude00\ud83d')).toBe(false);
    expect(isWellFormedUnicode('x\ud83d')).toBe(false);
  });

  it('agrees with encodeURIComponent on any string', () => {
    fc.assert(
      fc.property(anyString, (value) => {
        expect(isWellFormedUnicode(value)).toBe(encodable(value));
      }),
    );
  });

  it('accepts every string of whole code points', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        expect(isWellFormedUnicode(value)).toBe(true);
      }),
    );
  });
});
