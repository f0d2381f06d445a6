import * as z from 'zod';
import { MEDIA_TYPE_PATTERN } from '../domain/media-type.js';
import {
  afterSequenceIdSchema,
  clientIdSchema,
  clientMessageIdSchema,
  jsonValueSchema,
  sequenceIdSchema,
  sessionIdSchema,
} from './common.js';
import { DEFAULT_HISTORY_LIMIT, MAX_FILENAME_LENGTH, MAX_HISTORY_LIMIT } from './limits.js';

/**
 * The frames a frontend sends. Every frame is a JSON object whose `action` selects the route (API
 * Gateway's `$request.body.action`). Unknown fields are refused (`unknown_field`) so that a typo such as
 * `clientMessageID` cannot silently turn idempotency off.
 */

const shortText = (max: number) => z.string().max(max);

const optionalSessionId = sessionIdSchema
  .optional()
  .meta({ description: "The session to act on; defaults to the connection's current session." });

export const guestInfoSchema = z
  .strictObject({
    name: shortText(256).optional(),
    firstName: shortText(256).optional(),
    lastName: shortText(256).optional(),
    nickname: shortText(256).optional(),
    email: shortText(254).optional(),
    phone: shortText(64).optional(),
    avatarUrl: shortText(2048).optional(),
    locale: shortText(35).optional(),
  })
  .meta({ description: 'Who the guest is. Stored with the session and sent upstream as custom attributes.' });

const metadataValue = z.union([z.string().max(1024), z.number(), z.boolean()]);

export const connectActionSchema = z
  .strictObject({
    action: z.literal('connect'),
    sessionId: sessionIdSchema
      .optional()
      .meta({ description: 'Resume this session. Without it, a new session starts.' }),
    afterSequenceId: afterSequenceIdSchema
      .optional()
      .meta({ description: 'On resume: replay every entry after this one, then go live.' }),
    guestInfo: guestInfoSchema.optional(),
    metadata: z.record(z.string().min(1).max(128), metadataValue).optional().meta({
      description: 'Flat labels for the session (test run, build, ...); sent upstream as attributes.',
    }),
    deploymentId: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'a Genesys deployment id')
      .optional()
      .meta({ description: "A Genesys Messenger deployment id; defaults to the team's configured one." }),
    region: z
      .string()
      .regex(/^[a-z0-9._-]{2,64}$/, 'a Genesys region domain such as "mypurecloud.ie"')
      .optional()
      .meta({ description: 'Genesys region domain of the deployment.' }),
    clientMessageId: clientMessageIdSchema.optional(),
  })
  .meta({ id: 'ConnectAction', description: 'Start a guest session, or resume one.' });

export const replySchema = z
  .strictObject({
    type: z.enum(['quickReply', 'button']),
    text: z.string().min(1).max(1024),
    payload: z.string().max(1024),
    toSequenceId: sequenceIdSchema.optional().meta({ description: 'The entry that offered the choice.' }),
  })
  .meta({ description: 'The answer to a quick reply or a card button.' });

export const sendActionSchema = z
  .strictObject({
    action: z.literal('send'),
    sessionId: optionalSessionId,
    text: z
      .string()
      .optional()
      .meta({ description: "The message text; bounded by the session's maxTextLength." }),
    attachmentIds: z
      .array(z.string().min(1).max(128))
      .max(10)
      .optional()
      .meta({ description: 'Finished uploads to attach (Genesys allows one per message).' }),
    reply: replySchema.optional(),
    clientMessageId: clientMessageIdSchema.optional(),
  })
  .meta({ id: 'SendAction', description: 'Send a guest message: text, attachments and/or a reply.' });

export const typingActionSchema = z
  .strictObject({ action: z.literal('typing'), sessionId: optionalSessionId })
  .meta({ id: 'TypingAction', description: 'The guest is typing.' });

export const contextActionSchema = z
  .strictObject({
    action: z.literal('context'),
    sessionId: optionalSessionId,
    data: z
      .record(z.string(), jsonValueSchema)
      .meta({ description: 'UI state as a JSON object; nested values are flattened to dotted keys.' }),
    mode: z.enum(['merge', 'replace']).optional().meta({
      description: 'merge (default): a JSON Merge Patch where null removes a key; replace: the whole state.',
    }),
    flush: z
      .boolean()
      .optional()
      .meta({ description: 'Send the attributes upstream now instead of with the next message.' }),
    clientMessageId: clientMessageIdSchema.optional(),
  })
  .meta({ id: 'ContextAction', description: 'Set UI state, sent to Genesys as custom attributes.' });

const base64Schema = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'base64');

