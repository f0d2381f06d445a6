import type { z } from 'zod';
import { excerpt } from '../domain/characters.js';
import {
  type ChannelConstraints,
  checkAttachment,
  checkText,
  checkTextCharacters,
} from '../domain/constraints.js';
import { flattenContext } from '../domain/context.js';
import { DomainError } from '../domain/errors.js';
import { parseMediaType } from '../domain/media-type.js';
import { contentMismatch } from '../domain/sniff.js';
import { utf8ByteLength } from '../domain/utf8.js';
import {
  CLIENT_ACTION_SCHEMAS,
  type ClientAction,
  type ClientFrame,
  isClientAction,
  type UploadAction,
  type uploadActionSchema,
} from './client-frames.js';
import { clientIdSchema } from './common.js';
import { ERROR_ECHO_LIMITS, ProtocolError } from './errors.js';
import { FORBIDDEN_KEYS, MAX_FRAME_BYTES, MAX_FRAME_DEPTH, MAX_TEXT_CEILING } from './limits.js';

export type ParseResult =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly error: ProtocolError };

export interface ParseOptions {
  /**
   * The session's channel constraints. Without them a frame is held to the protocol's own ceilings
   * only (see PROTOCOL_CEILINGS); with them, text, context and uploads are checked as Genesys would.
   */
  readonly constraints?: ChannelConstraints;
}

/** The widest bounds any session can have: what is checked before the session's constraints are known. */
export const PROTOCOL_CEILINGS: ChannelConstraints = Object.freeze({
  maxTextLength: MAX_TEXT_CEILING,
  maxCustomDataBytes: MAX_FRAME_BYTES,
  attachments: Object.freeze({
    enabled: true,
    fileTypes: Object.freeze(['*/*']),
    // 25 MB: the platform ceiling for web messaging attachments (Resource Center, "Supported content profiles").
    maxFileSizeKB: 25 * 1024,
    blockedExtensions: Object.freeze([]),
    maxPerMessage: 10,
  }),
  sendRatePerSecond: 2,
  typingIntervalMs: 5000,
});

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses one frame from a frontend into a typed action, or a typed protocol error. Never throws:
 * hostile input (any size, depth or byte sequence) gets an error with a documented code.
 *
 * Checks run cheapest first: size, UTF-8, JSON, shape (depth, forbidden keys, numbers), action,
 * fields, then the session's constraints.
 */
export function parseClientFrame(raw: string | Uint8Array, options: ParseOptions = {}): ParseResult {
  const constraints = options.constraints ?? PROTOCOL_CEILINGS;
  // Without the session's constraints any well-formed content type passes: a session may list a
  // script-capable type by its exact name, which the ceilings' wildcard does not admit.
  const anyContentType = options.constraints === undefined;
  if (frameBytesAtLeast(raw) > MAX_FRAME_BYTES) {
    return fail('frame_too_large', `The frame is larger than the ${MAX_FRAME_BYTES}-byte limit.`, {
      details: { maxBytes: MAX_FRAME_BYTES },
    });
  }

  let text: string;
  if (typeof raw === 'string') text = raw;
  else {
    try {
      text = utf8Decoder.decode(raw);
    } catch {
      return fail('invalid_json', 'The frame is not valid UTF-8 text.');
    }
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('invalid_json', 'The frame is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return fail('invalid_frame', `A frame must be a JSON object with an "action"; this one is ${kind}.`);
  }

  const record = value as Record<string, unknown>;
  const context = readableContext(record);
  const shapeError = checkShape(record);
  if (shapeError)
    return fail(shapeError.code, shapeError.message, { ...context, details: { path: shapeError.path } });

  if (typeof record.action !== 'string') {
    return fail('invalid_frame', 'A frame must have a string "action".', context);
  }
  if (!isClientAction(record.action)) {
    return fail('unknown_action', `Unknown action "${context.action}".`, {
      ...context,
      details: { knownActions: Object.keys(CLIENT_ACTION_SCHEMAS) },
    });
  }

  const action: ClientAction = record.action;
  const parsed = CLIENT_ACTION_SCHEMAS[action].safeParse(record);
  if (!parsed.success) return fromZodIssue(action, parsed.error.issues, context);

  try {
    const frame = normalise(
      parsed.data as z.infer<(typeof CLIENT_ACTION_SCHEMAS)[ClientAction]>,
      constraints,
      anyContentType,
    );
    return { ok: true, frame };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, error };
    if (error instanceof DomainError) return { ok: false, error: ProtocolError.fromDomain(error, context) };
    throw error;
  }
}

