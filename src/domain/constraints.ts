/**
 * The limits a Genesys web messaging session puts on what a guest sends, read from its SessionResponse
 * where Genesys states them and from documented defaults where it does not, and the validators that
 * check a message, an attachment or custom data against them before anything goes on the wire.
 */
import { findRefusedCharacter } from './characters.js';
import { contextBudgetError } from './context.js';
import { ConstraintError } from './errors.js';
import { mediaTypeAllowed, mediaTypeMatches, parseMediaType } from './media-type.js';
import { codePointLength, isWellFormedUnicode } from './utf8.js';

/** What one session accepts from its guest. */
export interface ChannelConstraints {
  /** Max characters (Unicode code points) in one guest text message. */
  readonly maxTextLength: number;
  /** UTF-8 byte budget for all custom attribute keys + values (SessionResponse.maxCustomDataBytes). */
  readonly maxCustomDataBytes: number;
  readonly attachments: {
    /** False when the deployment allows no inbound media. */
    readonly enabled: boolean;
    /**
     * MIME patterns from allowedMedia.inbound.fileTypes: exact ("image/png"), "image/*" or "*\/*".
     * Wildcards never admit script-capable types such as image/svg+xml (see media-type.ts).
     */
    readonly fileTypes: readonly string[];
    readonly maxFileSizeKB: number;
    /** Lower-case, with leading dot: ".exe". */
    readonly blockedExtensions: readonly string[];
    readonly maxPerMessage: number;
  };
  /** onMessage sends per second per session (Genesys' limit). */
  readonly sendRatePerSecond: number;
  /** Minimum interval between forwarded typing notices. */
  readonly typingIntervalMs: number;
}

/**
 * Defaults for whatever a SessionResponse leaves out. Sources:
 * - maxTextLength 4000: the documented agent-side web messaging limit; Genesys does not publish the
 *   guest-side threshold behind error 4011 "message too long", hence configurable.
 * - maxCustomDataBytes 2048: Genesys' own 4013 error text, "Custom Attributes in channel metadata is
 *   larger than 2048 bytes".
 * - attachments disabled with no file types: the official Messenger Transport SDK disables attachments
 *   when the SessionResponse has no `allowedMedia`.
 * - maxFileSizeKB 25600: the 25 MB platform ceiling (Resource Center, "Supported content profiles").
 * - blockedExtensions none: only the SessionResponse knows the deployment's list.
 * - maxPerMessage 1: web messaging content allows one Attachment item per message.
 * - sendRatePerSecond 2: 2 onMessage per session per second since 11 Dec 2023 (Genesys forum, rate
 *   limit change).
 * - typingIntervalMs 5000: the official SDK sends a typing notice at most every 5 s.
 */
export const DEFAULT_CONSTRAINTS: ChannelConstraints = deepFreeze({
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

/** The body of a `SessionResponse`, as parsed from the wire: every field may be missing. */
export interface SessionResponseBody {
  connected?: boolean | undefined;
  newSession?: boolean | undefined;
  readOnly?: boolean | undefined;
  maxCustomDataBytes?: number | undefined;
  allowedMedia?:
    | {
        inbound?:
          | {
              fileTypes?: readonly { type: string }[] | undefined;
              maxFileSizeKB?: number | undefined;
            }
          | undefined;
      }
    | undefined;
  blockedExtensions?: readonly string[] | undefined;
  durationSeconds?: number | undefined;
  expirationDate?: number | undefined;
  clearedExistingSession?: boolean | undefined;
}

/** Limits that the SessionResponse never states, settable by configuration. */
export type ConstraintOverrides = Partial<
  Pick<ChannelConstraints, 'maxTextLength' | 'sendRatePerSecond' | 'typingIntervalMs'>
>;

const OVERRIDE_RULES: Readonly<Record<keyof ConstraintOverrides, (value: number) => boolean>> = Object.freeze(
  {
    maxTextLength: (value) => Number.isSafeInteger(value) && value >= 1,
    sendRatePerSecond: (value) => Number.isFinite(value) && value > 0,
    typingIntervalMs: (value) => Number.isFinite(value) && value >= 0,
  },
);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** A number from the wire, or undefined when it is missing, not finite or negative. */
function wireNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function normaliseFileTypes(fileTypes: unknown): string[] | undefined {
  if (!Array.isArray(fileTypes)) return undefined;
  const types = fileTypes
    .map((entry: unknown) =>
      typeof entry === 'object' && entry !== null && 'type' in entry && typeof entry.type === 'string'
        ? entry.type.trim().toLowerCase()
        : '',
    )
    .filter((type) => type !== '');
  return [...new Set(types)];
}

function normaliseExtensions(extensions: unknown): string[] | undefined {
  if (!Array.isArray(extensions)) return undefined;
  const normalised = extensions
    .filter((ext: unknown): ext is string => typeof ext === 'string')
    .map((ext) => ext.trim().toLowerCase())
    .filter((ext) => ext !== '' && ext !== '.')
    .map((ext) => (ext.startsWith('.') ? ext : `.${ext}`));
  return [...new Set(normalised)];
}

function checkOverrides(overrides: ConstraintOverrides): void {
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(OVERRIDE_RULES, key)) throw new TypeError(`Unknown constraint override "${key}"`);
    if (value === undefined) continue;
    const valid = OVERRIDE_RULES[key as keyof ConstraintOverrides];
    if (!valid(value)) throw new RangeError(`Constraint override "${key}" is out of range: ${value}`);
  }
}

