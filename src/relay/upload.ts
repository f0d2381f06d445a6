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
import type { QuotaRefusal } from '../store/quotas.js';
import type { SessionRecord } from '../store/sessions.js';
import {
  assertAllowed,
  assertRoom,
  type Caller,
  callerOf,
  commandRefusal,
  mapStoreError,
  type RelayEvent,
  refusal,
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
        ...(frame.data === undefined ? { connectionId: caller.connectionId } : { inline: true }),
      },
      createdAt: deps.now(),
    };
    if (session.pending[commandId] === undefined) await chargeUpload(deps, caller, frame);
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

/**
 * Counts the declared size against the hour's upload bytes of the subject and the team (a retry of an
 * upload still pending is not counted again). Refused: `rate_limited` naming the quota.
 */
async function chargeUpload(deps: RelayDeps, caller: Caller, frame: UploadAction): Promise<void> {
  let refused: QuotaRefusal | undefined;
  try {
    refused = await deps.quotas.chargeUpload(
      { team: caller.team, subject: caller.subject },
      frame.size,
      deps.teamPolicy.forTeam(caller.team).quotas,
    );
  } catch (error) {
    throw mapStoreError(frame, error);
  }
  if (refused !== undefined) {
    throw refusal(frame, 'rate_limited', refused.message, {
      retryAfterMs: refused.retryAfterMs,
      details: { quota: refused.quota, limit: refused.limit },
    });
  }
}