/**
 * The frame's UTF-8 size, or a lower bound of it that already exceeds the limit. Every UTF-16 unit is at
 * least one UTF-8 byte, so a string longer than the limit is refused without scanning it.
 */
function frameBytesAtLeast(raw: string | Uint8Array): number {
  if (typeof raw !== 'string') return raw.byteLength;
  if (raw.length > MAX_FRAME_BYTES) return raw.length;
  return utf8ByteLength(raw);
}

interface ReadableContext {
  action?: string;
  clientMessageId?: string;
}

/** The action and clientMessageId, when the frame has them in a usable form, for the error event. */
function readableContext(record: Record<string, unknown>): ReadableContext {
  const context: ReadableContext = {};
  if (typeof record.action === 'string') context.action = excerpt(record.action, ERROR_ECHO_LIMITS.action);
  if (clientIdSchema.safeParse(record.clientMessageId).success)
    context.clientMessageId = record.clientMessageId as string;
  return context;
}

interface ShapeError {
  code: 'too_deep' | 'forbidden_key' | 'invalid_number';
  message: string;
  path: string;
}

/** Longest `path` an error names: keys in it are cut (excerpt), and so is the whole. */
const MAX_ECHOED_PATH = 256;

/** One step of a path, as an error may repeat it (a key is cut to a few dozen characters). */
function pathStep(key: string): string {
  return excerpt(key, 32);
}

/**
 * Walks the parsed value once, without recursion (so depth cannot exhaust the stack), looking for
 * what no schema should have to think about: excessive nesting, prototype keys, and numbers that
 * JSON.parse turned into Infinity. Paths name keys cut short, so a long key cannot make the error long.
 */
function checkShape(root: object): ShapeError | undefined {
  const stack: ShapeStep[] = [{ value: root, depth: 1 }];
  while (stack.length > 0) {
    const item = stack.pop() as ShapeStep;
    const { value, depth } = item;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) {
        const path = pathOf(item);
        return { code: 'invalid_number', message: `The number at ${path} is out of range.`, path };
      }
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_FRAME_DEPTH) {
      return {
        code: 'too_deep',
        message: `The frame is nested deeper than ${MAX_FRAME_DEPTH} levels.`,
        path: pathOf(item),
      };
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], depth: depth + 1, parent: item, step: i });
      continue;
    }
    const keys = Object.keys(value);
    for (const key of keys) {
      if (FORBIDDEN_KEYS.has(key)) {
        const path = pathOf(item);
        return { code: 'forbidden_key', message: `The key "${key}" is not allowed (at ${path}).`, path };
      }
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      stack.push({
        value: (value as Record<string, unknown>)[key],
        depth: depth + 1,
        parent: item,
        step: key,
      });
    }
  }
  return undefined;
}

interface ShapeStep {
  readonly value: unknown;
  readonly depth: number;
  readonly parent?: ShapeStep;
  readonly step?: string | number;
}

/** `$.data.a[3]`, built only when there is an error to report, with every key cut short. */
function pathOf(item: ShapeStep): string {
  const steps: string[] = [];
  for (let at: ShapeStep | undefined = item; at?.step !== undefined; at = at.parent) {
    steps.push(typeof at.step === 'number' ? `[${at.step}]` : `.${pathStep(at.step)}`);
  }
  return excerpt(`$${steps.reverse().join('')}`, MAX_ECHOED_PATH);
}

