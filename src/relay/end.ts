/** `end`: the guest ends the session. Stored as one `end` command (idempotent by id), then the doorbell. */
import { ringDoorbell } from '../commands/doorbell.js';
import type { AckEvent, EndAction } from '../protocol/index.js';
import { assertAllowed, callerOf, queueCommand, type RelayEvent, sessionFor } from './access.js';
import type { RelayDeps } from './deps.js';

export const END_COMMAND_ID = 'end';

export function createEndHandler(deps: RelayDeps) {
  return async (event: RelayEvent<EndAction>): Promise<AckEvent> => {
    const caller = callerOf(event);
    const { frame } = event;
    assertAllowed(caller, frame);
    const session = await sessionFor(deps, caller, frame, { allowReadOnly: true });
    const { sessionId } = session;
    const command = { id: END_COMMAND_ID, type: 'end', reason: 'guest', createdAt: deps.now() } as const;
    const after = await queueCommand(deps, frame, sessionId, command);
    const bell = await ringDoorbell(deps, { session: after, commands: [command] });
    return {
      type: 'ack',
      action: 'end',
      sessionId,
      ...(frame.clientMessageId === undefined ? {} : { clientMessageId: frame.clientMessageId }),
      ...(bell.queued ? { queued: true } : {}),
    };
  };
}
