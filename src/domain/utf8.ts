// A native regex scan is several times faster than a loop over char codes, so each function first
// checks whether the slow path is needed at all (most text is ASCII and has no surrogates).
const NON_ASCII = /[\u0080-\uffff]/;
const SURROGATE = /[\ud800-\udfff]/;

/**
 * UTF-8 byte length of a JavaScript string, without allocating. A lone surrogate counts 3 bytes, as
 * TextEncoder would encode it (U+FFFD).
 */
export function utf8ByteLength(value: string): number {
  if (!NON_ASCII.test(value)) return value.length;
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Number of Unicode code points (what a person counts as characters, near enough). */
export function codePointLength(value: string): number {
  if (!SURROGATE.test(value)) return value.length;
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** True when the string has no lone surrogate, so it can be encoded as UTF-8 without loss. */
export function isWellFormedUnicode(value: string): boolean {
  if (!SURROGATE.test(value)) return true;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
      if (next < 0xdc00 || next > 0xdfff) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return false;
  }
  return true;
}
