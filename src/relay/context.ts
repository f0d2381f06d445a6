/**
 * `context`: UI state → the session's custom attributes. Flattened, merged (RFC 7396) or replaced,
 * checked against the session's `maxCustomDataBytes` (nothing changes when over), then stored with its
 * `context` command (`context#<rev>`) in one write, optimistic on `contextRev`, and the doorbell.
 */
import { ringDoorbell } from '../commands/doorbell.js';
import { contextBudgetError, contextByteSize, flattenContext, mergeContext } from '../domain/context.js';
import { ProtocolError } from '../protocol/errors.js';
import type { ContextAction, ContextEvent } from '../protocol/index.js';
import { StoreError } from '../store/errors.js';
import type { SessionRecord } from '../store/sessions.js';
import {
  assertAllowed,
  assertRoom,
  assertUsable,
  callerOf,
  mapStoreError,
  notFound,
  type RelayEvent,
  reparse,
  retryAfterFor,
  sessionFor,
} from './access.js';
import type { RelayDeps } from './deps.js';

/** Concurrent context updates of one session: re-read and re-merge this many times. */
const MAX_ATTEMPTS = 5;

export function createContextHandler(deps: RelayDeps) {
  return async (event: RelayEvent<ContextAction>): Promise<ContextEvent> => {
    const caller = callerOf(event);
    assertAllowed(caller, event.frame);
    let session: SessionRecord = await sessionFor(deps, caller, event.frame);
    const frame = reparse(event, session.constraints);
    const context = { action: frame.action, clientMessageId: frame.clientMessageId };
    const patch = flattenContext(frame.data);
    const { sessionId } = session;

    for (let attempt = 1; ; attempt++) {
      assertRoom(deps, frame, session);
      const attributes = frame.mode === 'replace' ? patch.attributes : mergeContext(session.context, patch);
      const maxBytes = session.constraints.maxCustomDataBytes;
      const over = contextBudgetError(attributes, maxBytes);
      if (over) throw ProtocolError.fromDomain(over, context);
      const bytes = contextByteSize(attributes);
      let stored: Awaited<ReturnType<RelayDeps['queue']['submitContext']>>;
      try {
        stored = await deps.queue.submitContext(session, {
          attributes,
          bytes,
          ...(frame.flush === undefined ? {} : { flush: frame.flush }),
        });
      } catch (error) {
        if (!(error instanceof StoreError && error.code === 'STORE_CONFLICT')) {
          throw mapStoreError(frame, error, retryAfterFor(session.constraints));
        }
        // Another update came first, or the session ended: read again and decide.
        const again = await deps.sessions.get(sessionId);
        if (again === undefined) throw notFound(frame);
        assertUsable(frame, again);
        if (attempt >= MAX_ATTEMPTS)
          throw mapStoreError(frame, new StoreError('STORE_UNAVAILABLE', 'context contention'));
        session = again;
        continue;
      }
      const command = stored.session.pending[`context#${stored.contextRev}`];
      const bell = await ringDoorbell(deps, {
        session: stored.session,
        ...(command === undefined ? {} : { commands: [command] }),
      });
      return {
        type: 'context',
        sessionId,
        attributes,
        bytes,
        maxBytes,
        state: 'pending',
        ...(frame.clientMessageId === undefined ? {} : { clientMessageId: frame.clientMessageId }),
        ...(bell.queued ? { queued: true } : {}),
      };
    }
  };
}
