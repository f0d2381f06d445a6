/**
 * `history`: one page of the transcript, ascending. Forward from `afterSequenceId`, backward from
 * `beforeSequenceId`, or the newest page. A page that would not fit in one API Gateway message (128 KB)
 * is shortened at its far end and reports `hasMore: true`. Entries not yet written to the transcript
 * come from the session item (src/commands/reader.ts): a page never has a gap.
 *
 * Without a `sessionId` it reads the connection's session; with one, that session, read by its id
 * (`readableSession`): no `connect` first, so a session that has ended can still be read (and exported).
 */

import { wireEntry } from '../commands/events.js';
import { readTranscript } from '../commands/reader.js';
import {
  DEFAULT_HISTORY_LIMIT,
  fitsInOneMessage,
  type HistoryAction,
  type HistoryEvent,
  serializeEvent,
} from '../protocol/index.js';
import {
  assertAllowed,
  callerOf,
  mapStoreError,
  type RelayEvent,
  readableSession,
  sessionFor,
} from './access.js';
import type { RelayDeps } from './deps.js';

export function createHistoryHandler(deps: RelayDeps) {
  return async (event: RelayEvent<HistoryAction>): Promise<HistoryEvent> => {
    const caller = callerOf(event);
    const { frame } = event;
    assertAllowed(caller, frame);
    const session =
      frame.sessionId === undefined
        ? await sessionFor(deps, caller, frame, { allowEnded: true, allowReadOnly: true })
        : await readableSession(deps, caller, frame, frame.sessionId);
    const forward = frame.afterSequenceId !== undefined;
    let page: Awaited<ReturnType<RelayDeps['transcript']['page']>>;
    try {
      page = await readTranscript(deps.transcript, session, {
        limit: frame.limit ?? DEFAULT_HISTORY_LIMIT,
        direction: forward ? 'forward' : 'backward',
        ...(frame.afterSequenceId === undefined ? {} : { after: frame.afterSequenceId }),
        ...(frame.beforeSequenceId === undefined ? {} : { before: frame.beforeSequenceId }),
      });
    } catch (error) {
      throw mapStoreError(frame, error);
    }
    // Nearest first: forward pages are ascending already, backward pages descending.
    const entries = page.entries.map(wireEntry);
    let hasMore = page.cursor !== undefined;
    const build = (list: typeof entries): HistoryEvent => ({
      type: 'history',
      sessionId: session.sessionId,
      entries: forward ? list : [...list].reverse(),
      hasMore,
    });
    let answer = build(entries);
    while (!fitsInOneMessage(serializeEvent(answer)) && entries.length > 1) {
      entries.pop();
      hasMore = true;
      answer = build(entries);
    }
    return answer;
  };
}
