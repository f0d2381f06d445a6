/**
 * The events the scenario runner reads, from the stack's raw frames. Most are read by the protocol's own
 * parser; three are read here because the runner must understand them even from a stack newer (or older)
 * than this build's schemas (issue 17): an `error` with a code this build does not know still fails the
 * step with that code, a `sessionEnded` keeps the `code` and `message` that say why, and the state of the
 * stack's link to Genesys (the `upstream` event, docs/protocol.md) is read with only the fields it shows.
 * Pure: no I/O, tested on recorded frames.
 */
import * as z from 'zod';
import { parseServerEvent, type ServerEvent } from '../../src/protocol/index.js';

const errorNoticeSchema = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  /** Every stack sends it; read as "not retryable" when absent, the safer side for a test run. */
  retryable: z.boolean().optional(),
  action: z.string().optional(),
  clientMessageId: z.string().optional(),
  /** With `rate_limited`: how long to wait before sending again. */
  retryAfterMs: z.number().optional(),
});

const sessionEndSchema = z.object({
  type: z.literal('sessionEnded'),
  sessionId: z.string(),
  reason: z.string(),
  code: z.string().optional(),
  message: z.string().optional(),
});

const upstreamStateSchema = z.object({
  state: z.enum(['retrying', 'connected', 'unavailable']),
  // Shown to people only: a reason this build does not know is still worth printing.
  reason: z.string().optional(),
  detail: z.string().optional(),
  message: z.string().optional(),
  attempt: z.number().optional(),
  retryAt: z.string().optional(),
});

const upstreamEventSchema = z.object({
  type: z.literal('upstream'),
  sessionId: z.string(),
  ...upstreamStateSchema.shape,
});

export type ErrorNotice = z.infer<typeof errorNoticeSchema>;
export type SessionEnd = z.infer<typeof sessionEndSchema>;
export type UpstreamState = z.infer<typeof upstreamStateSchema>;
/** How the stack's link to Genesys is doing, from an `upstream` event. */
export interface UpstreamNotice {
  readonly type: 'upstream';
  readonly sessionId: string;
  readonly upstream: UpstreamState;
}

export type RunnerEvent =
  | Exclude<ServerEvent, { type: 'error' | 'sessionEnded' | 'upstream' }>
  | ErrorNotice
  | SessionEnd
  | UpstreamNotice;

/** The event in one frame, or undefined for a frame the runner has no use for (unknown or malformed). */
export function readFrame(text: string): RunnerEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  if (type === 'error') return errorNoticeSchema.safeParse(value).data;
  if (type === 'sessionEnded') return sessionEndSchema.safeParse(value).data;
  if (type === 'upstream') {
    const parsed = upstreamEventSchema.safeParse(value);
    if (!parsed.success) return undefined;
    const { type: _type, sessionId, ...upstream } = parsed.data;
    return { type: 'upstream', sessionId, upstream };
  }
  const parsed = parseServerEvent(text);
  if (!parsed.ok) return undefined;
  const event: ServerEvent = parsed.event;
  // Read above, by their own schemas.
  if (event.type === 'error' || event.type === 'sessionEnded' || event.type === 'upstream') return undefined;
  return event;
}

/** Codes that mean Genesys cannot be used for this session: the step fails at once, whatever it waits for. */
const UPSTREAM_FAILURES: ReadonlySet<string> = new Set([
  'upstream_rejected',
  'upstream_unavailable',
  'deployment_not_allowed',
]);

/** What the runner has sent on a conversation, to tell an answer to its own frames from a failure. */
export interface SentFrames {
  readonly clientMessageIds: ReadonlySet<string>;
  /** Actions sent without a clientMessageId (their refusals name only the action). */
  readonly actions: ReadonlySet<string>;
}

function aboutSentFrame(error: ErrorNotice, sent: SentFrames): boolean {
  if (error.clientMessageId !== undefined) return sent.clientMessageIds.has(error.clientMessageId);
  return error.action !== undefined && sent.actions.has(error.action);
}

/**
 * Why an event ends the current step at once, or undefined when it does not: an upstream failure code,
 * an error that is not retryable and answers none of the frames the runner sent (a refusal of one of
 * those is the step's own business: it names the step), a session ended by an error, Genesys unavailable.
 */
export function fatalReason(event: RunnerEvent, sent: SentFrames): string | undefined {
  switch (event.type) {
    case 'error':
      if (UPSTREAM_FAILURES.has(event.code) || (event.retryable !== true && !aboutSentFrame(event, sent)))
        return `${event.code}: ${event.message}`;
      return undefined;
    case 'sessionEnded':
      if (event.reason !== 'error') return undefined;
      return event.code === undefined && event.message === undefined
        ? 'the session ended with an error (the stack gave no reason)'
        : `the session ended with an error: ${[event.code, event.message].filter(Boolean).join(': ')}`;
    case 'upstream':
      if (event.upstream.state !== 'unavailable') return undefined;
      return `Genesys is unavailable (${why(event.upstream) || 'no reason given'})${
        event.upstream.message === undefined ? '' : `: ${event.upstream.message}`
      }`;
    default:
      return undefined;
  }
}

function why(upstream: UpstreamState): string {
  return [upstream.reason, upstream.detail].filter((part) => part !== undefined).join(': ');
}

/**
 * One line for a person: "Genesys retrying (refused: ECONNREFUSED): <the stack's message>", or, from a
 * stack that sends no message, the attempt and the next try.
 */
export function describeUpstream(upstream: UpstreamState): string {
  const reason = why(upstream);
  const head = `Genesys ${upstream.state}${reason === '' ? '' : ` (${reason})`}`;
  if (upstream.message !== undefined) return `${head}: ${upstream.message}`;
  const more: string[] = [];
  if (upstream.attempt !== undefined) more.push(`attempt ${upstream.attempt}`);
  if (upstream.retryAt !== undefined && upstream.state === 'retrying')
    more.push(`next try at ${upstream.retryAt}`);
  return [head, ...more].join(', ');
}
