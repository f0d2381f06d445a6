/**
 * `send`: the guest's message becomes a transcript entry (pending) and a `send` command for the owner,
 * in that order, then the doorbell. A retried clientMessageId returns the first entry.
 */
import type { ContentItem, MessageEvent, SendAction } from '../protocol/index.js';
import { StoreError } from '../store/errors.js';
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

    let appended: AppendResult;
    try {
      if (frame.clientMessageId !== undefined) {
        // A retry must find its entry even when the queue is full now.
        const first = await deps.transcript.findByKey(sessionId, { clientMessageId: frame.clientMessageId });
        if (first === undefined) assertRoom(deps, frame, session);
      } else {
        assertRoom(deps, frame, session);
      }
      appended = await deps.transcript.append(sessionId, {
        direction: 'guest',
        status: 'pending',
        content: contentOf(frame),
        ...(frame.text === undefined ? {} : { text: frame.text }),
        ...(frame.clientMessageId === undefined ? {} : { clientMessageId: frame.clientMessageId }),
      });
    } catch (error) {
      throw mapStoreError(frame, error, retryAfterMs);
    }
    const { entry, created } = appended;

    let ownerId: string | undefined;
    // A retry re-queues its command only while the entry is still pending: once the worker has sent it
    // (and completed the command), queuing it again would send it twice.
    if (created || entry.status === 'pending') {
      try {
        ({ ownerId } = await deps.sessions.addPending(sessionId, {
          id: entry.entryId,
          type: 'send',
          seq: entry.seq,
          createdAt: deps.now(),
        }));
      } catch (error) {
        if (created) await failOrphan(deps, sessionId, entry.seq, error);
        throw commandRefusal(frame, error, retryAfterMs);
      }
    }
    const bell = ownerId === undefined ? { queued: false } : await ringDoorbell(deps, { sessionId, ownerId });
    return messageEvent(entry, { queued: bell.queued });
  };
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
