import * as z from 'zod';
import { UPSTREAM_FAILURE_REASONS } from '../domain/upstream-failure.js';
import {
  clientIdSchema,
  constraintsSchema,
  contentItemSchema,
  directionSchema,
  entryStatusSchema,
  failureSchema,
  isoTimeSchema,
  senderSchema,
  sequenceIdSchema,
  sessionIdSchema,
} from './common.js';
import { ERROR_CODE_LIST, type ErrorCode } from './error-codes.js';

/**
 * The events the service sends. Every event is a JSON object whose `type` names it. Clients must
 * ignore fields and event types they do not know: new ones may be added without a version change.
 */

const queued = z
  .boolean()
  .optional()
  .meta({ description: 'True when no worker is live: the command is stored and runs when one starts.' });

export const connectEventSchema = z
  .object({
    type: z.literal('connect'),
    sessionId: sessionIdSchema,
    resumed: z.boolean().meta({ description: 'True when an existing session was resumed.' }),
    lastSequenceId: z.int().min(0).meta({ description: 'The newest entry in the transcript (0 if empty).' }),
    status: z.enum(['starting', 'active', 'readOnly']),
    constraints: constraintsSchema,
    deploymentId: z.string().optional(),
    queued,
  })
  .meta({ id: 'ConnectEvent', description: 'The session is ready; missed entries (on resume) follow.' });

/** One transcript entry: what `message` events carry and `history` pages list. */
export const transcriptEntrySchema = z.object({
  sessionId: sessionIdSchema,
  sequenceId: sequenceIdSchema,
  entryId: z
    .string()
    .meta({ description: "Stable id of the entry (the Genesys tracingId of a guest's send)." }),
  direction: directionSchema,
  text: z.string().optional(),
  content: z.array(contentItemSchema),
  sender: senderSchema.optional(),
  status: entryStatusSchema,
  failure: failureSchema.optional(),
  clientMessageId: clientIdSchema.optional(),
  genesysId: z.string().optional().meta({ description: "Genesys' message id, once known." }),
  time: isoTimeSchema.meta({
    description: 'When Genesys processed it (channel.time), or when it was stored.',
  }),
});

export const messageEventSchema = z
  .object({
    type: z.literal('message'),
    ...transcriptEntrySchema.shape,
    replay: z.boolean().optional().meta({ description: 'True when sent again after a resume.' }),
    queued,
  })
  .meta({
    id: 'MessageEvent',
    description: 'A transcript entry: a guest send (at once, pending) or an agent/bot message.',
  });

export const statusEventSchema = z
  .object({
    type: z.literal('status'),
    sessionId: sessionIdSchema,
    sequenceId: sequenceIdSchema,
    status: entryStatusSchema,
    clientMessageId: clientIdSchema.optional(),
    failure: failureSchema.optional(),
  })
  .meta({ id: 'StatusEvent', description: "An entry's status changed." });

export const readReceiptEventSchema = z
  .object({
    type: z.literal('readReceipt'),
    sessionId: sessionIdSchema,
    sequenceId: sequenceIdSchema,
    status: z.enum(['delivered', 'read']),
    time: isoTimeSchema.optional(),
  })
  .meta({ id: 'ReadReceiptEvent', description: 'Genesys reported a guest entry delivered or read.' });

export const typingEventSchema = z
  .object({
    type: z.literal('typing'),
    sessionId: sessionIdSchema,
    from: z.enum(['agent', 'bot']),
    state: z.enum(['on', 'off']),
    durationMs: z
      .int()
      .min(0)
      .meta({ description: 'How long to show the indicator (Genesys default 5000).' }),
  })
  .meta({ id: 'TypingEvent', description: 'The agent or bot is typing.' });

export const presenceEventSchema = z
  .object({
    type: z.literal('presence'),
    sessionId: sessionIdSchema,
    from: z.enum(['guest', 'agent', 'bot', 'system']),
    presence: z.enum(['join', 'disconnect', 'clear', 'signIn', 'sessionExpired']),
    readOnly: z
      .boolean()
      .optional()
      .meta({ description: 'On disconnect: the conversation is now read-only.' }),
  })
  .meta({ id: 'PresenceEvent', description: 'Someone joined or left the conversation.' });

