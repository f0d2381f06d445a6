import type { PingAction, PongEvent } from '../protocol/index.js';
import type { RelayEvent } from './access.js';
import type { RelayDeps } from './deps.js';

/** `ping`: liveness; needs no session (and reads nothing). */
export function createPingHandler(deps: Pick<RelayDeps, 'now'>) {
  return async (event: RelayEvent<PingAction>): Promise<PongEvent> => ({
    type: 'pong',
    ...(event.frame.nonce === undefined ? {} : { nonce: event.frame.nonce }),
    time: new Date(deps.now()).toISOString(),
  });
}