function fromZodIssue(
  action: ClientAction,
  issues: readonly z.core.$ZodIssue[],
  context: ReadableContext,
): ParseResult {
  const unknownKeys = issues.find((issue) => issue.code === 'unrecognized_keys');
  if (unknownKeys && unknownKeys.code === 'unrecognized_keys') {
    // Names only, never values; at most a few, each cut short: the frame may hold thousands.
    const where = unknownKeys.path.length > 0 ? ` in ${issuePath(unknownKeys.path)}` : '';
    const fields = unknownKeys.keys
      .slice(0, ERROR_ECHO_LIMITS.items)
      .map((key) => excerpt(key, ERROR_ECHO_LIMITS.item));
    const named = fields.slice(0, 3);
    const more = unknownKeys.keys.length - named.length;
    const names = named.map((key) => `"${key}"`).join(', ');
    return fail(
      'unknown_field',
      `${action} does not take ${names}${more > 0 ? ` (and ${more} more)` : ''}${where}.`,
      { ...context, details: { fields, count: unknownKeys.keys.length } },
    );
  }
  const issue = tightest(issues);
  const path = issue && issue.path.length > 0 ? issuePath(issue.path) : '(frame)';
  const reason = issue ? describeIssue(issue) : 'is not valid';
  return fail('invalid_field', `${action}.${path} ${reason}.`, { ...context, details: { field: path } });
}

/**
 * The first issue, or the tightest bound of the same kind on the same field: `z.int().max(10)` given
 * 2^60 reports both the safe-integer bound and 10, and the client needs to hear 10.
 */
function tightest(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue | undefined {
  const first = issues[0];
  if (first === undefined || (first.code !== 'too_big' && first.code !== 'too_small')) return first;
  const where = first.path.map(String).join('\u0000');
  let best = first;
  for (const issue of issues) {
    if (issue.path.map(String).join('\u0000') !== where || issue.code !== best.code) continue;
    if (issue.code === 'too_big' && best.code === 'too_big' && Number(issue.maximum) < Number(best.maximum))
      best = issue;
    if (
      issue.code === 'too_small' &&
      best.code === 'too_small' &&
      Number(issue.minimum) > Number(best.minimum)
    )
      best = issue;
  }
  return best;
}

/** A zod issue path as `guestInfo.name`, its keys cut short (they may come from the frame). */
function issuePath(path: readonly PropertyKey[]): string {
  return excerpt(
    path.map((step) => (typeof step === 'string' ? pathStep(step) : String(step))).join('.'),
    128,
  );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `is required (${issue.expected})` : `must be ${issue.expected}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'invalid_format':
      return issue.format === 'regex' && issue.message
        ? `must be ${issue.message}`
        : `must be ${issue.format}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'has none of the accepted shapes';
    case 'custom':
      return issue.message ? `must be ${issue.message}` : 'is not valid';
    default:
      return 'is not valid';
  }
}

/** Cross-field rules and the session's constraints, applied to a frame that passed its schema. */
function normalise(
  frame: z.infer<(typeof CLIENT_ACTION_SCHEMAS)[ClientAction]>,
  c: ChannelConstraints,
  anyContentType: boolean,
): ClientFrame {
  const context = {
    action: frame.action,
    clientMessageId: 'clientMessageId' in frame ? frame.clientMessageId : undefined,
  };
  const invalid = (field: string, message: string) =>
    new ProtocolError('invalid_field', message, { ...context, details: { field } });

  switch (frame.action) {
    case 'connect':
      if (frame.afterSequenceId !== undefined && frame.sessionId === undefined) {
        throw invalid(
          'afterSequenceId',
          'connect.afterSequenceId only makes sense with a sessionId to resume.',
        );
      }
      for (const [key, value] of Object.entries(frame.guestInfo ?? {})) {
        if (value !== undefined) throwIf(checkTextCharacters(value, `guestInfo.${key}`));
      }
      return frame;
    case 'send': {
      const hasText = frame.text !== undefined && frame.text.length > 0;
      const attachments = frame.attachmentIds?.length ?? 0;
      if (!hasText && attachments === 0 && frame.reply === undefined) {
        throw invalid('text', 'send needs a non-empty text, attachmentIds or a reply.');
      }
      if (frame.text !== undefined) throwIf(checkText(frame.text, c));
      if (frame.reply !== undefined) throwIf(checkTextCharacters(frame.reply.text, 'reply.text'));
      if (attachments > c.attachments.maxPerMessage) {
        throw invalid(
          'attachmentIds',
          `send.attachmentIds may hold at most ${c.attachments.maxPerMessage} attachment(s) per message.`,
        );
      }
      return frame;
    }
    case 'context':
      flattenContext(frame.data, { maxBytes: c.maxCustomDataBytes });
      return frame;
    case 'upload':
      return normaliseUpload(frame, c, anyContentType, invalid);
    case 'history':
      if (
        frame.afterSequenceId !== undefined &&
        frame.beforeSequenceId !== undefined &&
        frame.afterSequenceId >= frame.beforeSequenceId - 1
      ) {
        throw invalid('beforeSequenceId', 'history.beforeSequenceId must leave room after afterSequenceId.');
      }
      return frame;
    default:
      return frame;
  }
}