const uploadRef = {
  sessionId: sessionIdSchema,
  uploadId: z.string().meta({ description: "The client's uploadId, or one the service chose." }),
};

export const uploadEventSchema = z
  .object({
    type: z.literal('upload'),
    ...uploadRef,
    attachmentId: z.string(),
    method: z.literal('PUT'),
    url: z.string().meta({ description: 'Presigned URL from Genesys: PUT the bytes here.' }),
    headers: z
      .record(z.string(), z.string())
      .meta({ description: 'Send every one of these headers with the PUT.' }),
  })
  .meta({ id: 'UploadEvent', description: 'An upload slot: PUT the file to `url` with `headers`.' });

export const uploadedEventSchema = z
  .object({
    type: z.literal('uploaded'),
    ...uploadRef,
    attachmentId: z.string(),
    downloadUrl: z.string().optional(),
  })
  .meta({ id: 'UploadedEvent', description: 'Genesys accepted the file; its attachmentId can be sent.' });

export const uploadFailedEventSchema = z
  .object({
    type: z.literal('uploadFailed'),
    ...uploadRef,
    attachmentId: z.string().optional(),
    code: z.string().meta({ description: 'A protocol error code.' }),
    message: z.string(),
  })
  .meta({ id: 'UploadFailedEvent', description: 'The upload was refused or failed.' });

export const contextEventSchema = z
  .object({
    type: z.literal('context'),
    sessionId: sessionIdSchema,
    attributes: z
      .record(z.string(), z.string())
      .meta({ description: 'All custom attributes of the session.' }),
    bytes: z.int().min(0),
    maxBytes: z.int().min(0),
    state: z.enum(['pending', 'applied']).meta({ description: 'applied once Genesys has received them.' }),
    clientMessageId: clientIdSchema.optional(),
    queued,
  })
  .meta({ id: 'ContextEvent', description: "The session's custom attributes after a `context` action." });

export const historyEventSchema = z
  .object({
    type: z.literal('history'),
    sessionId: sessionIdSchema,
    entries: z.array(transcriptEntrySchema).meta({ description: 'In ascending sequenceId order.' }),
    hasMore: z.boolean().meta({ description: 'More entries exist past this page in the direction asked.' }),
  })
  .meta({ id: 'HistoryEvent', description: 'A page of the transcript.' });

export const ackEventSchema = z
  .object({
    type: z.literal('ack'),
    action: z.enum(['typing', 'upload', 'end']),
    sessionId: sessionIdSchema,
    clientMessageId: clientIdSchema.optional(),
    uploadId: z.string().optional(),
    queued,
  })
  .meta({ id: 'AckEvent', description: 'A command whose outcome comes later was stored.' });

export const upstreamEventSchema = z
  .object({
    type: z.literal('upstream'),
    sessionId: sessionIdSchema,
    state: z.enum(['retrying', 'connected', 'unavailable']).meta({
      description:
        '`retrying`: the Genesys socket could not be opened or was lost and is tried again at `retryAt`; `unavailable`: it has failed for the documented bound (an `upstream_unavailable` error follows; a session that never connected then ends); `connected`: it is back.',
    }),
    reason: z
      .enum(UPSTREAM_FAILURE_REASONS)
      .optional()
      .meta({ description: 'Why (refused, dns, tls, timeout, http, closed); absent on `connected`.' }),
    detail: z.string().optional().meta({
      description: 'The error code or status behind the reason (ECONNREFUSED, HTTP 503, close 1006).',
    }),
    message: z.string().meta({ description: 'What happened and what to do, for a person.' }),
    attempt: z.int().min(0).optional().meta({ description: 'Failed attempts so far (from 1).' }),
    retryAt: isoTimeSchema.optional().meta({ description: 'When the next attempt starts.' }),
  })
  .meta({
    id: 'UpstreamEvent',
    description: "The session's connection to Genesys is failing, has failed for too long, or is back.",
  });

