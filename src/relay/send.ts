/**
 * `send`: the guest's message is admitted (a bounded number of sends per session are stored at once),
 * becomes a transcript entry (pending) and a `send` command for the owner, in that order, then the
 * doorbell. A retried clientMessageId returns the first entry.
 */
import type { ContentItem, MessageEvent, SendAction } from '../protocol/index.js';
import { StoreError } from '../store/errors.js';
import { AdmissionError, type SessionRecord } from '../store/sessions.js';
import type { AppendResult } from '../store/transcript.js';
import {
  assertAllowed,
  assertRoom,
  callerOf,
  commandRefusal,
  mapStoreError,
  type RelayEvent,
  reparse,
  retryAfterFor,
  sessionFor,
  tooManyAtOnce,
} from './access.js';
import type { RelayDeps } from './deps.js';
import { ringDoorbell } from './doorbell.js';
import { messageEvent } from './entries.js';

export function createSendHandler(deps: RelayDeps) {
  return async (event: RelayEvent<SendAction>): Promise<MessageEvent> => {
    const caller = callerOf(event);
    assertAllowed(caller, event.frame);
    const session = await sessionFor(deps, caller, event.frame);
    const frame = reparse(event, session.constraints);
    const retryAfterMs = retryAfterFor(session.constraints);
    const { sessionId } = session;

    const ticket = await admitUnlessRetry(deps, frame, session, retryAfterMs);
    let ownerId: string | undefined;
    let appended: AppendResult;
    let released = false; // the ticket goes back with the command's write
    try {
      appended = await appendEntry(deps, frame, sessionId, retryAfterMs);
      const { entry, created } = appended;
      // A retry re-queues its command only while the entry is still pending: once the worker has sent it
      // (and completed the command), queuing it again would send it twice.
      if (created || entry.status === 'pending') {
        try {
          const queued = await deps.sessions.addPending(
            sessionId,
            { id: entry.entryId, type: 'send', seq: entry.seq, createdAt: deps.now() },
            ticket === undefined ? {} : { releaseTicket: ticket },
          );
          ({ ownerId } = queued);
          released = queued.added; // an already-pending command (a concurrent retry) wrote nothing
        } catch (error) {
          if (created) await failOrphan(deps, sessionId, entry.seq, error);
          throw commandRefusal(frame, error, retryAfterMs);
        }
      }
    } finally {
      if (ticket !== undefined && !released) await deps.sessions.releaseSend(sessionId, ticket);
    }
    const { entry } = appended;
    const bell = ownerId === undefined ? { queued: false } : await ringDoorbell(deps, { sessionId, ownerId });
    return messageEvent(entry, { queued: bell.queued });
  };
}

/**
 * The send's admission ticket, or undefined for a retry of a stored `clientMessageId`: a retry must find
 * its entry even when the queue is full now, so it needs none. The look-up and the admission run side by
 * side (one store round trip on the common path); a retry gives back the ticket it did not need.
 */
async function admitUnlessRetry(
  deps: RelayDeps,
  frame: SendAction,
  session: SessionRecord,
  retryAfterMs: number,
): Promise<string | undefined> {
  const { sessionId } = session;
  if (frame.clientMessageId === undefined) return admit(deps, frame, session, retryAfterMs);
  const [found, admitted] = await Promise.allSettled([
    deps.transcript.findByKey(sessionId, { clientMessageId: frame.clientMessageId }),
    admit(deps, frame, session, retryAfterMs),
  ]);
  const ticket = admitted.status === 'fulfilled' ? admitted.value : undefined;
  if (found.status === 'rejected' || found.value !== undefined) {
    if (ticket !== undefined) await deps.sessions.releaseSend(sessionId, ticket);
    if (found.status === 'rejected') throw mapStoreError(frame, found.reason, retryAfterMs);
    return undefined;
  }
  if (admitted.status === 'rejected') throw admitted.reason;
  return ticket;
}

/**
 * Admission before the append (SessionStore.admitSend): a burst beyond the queue bound, or beyond the
 * sends one session may store at once, is refused here with `rate_limited`, at the cost of one write.
 */
async function admit(
  deps: RelayDeps,
  frame: SendAction,
  session: SessionRecord,
  retryAfterMs: number,
): Promise<string> {
  assertRoom(deps, frame, session);
  try {
    return await deps.sessions.admitSend(session.sessionId);
  } catch (error) {
    if (error instanceof AdmissionError && error.refusal === 'admitting') {
      throw tooManyAtOnce(frame, retryAfterMs);
    }
    throw commandRefusal(frame, error, retryAfterMs);
  }
}

async function appendEntry(
  deps: RelayDeps,
  frame: SendAction,
  sessionId: string,
  retryAfterMs: number,
): Promise<AppendResult> {
  try {
    return await deps.transcript.append(sessionId, {
      direction: 'guest',
      status: 'pending',
      content: contentOf(frame),
      ...(frame.text === undefined ? {} : { text: frame.text }),
      ...(frame.clientMessageId === undefined ? {} : { clientMessageId: frame.clientMessageId }),
    });
  } catch (error) {
    throw mapStoreError(frame, error, retryAfterMs);
  }
}

/**
 * The entry was stored but its command could not be (the queue filled up or the session ended in
 * between, a race the pre-check cannot close): mark it failed so it never waits for a send that will
 * not come. Best effort; the original error is what the caller sees.
 */
async function failOrphan(deps: RelayDeps, sessionId: string, seq: number, cause: unknown): Promise<void> {
  const code =
    cause instanceof StoreError && cause.code === 'STORE_QUEUE_FULL'
      ? 'rate_limited'
      : cause instanceof StoreError && cause.code === 'STORE_CONFLICT'
        ? 'session_ended'
        : 'internal_error';
  try {
    await deps.transcript.updateStatus(sessionId, seq, {
      to: 'failed',
      failure: { code, message: 'The message could not be queued for sending.' },
    });
  } catch (error) {
    deps.logger.error('could not mark an unqueued entry failed', { sessionId, seq, error });
  }
}

function contentOf(frame: SendAction): ContentItem[] {
  const content: ContentItem[] = (frame.attachmentIds ?? []).map((id) => ({ kind: 'attachment', id }));
  if (frame.reply !== undefined) {
    content.push({
      kind: 'buttonResponse',
      type: frame.reply.type,
      text: frame.reply.text,
      payload: frame.reply.payload,
    });
  }
  return content;
}