/** `JSON.stringify(buffer)` in Node gives this shape; the seed tutorial's frontends send it. */
const nodeBufferJsonSchema = z.strictObject({
  type: z.literal('Buffer'),
  data: z.array(z.int().min(0).max(255)),
});

export const uploadActionSchema = z
  .strictObject({
    action: z.literal('upload'),
    sessionId: optionalSessionId,
    // The schema bounds UTF-16 units loosely; the constraints check then counts characters (255).
    filename: z.string().max(MAX_FILENAME_LENGTH * 4),
    contentType: z
      .string()
      .min(1)
      .max(255)
      .regex(
        MEDIA_TYPE_PATTERN,
        'a media type such as "image/png": type/subtype and optional ;name=value parameters (RFC 9110), no control characters',
      )
      .meta({ description: "The file's media type; checked against the deployment's allowed media." }),
    size: z.int().min(0).optional().meta({ description: 'Bytes; required unless the file is sent inline.' }),
    data: base64Schema
      .optional()
      .meta({ description: 'The file itself, base64, for small files sent inline.' }),
    buffer: z
      .union([base64Schema, nodeBufferJsonSchema])
      .optional()
      .meta({ description: "Seed-tutorial spelling of `data` (base64, or Node's Buffer JSON)." }),
    caption: z
      .string()
      .optional()
      .meta({ description: 'Text sent with the attachment once it is uploaded.' }),
    send: z.boolean().optional().meta({
      description: 'Send a message with the attachment once uploaded; default true for inline files.',
    }),
    uploadId: clientIdSchema
      .optional()
      .meta({ description: "Client's id for this upload, echoed on every upload event." }),
    clientMessageId: clientMessageIdSchema.optional(),
  })
  .meta({
    id: 'UploadAction',
    description: 'Ask for an upload slot (presigned URL), or upload a small file inline.',
  });

export const historyActionSchema = z
  .strictObject({
    action: z.literal('history'),
    sessionId: optionalSessionId,
    afterSequenceId: afterSequenceIdSchema.optional(),
    beforeSequenceId: sequenceIdSchema.optional(),
    limit: z
      .int()
      .min(1)
      .max(MAX_HISTORY_LIMIT)
      .optional()
      .meta({ description: `Entries per page (default ${DEFAULT_HISTORY_LIMIT}).` }),
  })
  .meta({ id: 'HistoryAction', description: 'Read a page of the transcript.' });

export const endActionSchema = z
  .strictObject({
    action: z.literal('end'),
    sessionId: optionalSessionId,
    clientMessageId: clientMessageIdSchema.optional(),
  })
  .meta({ id: 'EndAction', description: 'End the guest session.' });

export const pingActionSchema = z
  .strictObject({ action: z.literal('ping'), nonce: z.string().max(64).optional() })
  .meta({ id: 'PingAction', description: 'Liveness check; answered with `pong`.' });

export const CLIENT_ACTION_SCHEMAS = {
  connect: connectActionSchema,
  send: sendActionSchema,
  typing: typingActionSchema,
  context: contextActionSchema,
  upload: uploadActionSchema,
  history: historyActionSchema,
  end: endActionSchema,
  ping: pingActionSchema,
} as const;

export type ClientAction = keyof typeof CLIENT_ACTION_SCHEMAS;
export const CLIENT_ACTIONS = Object.keys(CLIENT_ACTION_SCHEMAS) as ClientAction[];

export function isClientAction(value: unknown): value is ClientAction {
  return typeof value === 'string' && Object.hasOwn(CLIENT_ACTION_SCHEMAS, value);
}

export type ConnectAction = z.infer<typeof connectActionSchema>;
export type SendAction = z.infer<typeof sendActionSchema>;
export type TypingAction = z.infer<typeof typingActionSchema>;
export type ContextAction = z.infer<typeof contextActionSchema>;
export type HistoryAction = z.infer<typeof historyActionSchema>;
export type EndAction = z.infer<typeof endActionSchema>;
export type PingAction = z.infer<typeof pingActionSchema>;

/**
 * An upload after parsing: `buffer` (seed spelling) is folded into `data` (base64), `size` is always
 * known, and `send` has its default.
 */
export type UploadAction = Omit<z.infer<typeof uploadActionSchema>, 'buffer' | 'size' | 'send'> & {
  readonly size: number;
  readonly send: boolean;
};

/** A parsed, valid client frame. */
export type ClientFrame =
  | ConnectAction
  | SendAction
  | TypingAction
  | ContextAction
  | UploadAction
  | HistoryAction
  | EndAction
  | PingAction;
