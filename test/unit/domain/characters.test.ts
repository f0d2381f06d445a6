import { describe, expect, it } from 'vitest';
import { excerpt, findRefusedCharacter, formatCodePoint } from '../../../src/domain/characters.js';

describe('formatCodePoint', () => {
  it('writes code points as Unicode does', () => {
    expect(formatCodePoint(0)).toBe('U+0000');
    expect(formatCodePoint(0x202e)).toBe('U+202E');
    expect(formatCodePoint(0x1f600)).toBe('U+1F600');
  });
});

describe('findRefusedCharacter', () => {
  const every = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('refuses in text: controls but tab and newlines, C1, bidi embeddings, overrides and isolates', () => {
    const refused = [
      ...every(0x00, 0x08),
      0x0b,
      0x0c,
      ...every(0x0e, 0x1f),
      ...every(0x7f, 0x9f),
      ...every(0x202a, 0x202e),
      ...every(0x2066, 0x2069),
    ];
    for (const point of refused) {
      expect(findRefusedCharacter(`a${String.fromCodePoint(point)}`, 'text')?.codePoint).toBe(
        formatCodePoint(point),
      );
    }
    for (const point of [0x09, 0x0a, 0x0d, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x061c, 0xfeff, 0xa0]) {
      expect(findRefusedCharacter(`a${String.fromCodePoint(point)}`, 'text')).toBeUndefined();
    }
  });

  it('refuses more in file names: every control, every bidi character and invisible ones', () => {
    const refused = [
      ...every(0x00, 0x1f),
      ...every(0x7f, 0x9f),
      0xad,
      0x061c,
      0x180e,
      0x200b,
      0x200e,
      0x200f,
      0x2028,
      0x2029,
      ...every(0x202a, 0x202e),
      ...every(0x2060, 0x2064),
      ...every(0x2066, 0x206f),
      0xfeff,
      ...every(0xfff9, 0xfffb),
    ];
    for (const point of refused) {
      expect(findRefusedCharacter(`a${String.fromCodePoint(point)}.png`, 'filename')?.codePoint).toBe(
        formatCodePoint(point),
      );
    }
    for (const name of ['photo.png', 'Ünïcödé 写真.png', '👨\u200d👩.png', 'نام\u200c.pdf']) {
      expect(findRefusedCharacter(name, 'filename')).toBeUndefined();
    }
  });

  it('reports the position in code points and describes the character without repeating it', () => {
    const found = findRefusedCharacter('😀😀inv\u202Egnp.scr', 'filename');
    expect(found).toEqual({
      codePoint: 'U+202E',
      index: 5,
      description: 'RIGHT-TO-LEFT OVERRIDE, a bidirectional formatting character',
    });
  });
});

describe('excerpt', () => {
  it('keeps short clean strings as they are', () => {
    expect(excerpt('clientMessageID', 64)).toBe('clientMessageID');
  });

  it('cuts long strings to the limit in code points, marking the cut', () => {
    const cut = excerpt('😀'.repeat(1000), 10);
    expect(Array.from(cut)).toHaveLength(10);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('replaces control, bidi and invisible characters and lone surrogates', () => {
    expect(excerpt('a\u202Eb\u0000c\u200bd\ud800e', 64)).toBe('a\ufffdb\ufffdc\ufffdd\ufffde');
  });
});
