/**
 * Media types (RFC 9110 §8.3.1) parsed strictly, and matched exactly against a deployment's allowed
 * inbound media. A content type goes upstream in a request header, so anything beyond the grammar (CR,
 * LF, other controls, non-ASCII) is refused rather than cleaned.
 */

// token = 1*tchar (RFC 9110 §5.6.2); quoted-string without obs-text, and with spaces but no tabs.
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[ !#-\\[\\]-~]|\\\\[ -~])*"';

/**
 * `type/subtype` and optional `;name=value` parameters (token or quoted-string values), with optional
 * spaces around each `;`. Stricter than RFC 9110 in two ways: no tabs, and neither type nor subtype may
 * be the wildcard `*` (a file has one concrete type; `image/*` would match the pattern `image/*` itself).
 */
export const MEDIA_TYPE_PATTERN = new RegExp(
  `^(?!\\*/)${TOKEN}/(?!\\*(?:[ ;]|$))${TOKEN}(?: *;(?: *${TOKEN}=(?:${TOKEN}|${QUOTED}))?)* *$`,
);

export interface MediaType {
  /** `image`, lower case. */
  readonly type: string;
  /** `png`, lower case. */
  readonly subtype: string;
  /** `image/png`: type and subtype, lower case, no parameters. */
  readonly essence: string;
  /** Parameter names lower case; values as given (unquoted). */
  readonly parameters: Readonly<Record<string, string>>;
}

/** The media type `value` names, or undefined when it breaks the grammar (MEDIA_TYPE_PATTERN). */
export function parseMediaType(value: string): MediaType | undefined {
  if (!MEDIA_TYPE_PATTERN.test(value)) return undefined;
  const [essence = '', ...rest] = splitParameters(value);
  const lower = essence.trim().toLowerCase();
  const slash = lower.indexOf('/');
  const parameters: Record<string, string> = {};
  for (const part of rest) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    const name = trimmed.slice(0, equals).toLowerCase();
    const raw = trimmed.slice(equals + 1);
    const unquoted = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    // The first occurrence wins; own properties only, so no name reaches a prototype.
    if (!Object.hasOwn(parameters, name))
      Object.defineProperty(parameters, name, { value: unquoted, enumerable: true });
  }
  return { type: lower.slice(0, slash), subtype: lower.slice(slash + 1), essence: lower, parameters };
}

/** Splits at the `;` that are not inside a quoted string (the value already matched the grammar). */
function splitParameters(value: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (quoted && char === '\\') i++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && char === ';') {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

/**
 * Types a browser runs script in when it opens them: SVG, HTML, XML (any `+xml` suffix: XHTML can be
 * embedded in any XML document) and JavaScript. A wildcard never admits them; a deployment that wants
 * one must list it by its exact name.
 */
const SCRIPT_CAPABLE: ReadonlySet<string> = new Set([
  'image/svg+xml',
  'text/html',
  'text/xml',
  'application/xml',
  'application/xhtml+xml',
  'text/xsl',
  'text/javascript',
  'text/ecmascript',
  'application/javascript',
  'application/ecmascript',
  'application/x-javascript',
]);

export function isScriptCapable(essence: string): boolean {
  return SCRIPT_CAPABLE.has(essence) || essence.endsWith('+xml');
}

/**
 * Whether `contentType` is admitted by `pattern` (an entry of `allowedMedia.inbound.fileTypes`):
 * exact (`image/png`, case-insensitive, parameters ignored on both sides), a type wildcard (`image/*`)
 * or anything (`*\/*`, `*`). Wildcards never admit a script-capable type (isScriptCapable). A content
 * type that breaks the grammar matches nothing.
 */
export function mediaTypeMatches(pattern: string, contentType: string): boolean {
  const have = parseMediaType(contentType);
  if (have === undefined) return false;
  const want = (pattern.split(';')[0] ?? '').trim().toLowerCase();
  if (want === have.essence) return true;
  if (isScriptCapable(have.essence)) return false;
  if (want === '*/*' || want === '*') return true;
  return want.endsWith('/*') && want.slice(0, -2) === have.type;
}

/** Whether any of `patterns` admits `contentType` (see mediaTypeMatches). */
export function mediaTypeAllowed(contentType: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => mediaTypeMatches(pattern, contentType));
}