/**
 * The session's constraints: what the SessionResponse states, defaults for what it omits. Numbers that
 * are not finite or are negative on the wire count as omitted. File types are lower-cased and
 * de-duplicated; blocked extensions are lower-cased with a leading dot; attachments are enabled when at
 * least one file type is allowed. `overrides` (from configuration) set the limits the wire never
 * carries. The result is deeply frozen.
 *
 * @throws TypeError for an unknown override key; RangeError for an override out of range.
 */
export function constraintsFromSessionResponse(
  body: SessionResponseBody,
  overrides: ConstraintOverrides = {},
  defaults: ChannelConstraints = DEFAULT_CONSTRAINTS,
): ChannelConstraints {
  checkOverrides(overrides);
  const inbound = body.allowedMedia?.inbound;
  const fileTypes = normaliseFileTypes(inbound?.fileTypes) ?? [...defaults.attachments.fileTypes];
  return deepFreeze({
    maxTextLength: overrides.maxTextLength ?? defaults.maxTextLength,
    maxCustomDataBytes: wireNumber(body.maxCustomDataBytes) ?? defaults.maxCustomDataBytes,
    attachments: {
      enabled: fileTypes.length > 0,
      fileTypes,
      maxFileSizeKB: wireNumber(inbound?.maxFileSizeKB) ?? defaults.attachments.maxFileSizeKB,
      blockedExtensions: normaliseExtensions(body.blockedExtensions) ?? [
        ...defaults.attachments.blockedExtensions,
      ],
      maxPerMessage: defaults.attachments.maxPerMessage,
    },
    sendRatePerSecond: overrides.sendRatePerSecond ?? defaults.sendRatePerSecond,
    typingIntervalMs: overrides.typingIntervalMs ?? defaults.typingIntervalMs,
  });
}

/**
 * Checks one guest text message: `text_invalid` when it holds a lone surrogate (it cannot be sent as
 * UTF-8) or a character the `text` policy refuses (characters.ts: controls other than tab and newlines,
 * bidi embeddings, overrides and isolates), `text_too_long` when it has more code points than
 * `maxTextLength`. `field` names the text in messages and details (`text`, `caption`, ...).
 */
export function checkText(
  text: string,
  constraints: ChannelConstraints,
  field = 'text',
): ConstraintError | undefined {
  const invalid = checkTextCharacters(text, field);
  if (invalid) return invalid;
  const length = codePointLength(text);
  const maxLength = constraints.maxTextLength;
  if (length > maxLength) {
    return new ConstraintError(
      'text_too_long',
      `Message has ${length} characters; the limit is ${maxLength} (${length - maxLength} over).`,
      { field, length, maxLength },
    );
  }
  return undefined;
}

/**
 * The character half of checkText, for texts with bounds of their own (reply texts, guest names):
 * `text_invalid` naming the field and the code point (as U+XXXX, never the character itself).
 */
export function checkTextCharacters(text: string, field: string): ConstraintError | undefined {
  if (!isWellFormedUnicode(text)) {
    return new ConstraintError(
      'text_invalid',
      `${field} contains a lone surrogate and cannot be encoded as UTF-8.`,
      { field },
    );
  }
  const refused = findRefusedCharacter(text, 'text');
  if (refused) {
    return new ConstraintError(
      'text_invalid',
      `${field} contains ${refused.codePoint} (${refused.description}) at character ${refused.index}; it is not allowed in text.`,
      { field, codePoint: refused.codePoint, index: refused.index },
    );
  }
  return undefined;
}

/** An attachment as the guest offers it, before upload. */
export interface AttachmentCandidate {
  readonly filename: string;
  readonly contentType: string;
  /** Bytes. */
  readonly size: number;
}

const MAX_FILENAME_LENGTH = 255;

/** "report.pdf.exe. " → ".exe"; a leading-dot name such as ".exe" counts as that extension too. */
function extensionOf(filename: string): string | undefined {
  const trimmed = filename.replace(/[. ]+$/, '');
  const dot = trimmed.lastIndexOf('.');
  return dot === -1 ? undefined : trimmed.slice(dot).toLowerCase();
}

