/**
 * `$default`: API Gateway sends here what no route takes. Frames that do not parse were already
 * answered by the body parser (`invalid_json`, `unknown_action`, ...); a valid frame (a deployment
 * without that route) is handled by its own handler, so the relay also works behind `$default` alone.
 */
import type { ClientAction, ClientFrame, ServerEvent } from '../protocol/index.js';
import type { RelayEvent } from './access.js';

export type ActionHandlers = {
  readonly [A in ClientAction]: (
    event: RelayEvent<Extract<ClientFrame, { action: A }>>,
  ) => Promise<ServerEvent | ServerEvent[]>;
};

export function createDefaultHandler(handlers: ActionHandlers) {
  return (event: RelayEvent): Promise<ServerEvent | ServerEvent[]> => {
    const handler = handlers[event.frame.action] as (e: RelayEvent) => Promise<ServerEvent | ServerEvent[]>;
    return handler(event);
  };
}
