/**
 * `send`: the guest's message becomes one command on the session item, admitted, numbered and stored
 * whole in one conditional write (CommandQueue.submitSend), then the doorbell carries it to the owner.
 * Reads before the write: the connection's row (only on a container that has not seen it), then the
 * session item and, for a keyed send, the key's marker, in one request. A retried clientMessageId gets the
 * first message back, pending or settled.
 */
import { randomUUID } from 'node:crypto';
import { ringDoorbell } from '../commands/doorbell.js';
import { messageEvent } from '../commands/events.js';
import type { SendOutcome } from '../commands/queue.js';
import { entryOf } from '../commands/reader.js';
import { sendCommandId } from '../commands/types.js';
import type { ContentItem, MessageEvent, SendAction } from '../protocol/index.js';
import type { SessionRecord } from '../store/sessions.js';
import { fingerprintOf, type SendKey, type TranscriptEntry } from '../store/transcript.js';
import {
  assertAllowed,
  assertRoom,
  callerOf,
  commandRefusal,
  mapStoreError,
  type RelayEvent,
  refusal,
  reparse,
  retryAfterFor,
  sessionWith,
} from './access.js';
import type { RelayDeps } from './deps.js';

export function createSendHandler(deps: RelayDeps) {
  return async (event: RelayEvent<SendAction>): Promise<MessageEvent> => {
    const caller = callerOf(event);
    assertAllowed(caller, event.frame);
    const clientMessageId = event.frame.clientMessageId;
    const readKey = (sessionId: string): Promise<SendKey | undefined> =>
      clientMessageId === undefined
        ? Promise.resolve(undefined)
        : deps.transcript.getKey(sessionId, clientMessageId);
    // A keyed send reads its key's marker in the same request as the session item.
    const read = await sessionWith(
      deps,
      caller,
      event.frame,
      {},
      clientMessageId === undefined ? undefined : (id) => deps.sessions.getWithSendKey(id, clientMessageId),
    );
    const { session } = read;
    const frame = reparse(event, session.constraints);
    const retryAfterMs = retryAfterFor(session.constraints);
    const content = contentOf(frame);
    const fingerprint =
      clientMessageId === undefined
        ? undefined
        : fingerprintOf({
            direction: 'guest',
            content,
            ...(frame.text === undefined ? {} : { text: frame.text }),
          });
    let key = read.key;
    // The session item refuses a settled key only for a while (CommandQueue's settle horizon): a write
    // that comes long after the marker was read must read it again.
    if (key === undefined && performance.now() - read.readAt > deps.queue.options.settleHorizonMs / 2) {
      key = await readKey(session.sessionId).catch((error: unknown) => {
        throw mapStoreError(frame, error, retryAfterMs);
      });
    }
    const entryId = randomUUID();
    const commandId = sendCommandId(clientMessageId, entryId);
    // Settled: the marker names the entry. (Still pending? Then the item has it, and the write says so.)
    if (key !== undefined && session.pending[commandId] === undefined) {
      return retried(deps, frame, session, key.seq, key.fingerprint, fingerprint);
    }
    let outcome: SendOutcome;
    try {
      if (session.pending[commandId] === undefined) assertRoom(deps, frame, session);
      outcome = await deps.queue.submitSend(session, {
        id: commandId,
        entryId,
        content,
        ...(frame.text === undefined ? {} : { text: frame.text }),
        ...(clientMessageId === undefined ? {} : { clientMessageId }),
        ...(fingerprint === undefined ? {} : { fingerprint }),
      });
    } catch (error) {
      throw commandRefusal(frame, error, retryAfterMs);
    }
    if (outcome.kind === 'settled') {
      return retried(deps, frame, outcome.session, outcome.seq, undefined, fingerprint);
    }
    const { command } = outcome;
    // A retry rings again: the first attempt may have died between its write and its doorbell.
    const bell = await ringDoorbell(deps, { session: outcome.session, commands: [command] });
    const entry = entryOf(session.sessionId, command);
    if (entry === undefined) throw new Error('a new send has an entry');
    if (outcome.kind === 'pending') {
      const written = await deps.transcript.get(session.sessionId, command.seq).catch(() => undefined);
      return messageEvent(written ?? entry, { queued: bell.queued });
    }
    return messageEvent(entry, { queued: bell.queued });
  };
}

/** The answer to a retry whose send was settled: its entry as the transcript has it now. */
async function retried(
  deps: RelayDeps,
  frame: SendAction,
  session: SessionRecord,
  seq: number,
  storedFingerprint: string | undefined,
  fingerprint: string | undefined,
): Promise<MessageEvent> {
  let entry: TranscriptEntry | undefined;
  try {
    entry = await deps.transcript.get(session.sessionId, seq);
  } catch (error) {
    throw mapStoreError(frame, error, retryAfterFor(session.constraints));
  }
  if (entry === undefined) {
    // The key names a number whose entry is not written: only an unfinished write can leave that.
    throw refusal(frame, 'service_unavailable', 'The message is still being stored; try again shortly.', {
      retryAfterMs: retryAfterFor(session.constraints),
    });
  }
  const same =
    storedFingerprint !== undefined
      ? storedFingerprint === fingerprint
      : fingerprint === undefined ||
        fingerprint ===
          fingerprintOf({
            direction: entry.direction,
            content: entry.content,
            ...(entry.text === undefined ? {} : { text: entry.text }),
          });
  if (!same) {
    throw refusal(
      frame,
      'conflict',
      'This clientMessageId was already used in this session for a different command.',
    );
  }
  return messageEvent(entry);
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
