/**
 * Parsing of what guests send (reference §3): the shapes in src/genesys/requests.ts, accepted loosely as
 * Genesys does (unknown keys ignored; `channel` inside `message` or at the top level), with a wire error
 * code for anything unusable. Pure.
 */
import * as z from 'zod';
import { describeIssues } from './scripts.js';

/** "Web messaging API does not enforce any specific check on the format and the token cannot exceed 2048 characters" (F2). */
export const MAX_TOKEN_LENGTH = 2048;

const stringMap = z.record(z.string(), z.string());
const channelSchema = z.looseObject({
  metadata: z.looseObject({ customAttributes: stringMap.optional() }).optional(),
});

const contentSchema = z.looseObject({
  contentType: z.string(),
  attachment: z.looseObject({ id: z.string().min(1) }).optional(),
  buttonResponse: z
    .looseObject({ text: z.string().optional(), payload: z.string(), type: z.string().optional() })
    .optional(),
});

const eventSchema = z.looseObject({
  eventType: z.string(),
  typing: z.looseObject({ type: z.string() }).optional(),
  presence: z.looseObject({ type: z.string() }).optional(),
});

const messageSchema = z.looseObject({
  type: z.enum(['Text', 'Structured', 'Event']),
  text: z.string().optional(),
  content: z.array(contentSchema).optional(),
  events: z.array(eventSchema).optional(),
  metadata: stringMap.optional(),
  channel: channelSchema.optional(),
});

const base = { token: z.string(), tracingId: z.string().optional() };

export const requestSchemas = {
  configureSession: z.looseObject({
    ...base,
    action: z.literal('configureSession'),
    deploymentId: z.string(),
    startNew: z.boolean().optional(),
    journeyContext: z.unknown().optional(),
  }),
  onMessage: z.looseObject({
    ...base,
    action: z.literal('onMessage'),
    message: messageSchema,
    channel: channelSchema.optional(),
  }),
  echo: z.looseObject({ ...base, action: z.literal('echo') }),
  getJwt: z.looseObject({ ...base, action: z.literal('getJwt') }),
  onAttachment: z.looseObject({
    ...base,
    action: z.literal('onAttachment'),
    attachmentId: z.string().min(1).max(256).optional(),
    fileName: z.string(),
    fileType: z.string(),
    fileSize: z.number().int(),
    fileMd5: z.string().optional(),
    errorsAsJson: z.boolean().optional(),
  }),
  getAttachment: z.looseObject({ ...base, action: z.literal('getAttachment'), attachmentId: z.string() }),
  deleteAttachment: z.looseObject({
    ...base,
    action: z.literal('deleteAttachment'),
    attachmentId: z.string(),
  }),
  closeSession: z.looseObject({
    ...base,
    action: z.literal('closeSession'),
    closeAllConnections: z.boolean().optional(),
  }),
  getConfiguration: z.looseObject({
    ...base,
    action: z.literal('getConfiguration'),
    deploymentId: z.string(),
  }),
} as const;

export type RequestAction = keyof typeof requestSchemas;
export type GuestRequest = { [A in RequestAction]: z.output<(typeof requestSchemas)[A]> }[RequestAction];
export type GuestRequestOf<A extends RequestAction> = z.output<(typeof requestSchemas)[A]>;
export type GuestMessage = z.output<typeof messageSchema>;

/** Actions Genesys has that the emulator does not offer (authenticated sessions and their kin). */
const UNSUPPORTED_ACTIONS = new Set(['configureAuthenticatedSession', 'resumeToken', 'disconnectCustomer']);

export type ParsedRequest =
  | { readonly ok: true; readonly request: GuestRequest; readonly tracingId: string | undefined }
  | {
      readonly ok: false;
      readonly code: number;
      readonly message: string;
      readonly tracingId: string | undefined;
      /** The request as JSON, when it was JSON (for the console feed). */
      readonly json: unknown;
    };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses one text frame from a guest. Never throws. */
export function parseGuestRequest(raw: string): ParsedRequest {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return {
      ok: false,
      code: 400,
      message: 'Request failed. The frame is not JSON.',
      tracingId: undefined,
      json: raw,
    };
  }
  if (!isObject(json)) {
    return {
      ok: false,
      code: 400,
      message: 'Request failed. The frame is not a JSON object.',
      tracingId: undefined,
      json,
    };
  }
  const tracingId = typeof json.tracingId === 'string' ? json.tracingId : undefined;
  const fail = (code: number, message: string): ParsedRequest => ({
    ok: false,
    code,
    message,
    tracingId,
    json,
  });
  const action = json.action;
  if (typeof action !== 'string') return fail(4020, 'Missing parameter: action');
  if (UNSUPPORTED_ACTIONS.has(action))
    return fail(4000, `Feature unavailable: the emulator does not support ${action}`);
  if (!Object.hasOwn(requestSchemas, action)) return fail(400, `Request failed. Unknown action "${action}".`);
  if (typeof json.token !== 'string' || json.token === '') return fail(4020, 'Missing parameter: token');
  if (json.token.length > MAX_TOKEN_LENGTH) {
    return fail(400, `Request failed. The token is longer than ${MAX_TOKEN_LENGTH} characters.`);
  }
  const result = requestSchemas[action as RequestAction].safeParse(json);
  if (!result.success) {
    const missing = result.error.issues.find(
      (issue) => issue.code === 'invalid_type' && valueAt(json, issue.path) === undefined,
    );
    if (missing) return fail(4020, `Missing parameter: ${missing.path.join('.')}`);
    return fail(400, `Request failed. ${describeIssues(result.error).join('; ')}`);
  }
  return { ok: true, request: result.data as GuestRequest, tracingId };
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** The custom attributes of an onMessage, from `message.channel` and the top-level `channel` (message wins). */
export function customAttributesOf(request: GuestRequestOf<'onMessage'>): Record<string, string> | undefined {
  const top = request.channel?.metadata?.customAttributes;
  const inner = request.message.channel?.metadata?.customAttributes;
  if (top === undefined && inner === undefined) return undefined;
  return { ...top, ...inner };
}