function normaliseUpload(
  frame: z.infer<typeof uploadActionSchema>,
  c: ChannelConstraints,
  anyContentType: boolean,
  invalid: (field: string, message: string) => ProtocolError,
): UploadAction {
  const { buffer, size: declaredSize, send, ...rest } = frame;
  if (buffer !== undefined && rest.data !== undefined) {
    throw invalid('buffer', 'upload takes the file in "data" or in "buffer", not both.');
  }
  let data = rest.data;
  if (buffer !== undefined) data = typeof buffer === 'string' ? buffer : bytesToBase64(buffer.data);
  const inlineSize = data === undefined ? undefined : base64DecodedLength(data);
  if (inlineSize === undefined && declaredSize === undefined) {
    throw invalid('size', 'upload.size is required unless the file is sent inline in "data".');
  }
  if (inlineSize !== undefined && declaredSize !== undefined && inlineSize !== declaredSize) {
    throw invalid('size', `upload.size says ${declaredSize} bytes but the inline data holds ${inlineSize}.`);
  }
  const size = inlineSize ?? (declaredSize as number);
  throwIf(
    checkAttachment({ filename: rest.filename, contentType: rest.contentType, size }, c, { anyContentType }),
  );
  if (rest.caption !== undefined) throwIf(checkText(rest.caption, c, 'caption'));
  if (data !== undefined) checkContent(rest.contentType, data, frame);
  const upload: UploadAction = { ...rest, size, send: send ?? data !== undefined };
  if (data !== undefined) return { ...upload, data };
  return upload;
}

/**
 * Inline bytes must look like their declared type where the type can be told from its first bytes
 * (sniff.ts: PNG, JPEG, GIF, WebP, PDF; text/plain must be UTF-8 without NUL). Other types pass as
 * they are.
 */
function checkContent(contentType: string, base64: string, frame: z.infer<typeof uploadActionSchema>): void {
  const type = parseMediaType(contentType);
  if (type === undefined) return;
  const mismatch = contentMismatch(type, base64ToBytes(base64));
  if (mismatch === undefined) return;
  throw new ProtocolError(
    'attachment_content_mismatch',
    `The file is declared as ${mismatch.declared} but its content is ${mismatch.found}.`,
    {
      action: frame.action,
      clientMessageId: frame.clientMessageId,
      details: { field: 'data', declared: mismatch.declared, found: mismatch.found },
    },
  );
}

/** Bytes of a base64 string without Node's Buffer, so the protocol module also runs in browsers. */
function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function base64DecodedLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

/** Base64 of a byte array without Node's Buffer, so the protocol module also runs in browsers. */
function bytesToBase64(bytes: readonly number[]): string {
  let binary = '';
  const chunk = 0x2000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.slice(i, i + chunk));
  return btoa(binary);
}

function throwIf(error: DomainError | undefined): void {
  if (error) throw error;
}

function fail(
  code: ProtocolError['code'],
  message: string,
  options: ConstructorParameters<typeof ProtocolError>[2] = {},
): ParseResult {
  return { ok: false, error: new ProtocolError(code, message, options) };
}
