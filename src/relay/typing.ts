/**
 * `typing`: ephemeral. Nothing is stored (a lost typing notice is harmless and would only crowd the
 * pending queue); the doorbell goes to a live owner only, with reason `typing`. The owner forwards it
 * upstream at most once per `typingIntervalMs`.
 */
import { ringDoorbell } from '../commands/doorbell.js';
import type { AckEvent, TypingAction } from '../protocol/index.js';
import { assertAllowed, callerOf, type RelayEvent, sessionFor } from './access.js';
import type { RelayDeps } from './deps.js';

export function createTypingHandler(deps: RelayDeps) {
  return async (event: RelayEvent<TypingAction>): Promise<AckEvent> => {
    const caller = callerOf(event);
    assertAllowed(caller, event.frame);
    const session = await sessionFor(deps, caller, event.frame);
    const { sessionId } = session;
    await ringDoorbell(deps, { session, reason: 'typing' });
    return { type: 'ack', action: 'typing', sessionId };
  };
}
