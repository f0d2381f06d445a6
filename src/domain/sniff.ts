/**
 * Does a file's content look like its declared type? Only for the types whose first bytes say so
 * reliably (magic numbers), and plain text (valid UTF-8 without NUL). Every other type is passed as it
 * is: "unknown" is not "wrong".
 */
import type { MediaType } from './media-type.js';

interface Signature {
  readonly name: string;
  /** Byte at each offset; undefined: any byte. */
  readonly bytes: readonly (number | undefined)[];
}

const ascii = (text: string): number[] => Array.from(text, (char) => char.charCodeAt(0));

const PNG: Signature = { name: 'a PNG image', bytes: [0x89, ...ascii('PNG\r\n'), 0x1a, 0x0a] };
const JPEG: Signature = { name: 'a JPEG image', bytes: [0xff, 0xd8, 0xff] };
const GIF87: Signature = { name: 'a GIF image', bytes: ascii('GIF87a') };
const GIF89: Signature = { name: 'a GIF image', bytes: ascii('GIF89a') };
const WEBP: Signature = {
  name: 'a WebP image',
  bytes: [...ascii('RIFF'), undefined, undefined, undefined, undefined, ...ascii('WEBP')],
};
const PDF: Signature = { name: 'a PDF document', bytes: ascii('%PDF-') };

const SIGNATURES: readonly Signature[] = [PNG, JPEG, GIF87, GIF89, WEBP, PDF];

/** Declared type (essence) → the signatures its content may start with. */
const EXPECTED: ReadonlyMap<string, readonly Signature[]> = new Map([
  ['image/png', [PNG]],
  ['image/jpeg', [JPEG]],
  ['image/jpg', [JPEG]],
  ['image/pjpeg', [JPEG]],
  ['image/gif', [GIF87, GIF89]],
  ['image/webp', [WEBP]],
  ['application/pdf', [PDF]],
]);

/** The media types whose content is checked (the rest pass unchecked). */
export const SNIFFED_TYPES: readonly string[] = [...EXPECTED.keys(), 'text/plain'];

/** Charsets under which text/plain is checked as UTF-8; any other charset passes unchecked. */
const UTF8_CHARSETS: ReadonlySet<string> = new Set(['utf-8', 'utf8', 'us-ascii']);

function startsWith(bytes: Uint8Array, signature: Signature): boolean {
  if (bytes.length < signature.bytes.length) return false;
  return signature.bytes.every((byte, i) => byte === undefined || bytes[i] === byte);
}

/** What the bytes look like, for the error message. */
function describeBytes(bytes: Uint8Array): string {
  return SIGNATURES.find((signature) => startsWith(bytes, signature))?.name ?? 'none of the known formats';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A mismatch between declared type and content: what was declared and what the bytes look like. */
export interface ContentMismatch {
  readonly declared: string;
  readonly found: string;
}

/**
 * Undefined when `bytes` may be of `type` (they start as the type's format does, or the type is one we
 * cannot check); otherwise what they look like instead. An empty file is not judged here
 * (`attachment_empty` is).
 */
export function contentMismatch(type: MediaType, bytes: Uint8Array): ContentMismatch | undefined {
  if (bytes.length === 0) return undefined;
  const signatures = EXPECTED.get(type.essence);
  if (signatures !== undefined) {
    if (signatures.some((signature) => startsWith(bytes, signature))) return undefined;
    return { declared: type.essence, found: describeBytes(bytes) };
  }
  if (type.essence !== 'text/plain') return undefined;
  const charset = type.parameters.charset?.toLowerCase();
  if (charset !== undefined && !UTF8_CHARSETS.has(charset)) return undefined;
  const nul = bytes.indexOf(0);
  if (nul !== -1) return { declared: type.essence, found: `binary content (a NUL byte at offset ${nul})` };
  try {
    utf8.decode(bytes);
  } catch {
    return { declared: type.essence, found: 'bytes that are not valid UTF-8' };
  }
  return undefined;
}
