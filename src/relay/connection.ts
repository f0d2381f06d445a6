/** `$connect` and `$disconnect`: the connection's row in the connections table. */

import { callerOf, type RelayEvent } from './access.js';
import type { RelayDeps } from './deps.js';

export type ConnectionEvent = Pick<RelayEvent, 'requestContext'>;

/**
 * `$connect`: the authorizer has already run, so its claims are on the event. Writes the row with team,
 * role and subject; a retried `$connect` rewrites the same row. No claims → 403 (the API must not be open).
 */
export function createConnectHandler(deps: Pick<RelayDeps, 'connections' | 'now' | 'logger'>) {
  return async (event: ConnectionEvent): Promise<{ statusCode: number }> => {
    let caller: ReturnType<typeof callerOf>;
    try {
      caller = callerOf(event);
    } catch {
      deps.logger.warn('$connect without access claims refused');
      return { statusCode: 403 };
    }
    await deps.connections.put({
      connectionId: caller.connectionId,
      team: caller.team,
      role: caller.role,
      connectedAt: event.requestContext.connectedAt ?? deps.now(),
      ...(caller.expiresAt === undefined ? {} : { tokenExpiresAt: caller.expiresAt }),
    });
    return { statusCode: 200 };
  };
}

/**
 * `$disconnect`: deletes the row, and takes the connection off its session (idempotent; rows whose
 * disconnect never comes expire by TTL, and the session's owner forgets them on its first 410).
 */
export function createDisconnectHandler(
  deps: Pick<RelayDeps, 'connections' | 'connectionCache' | 'sessions'>,
) {
  return async (event: ConnectionEvent): Promise<{ statusCode: number }> => {
    const { connectionId } = event.requestContext;
    deps.connectionCache.delete(connectionId);
    const row = await deps.connections.delete(connectionId);
    if (row?.sessionId !== undefined) await deps.sessions.detachConnections(row.sessionId, [connectionId]);
    return { statusCode: 200 };
  };
}
