import * as z from 'zod';
import type { JsonValue } from '../domain/context.js';
import { MAX_CLIENT_ID_LENGTH, MAX_SEQUENCE_ID } from './limits.js';

/**
 * Any JSON value: what UI state (`context.data`) may hold. Frames come out of JSON.parse and have passed
 * parseClientFrame's shape walk (depth, keys, finite numbers), so every value in them already is one;
 * re-validating it with `z.json()` cost more than the rest of the parse together. The documented
 * schema is filled in by the AsyncAPI generator (JSON_VALUE_JSON_SCHEMA).
 */
export const jsonValueSchema = z
  .custom<JsonValue>(() => true)
  .meta({ id: 'JsonValue', description: 'Any JSON value.' });

/** The JSON Schema of `jsonValueSchema`, for the generated documentation. */
export const JSON_VALUE_JSON_SCHEMA = {
  description: 'Any JSON value.',
  anyOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'null' },
    { type: 'array', items: { $ref: '#/components/schemas/JsonValue' } },
    { type: 'object', additionalProperties: { $ref: '#/components/schemas/JsonValue' } },
  ],
} as const;

/** Session ids are 128 bits of randomness, base64url-encoded; the pattern leaves room for other encodings. */
export const sessionIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{16,64}$/, 'a session id: 16 to 64 characters of A-Z, a-z, 0-9, "_" or "-"')
  .meta({ description: 'The guest session, as returned by the `connect` event.' });

export const clientIdSchema = z
  .string()
  .regex(
    new RegExp(`^[A-Za-z0-9._:-]{1,${MAX_CLIENT_ID_LENGTH}}$`),
    `1 to ${MAX_CLIENT_ID_LENGTH} characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"`,
  );

export const clientMessageIdSchema = clientIdSchema.meta({
  description:
    'Idempotency key chosen by the client (a UUID is ideal). A retried command with the same key never creates a second entry.',
});

export const sequenceIdSchema = z
  .int()
  .min(1)
  .max(MAX_SEQUENCE_ID)
  .meta({ description: 'Position in the session transcript: 1, 2, 3, ... with no gaps (at most 2^31 - 1).' });

export const afterSequenceIdSchema = z
  .int()
  .min(0)
  .max(MAX_SEQUENCE_ID)
  .meta({ description: 'The last sequenceId the client has seen (0 for none; at most 2^31 - 1).' });

export const isoTimeSchema = z.iso.datetime({ offset: true }).meta({ description: 'ISO-8601 time, UTC.' });

export const directionSchema = z.enum(['guest', 'agent', 'bot', 'system']).meta({
  description: 'Who wrote the entry: the guest (you), a human agent, a bot or flow, or the system.',
});

export const entryStatusSchema = z.enum(['pending', 'sent', 'delivered', 'read', 'failed']).meta({
  description:
    'pending: stored, not yet acknowledged by Genesys; sent: acknowledged; delivered/read: receipts; failed: see `failure`.',
});

export const mediaTypeSchema = z.enum(['image', 'video', 'audio', 'file', 'link']);

/** The deployment's limits, as the `connect` event reports them (mirrors the domain's ChannelConstraints). */
export const constraintsSchema = z
  .object({
    maxTextLength: z.int().min(1).meta({ description: 'Most characters (code points) in one text.' }),
    maxCustomDataBytes: z
      .int()
      .min(0)
      .meta({ description: 'UTF-8 bytes of all custom attribute keys plus values.' }),
    attachments: z.object({
      enabled: z.boolean(),
      fileTypes: z
        .array(z.string())
        .meta({ description: 'Allowed MIME types; "image/*" and "*/*" are wildcards.' }),
      maxFileSizeKB: z.int().min(0),
      blockedExtensions: z.array(z.string()).meta({ description: 'Lower-case, with a leading dot.' }),
      maxPerMessage: z.int().min(0),
    }),
    sendRatePerSecond: z.number().positive().meta({ description: 'Messages per second Genesys accepts.' }),
    typingIntervalMs: z.int().min(0).meta({ description: 'Typing notices go upstream at most this often.' }),
  })
  .meta({
    id: 'Constraints',
    description: "The session's channel constraints, from its Genesys deployment.",
  });

export const senderSchema = z
  .object({
    name: z.string().optional(),
    nickname: z.string().optional(),
    image: z.string().optional(),
  })
  .meta({ description: 'Who wrote an agent or bot entry, as Genesys names them.' });

const cardActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('link'), text: z.string(), url: z.string() }),
  z.object({ type: z.literal('postback'), text: z.string(), payload: z.string() }),
]);

const cardSchema = z.object({
  title: z.string(),
  description: z.string().optional(),
  image: z.string().optional(),
  actions: z.array(cardActionSchema),
});

/** Rich content of a transcript entry, normalised from Genesys' `content[]` (reference §5). */
export const contentItemSchema = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('quickReply'),
      text: z.string(),
      payload: z.string(),
      image: z.string().optional(),
    }),
    z.object({ kind: z.literal('card'), ...cardSchema.shape }),
    z.object({ kind: z.literal('carousel'), cards: z.array(cardSchema) }),
    z.object({
      kind: z.literal('attachment'),
      id: z.string(),
      filename: z.string().optional(),
      mediaType: mediaTypeSchema.optional(),
      mime: z.string().optional(),
      size: z.int().min(0).optional(),
      url: z.string().optional(),
    }),
    z.object({
      kind: z.literal('buttonResponse'),
      type: z.enum(['quickReply', 'button', 'datePicker', 'listPicker', 'form']),
      text: z.string(),
      payload: z.string(),
    }),
    z.object({
      kind: z.literal('datePicker'),
      title: z.string().optional(),
      subtitle: z.string().optional(),
      availableTimes: z.array(z.object({ dateTime: z.string(), durationMinutes: z.number().optional() })),
    }),
    z.object({
      kind: z.literal('unknown'),
      contentType: z
        .string()
        .meta({ description: "Genesys' contentType, passed on for content we do not model." }),
    }),
  ])
  .meta({ id: 'ContentItem' });

export const failureSchema = z
  .object({ code: z.string(), message: z.string() })
  .meta({ description: 'Why an entry failed: a protocol error code and a human message.' });

export type SessionId = z.infer<typeof sessionIdSchema>;
export type ConstraintsPayload = z.infer<typeof constraintsSchema>;
export type ContentItem = z.infer<typeof contentItemSchema>;
export type Direction = z.infer<typeof directionSchema>;
export type EntryStatus = z.infer<typeof entryStatusSchema>;
