/**
 * `upload`: checked against the session's attachment constraints (attachment_* codes), then stored as
 * an upload item (SessionStore.putUpload: inline bytes, caption, send flag; a pending command is capped
 * at 4 KB) and an `upload` command (`upload#<uploadId>`) for the owner, then the doorbell. The worker
 * asks Genesys for the presigned URL (slot: `upload` event to the frontend) or does the PUT (inline).
 */
import { randomUUID } from 'node:crypto';
import { ringDoorbell } from '../commands/doorbell.js';
import type { UploadCommand } from '../commands/types.js';
import type { AckEvent, UploadAction } from '../protocol/index.js';
import type { SessionRecord } from '../store/sessions.js';
import {
  assertAllowed,
  assertRoom,
  callerOf,
  commandRefusal,
  type RelayEvent,
  reparse,
  retryAfterFor,
  sessionFor,
} from './access.js';
import type { RelayDeps } from './deps.js';

export function createUploadHandler(deps: RelayDeps) {
  return async (event: RelayEvent<UploadAction>): Promise<AckEvent> => {
    const caller = callerOf(event);
    assertAllowed(caller, event.frame);
    const session = await sessionFor(deps, caller, event.frame);
    const frame = reparse(event, session.constraints);
    const { sessionId } = session;
    const uploadId = frame.uploadId ?? frame.clientMessageId ?? randomUUID();
    const commandId = `upload#${uploadId}`;
    let after: SessionRecord;
    const command: UploadCommand = {
      id: commandId,
      type: 'upload',
      upload: {
        uploadId,
        filename: frame.filename,
        contentType: frame.contentType,
        size: frame.size,
        ...(frame.data === undefined ? {} : { inline: true }),
      },
      createdAt: deps.now(),
    };
    try {
      if (session.pending[commandId] === undefined) assertRoom(deps, frame, session);
      await deps.sessions.putUpload(sessionId, {
        uploadId,
        send: frame.send,
        ...(frame.caption === undefined ? {} : { caption: frame.caption }),
        ...(frame.data === undefined ? {} : { data: frame.data }),
        ...(frame.clientMessageId === undefined ? {} : { clientMessageId: frame.clientMessageId }),
      });
      ({ session: after } = await deps.queue.submit(sessionId, command));
    } catch (error) {
      throw commandRefusal(frame, error, retryAfterFor(session.constraints));
    }
    const bell = await ringDoorbell(deps, { session: after, commands: [command] });
    return {
      type: 'ack',
      action: 'upload',
      sessionId,
      uploadId,
      ...(frame.clientMessageId === undefined ? {} : { clientMessageId: frame.clientMessageId }),
      ...(bell.queued ? { queued: true } : {}),
    };
  };
}
