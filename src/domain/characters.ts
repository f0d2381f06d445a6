/**
 * Characters a guest may not put in what people read. Two policies (docs/protocol.md, "Characters"):
 *
 * - `text` (message text, captions, reply texts, guest names): control characters other than tab, line
 *   feed and carriage return (U+0000–U+0008, U+000B, U+000C, U+000E–U+001F, U+007F–U+009F), and the
 *   explicit bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
 *   reorder what follows them (the "Trojan Source" trick) and leak into the agent's UI when left open.
 *   The bidi marks U+200E, U+200F and U+061C stay allowed: right-to-left writing uses them, and they
 *   reorder nothing.
 * - `filename`: every control character (tab and newlines too), every bidi formatting character
 *   (marks as well), and the invisible characters that can hide or fake an extension: U+00AD, U+180E,
 *   U+200B, U+2028, U+2029, U+2060–U+2064, U+206A–U+206F, U+FEFF, U+FFF9–U+FFFB. Zero width (non-)joiners
 *   stay allowed: emoji and several scripts need them.
 */

import { codePointLength } from './utf8.js';

export type CharacterPolicy = 'text' | 'filename';

/** The first refused character of a string, described without repeating it. */
export interface RefusedCharacter {
  /** `U+202E`: the code point in Unicode notation, never the raw character. */
  readonly codePoint: string;
  /** Its position, in code points from 0. */
  readonly index: number;
  /** `RIGHT-TO-LEFT OVERRIDE, a bidirectional formatting character`: for the error message. */
  readonly description: string;
}

const REFUSED: Readonly<Record<CharacterPolicy, RegExp>> = Object.freeze({
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  text: /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/,
  filename:
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
    /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/,
});

const BIDI = 'a bidirectional formatting character';
const INVISIBLE = 'an invisible formatting character';

const NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, 'NULL, a control character'],
  [0x09, 'CHARACTER TABULATION, a control character'],
  [0x0a, 'LINE FEED, a control character'],
  [0x0d, 'CARRIAGE RETURN, a control character'],
  [0xad, `SOFT HYPHEN, ${INVISIBLE}`],
  [0x061c, `ARABIC LETTER MARK, ${BIDI}`],
  [0x180e, `MONGOLIAN VOWEL SEPARATOR, ${INVISIBLE}`],
  [0x200b, `ZERO WIDTH SPACE, ${INVISIBLE}`],
  [0x200e, `LEFT-TO-RIGHT MARK, ${BIDI}`],
  [0x200f, `RIGHT-TO-LEFT MARK, ${BIDI}`],
  [0x2028, 'LINE SEPARATOR'],
  [0x2029, 'PARAGRAPH SEPARATOR'],
  [0x202a, `LEFT-TO-RIGHT EMBEDDING, ${BIDI}`],
  [0x202b, `RIGHT-TO-LEFT EMBEDDING, ${BIDI}`],
  [0x202c, `POP DIRECTIONAL FORMATTING, ${BIDI}`],
  [0x202d, `LEFT-TO-RIGHT OVERRIDE, ${BIDI}`],
  [0x202e, `RIGHT-TO-LEFT OVERRIDE, ${BIDI}`],
  [0x2060, `WORD JOINER, ${INVISIBLE}`],
  [0x2066, `LEFT-TO-RIGHT ISOLATE, ${BIDI}`],
  [0x2067, `RIGHT-TO-LEFT ISOLATE, ${BIDI}`],
  [0x2068, `FIRST STRONG ISOLATE, ${BIDI}`],
  [0x2069, `POP DIRECTIONAL ISOLATE, ${BIDI}`],
  [0xfeff, `ZERO WIDTH NO-BREAK SPACE, ${INVISIBLE}`],
]);

/** `U+202E`; at least four hex digits, upper case, as Unicode writes code points. */
export function formatCodePoint(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

function describe(codePoint: number): string {
  const name = NAMES.get(codePoint);
  if (name !== undefined) return name;
  if (codePoint <= 0x1f || (codePoint >= 0x7f && codePoint <= 0x9f)) return 'a control character';
  return INVISIBLE;
}

/** The first character `policy` refuses in `value`, or undefined when there is none. */
export function findRefusedCharacter(value: string, policy: CharacterPolicy): RefusedCharacter | undefined {
  const match = REFUSED[policy].exec(value);
  if (match === null) return undefined;
  // Every refused character is in the BMP, so the match is one UTF-16 unit.
  const codePoint = value.charCodeAt(match.index);
  const index = codePointLength(value.slice(0, match.index));
  return { codePoint: formatCodePoint(codePoint), index, description: describe(codePoint) };
}

/**
 * `value` cut to `max` code points (an ellipsis marks the cut) with every character the filename policy
 * refuses (and every lone surrogate) replaced by U+FFFD: what an error may safely repeat of its input.
 */
export function excerpt(value: string, max: number): string {
  const points = Array.from(value.length > max * 2 + 2 ? value.slice(0, max * 2 + 2) : value);
  const cut = points.length > max ? `${points.slice(0, Math.max(0, max - 1)).join('')}…` : points.join('');
  return cut.replace(UNSAFE_IN_EXCERPT, '\ufffd');
}

const UNSAFE_IN_EXCERPT = new RegExp(
  `${REFUSED.filename.source}|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]`,
  'g',
);