/**
 * Whether a content type matches a MIME pattern from `allowedMedia`: exact ("image/png"), a type
 * wildcard ("image/*") or anything ("*\/*"). Case-insensitive; parameters ("; charset=utf-8") ignored.
 * The content type must be a well-formed media type (RFC 9110), and wildcards never admit a
 * script-capable type such as image/svg+xml: see media-type.ts.
 */
export function mimeMatches(pattern: string, contentType: string): boolean {
  return mediaTypeMatches(pattern, contentType);
}

export interface AttachmentCheckOptions {
  /**
   * Admit any well-formed content type, whatever `fileTypes` says: for checks made before the
   * session's own constraints are known (a session may list a script-capable type by name, which no
   * wildcard admits). Default false.
   */
  readonly anyContentType?: boolean;
}

/**
 * Checks an attachment before upload, in this order: the name (`attachment_name_invalid`), a blocked
 * extension (`attachment_extension_blocked`), the type (`attachment_type_not_allowed`, also when the
 * deployment accepts no attachments), an empty file (`attachment_empty`), the size
 * (`attachment_too_large`).
 */
export function checkAttachment(
  attachment: AttachmentCandidate,
  constraints: ChannelConstraints,
  options: AttachmentCheckOptions = {},
): ConstraintError | undefined {
  const { filename, contentType, size } = attachment;
  const rules = constraints.attachments;
  if (filename.trim() === '') {
    return new ConstraintError('attachment_name_invalid', 'Attachment has no file name.', {
      field: 'filename',
    });
  }
  if (!isWellFormedUnicode(filename)) {
    return new ConstraintError(
      'attachment_name_invalid',
      'Attachment file name contains a lone surrogate and cannot be encoded as UTF-8.',
      { field: 'filename' },
    );
  }
  const separator = /[/\\]/.exec(filename);
  if (separator) {
    return new ConstraintError(
      'attachment_name_invalid',
      `Attachment file name must not contain "/" or "\\" (found "${separator[0]}").`,
      { field: 'filename' },
    );
  }
  const refused = findRefusedCharacter(filename, 'filename');
  if (refused) {
    return new ConstraintError(
      'attachment_name_invalid',
      `Attachment file name contains ${refused.codePoint} (${refused.description}) at character ${refused.index}; control, bidirectional and invisible formatting characters are not allowed in file names.`,
      { field: 'filename', codePoint: refused.codePoint, index: refused.index },
    );
  }
  const length = codePointLength(filename);
  if (length > MAX_FILENAME_LENGTH) {
    return new ConstraintError(
      'attachment_name_invalid',
      `Attachment file name has ${length} characters; the limit is ${MAX_FILENAME_LENGTH}.`,
      { field: 'filename', length, maxLength: MAX_FILENAME_LENGTH },
    );
  }
  const extension = extensionOf(filename);
  if (extension !== undefined && rules.blockedExtensions.includes(extension)) {
    return new ConstraintError(
      'attachment_extension_blocked',
      `Files ending in "${extension}" are blocked by this deployment.`,
      { field: 'filename', extension },
    );
  }
  const type = parseMediaType(contentType);
  if (type === undefined) {
    // Not repeated: it may hold CR, LF or other characters that no header or log should carry.
    return new ConstraintError(
      'attachment_type_not_allowed',
      'Attachment content type is not a media type such as "image/png" (RFC 9110: type/subtype, optional ;name=value parameters, no control characters).',
      { field: 'contentType' },
    );
  }
  if (!rules.enabled) {
    return new ConstraintError('attachment_type_not_allowed', 'This deployment accepts no attachments.', {
      field: 'contentType',
      contentType: type.essence,
      allowed: rules.fileTypes,
    });
  }
  if (options.anyContentType !== true && !mediaTypeAllowed(contentType, rules.fileTypes)) {
    return new ConstraintError(
      'attachment_type_not_allowed',
      `Attachments of type "${type.essence}" are not allowed; allowed: ${rules.fileTypes.join(', ')}.`,
      { field: 'contentType', contentType: type.essence, allowed: rules.fileTypes },
    );
  }
  if (!(size > 0)) return new ConstraintError('attachment_empty', 'Attachment is empty.', { size });
  const maxBytes = rules.maxFileSizeKB * 1024;
  if (size > maxBytes) {
    return new ConstraintError(
      'attachment_too_large',
      `Attachment has ${size} bytes; the limit is ${maxBytes} bytes (${rules.maxFileSizeKB} KB).`,
      { size, maxBytes },
    );
  }
  return undefined;
}

/** Checks custom attributes against `maxCustomDataBytes`: `context_too_large`, as flattenContext words it. */
export function checkCustomData(
  attributes: Readonly<Record<string, string>>,
  constraints: ChannelConstraints,
): ConstraintError | undefined {
  return contextBudgetError(attributes, constraints.maxCustomDataBytes);
}