export const sessionEndedEventSchema = z
  .object({
    type: z.literal('sessionEnded'),
    sessionId: sessionIdSchema,
    reason: z.enum(['guest', 'agent', 'expired', 'cleared', 'error']),
    code: z
      .enum(ERROR_CODE_LIST as [ErrorCode, ...ErrorCode[]])
      .optional()
      .meta({
        description:
          'With reason `error`: why, as an error code (upstream_rejected, upstream_unavailable, …).',
      }),
    message: z.string().optional().meta({
      description: "With reason `error`: what happened (Genesys' own words when it refused) and what to do.",
    }),
    genesysCode: z
      .int()
      .optional()
      .meta({ description: 'The code or HTTP status Genesys refused the session with, when it gave one.' }),
  })
  .meta({
    id: 'SessionEndedEvent',
    description: 'The session is over; `connect` without sessionId starts a new one.',
  });

export const errorEventSchema = z
  .object({
    type: z.literal('error'),
    code: z.enum(ERROR_CODE_LIST as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    error: z.string().meta({ description: 'Same as `message`: the seed protocol read errors from here.' }),
    retryable: z.boolean(),
    retryAfterMs: z.int().min(0).optional(),
    action: z.string().optional().meta({ description: 'The offending action, when it could be read.' }),
    clientMessageId: z
      .string()
      .optional()
      .meta({ description: 'The clientMessageId, when it could be read.' }),
    details: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]))
      .optional(),
  })
  .meta({ id: 'ErrorEvent', description: 'A frame was refused. The connection stays open.' });

export const pongEventSchema = z
  .object({ type: z.literal('pong'), nonce: z.string().optional(), time: isoTimeSchema })
  .meta({ id: 'PongEvent', description: 'The answer to `ping`.' });

export const SERVER_EVENT_SCHEMAS = {
  connect: connectEventSchema,
  message: messageEventSchema,
  status: statusEventSchema,
  readReceipt: readReceiptEventSchema,
  typing: typingEventSchema,
  presence: presenceEventSchema,
  upload: uploadEventSchema,
  uploaded: uploadedEventSchema,
  uploadFailed: uploadFailedEventSchema,
  context: contextEventSchema,
  history: historyEventSchema,
  ack: ackEventSchema,
  upstream: upstreamEventSchema,
  sessionEnded: sessionEndedEventSchema,
  error: errorEventSchema,
  pong: pongEventSchema,
} as const;

export type ServerEventType = keyof typeof SERVER_EVENT_SCHEMAS;
export const SERVER_EVENT_TYPES = Object.keys(SERVER_EVENT_SCHEMAS) as ServerEventType[];

export const serverEventSchema = z.discriminatedUnion('type', [
  connectEventSchema,
  messageEventSchema,
  statusEventSchema,
  readReceiptEventSchema,
  typingEventSchema,
  presenceEventSchema,
  uploadEventSchema,
  uploadedEventSchema,
  uploadFailedEventSchema,
  contextEventSchema,
  historyEventSchema,
  ackEventSchema,
  upstreamEventSchema,
  sessionEndedEventSchema,
  errorEventSchema,
  pongEventSchema,
]);

export type ConnectEvent = z.infer<typeof connectEventSchema>;
export type TranscriptEntry = z.infer<typeof transcriptEntrySchema>;
export type MessageEvent = z.infer<typeof messageEventSchema>;
export type StatusEvent = z.infer<typeof statusEventSchema>;
export type ReadReceiptEvent = z.infer<typeof readReceiptEventSchema>;
export type TypingEvent = z.infer<typeof typingEventSchema>;
export type PresenceEvent = z.infer<typeof presenceEventSchema>;
export type UploadEvent = z.infer<typeof uploadEventSchema>;
export type UploadedEvent = z.infer<typeof uploadedEventSchema>;
export type UploadFailedEvent = z.infer<typeof uploadFailedEventSchema>;
export type ContextEvent = z.infer<typeof contextEventSchema>;
export type HistoryEvent = z.infer<typeof historyEventSchema>;
export type AckEvent = z.infer<typeof ackEventSchema>;
export type UpstreamEvent = z.infer<typeof upstreamEventSchema>;
export type SessionEndedEvent = z.infer<typeof sessionEndedEventSchema>;
export type ErrorEvent = z.infer<typeof errorEventSchema>;
export type PongEvent = z.infer<typeof pongEventSchema>;
export type ServerEvent = z.infer<typeof serverEventSchema>;
