/**
 * A connection outlives its access token no longer than the next frame: a frame that arrives after the
 * token's `exp` is answered with `token_expired`, and the connection is closed (docs/security.md). The
 * session's owner closes connections that stay silent past their expiry (worker/session-runner.ts).
 */
import { type ErrorEvent, ProtocolError, serializeEvent } from '../protocol/index.js';
import { callerOf, type RelayEvent } from './access.js';
import type { RelayDeps } from './deps.js';

export const TOKEN_EXPIRED_MESSAGE =
  'The access token of this connection has expired; connect again with a fresh token.';

/** The `token_expired` event, as both the relay and the owner send it. */
export function tokenExpiredEvent(action?: string): ErrorEvent {
  return new ProtocolError(
    'token_expired',
    TOKEN_EXPIRED_MESSAGE,
    action === undefined ? {} : { action },
  ).toEvent();
}

/**
 * True when the connection's token has expired: the error has been posted and the connection closed,
 * and the frame must not be handled. False otherwise (and for events without claims: callerOf refuses
 * those where it matters).
 */
export async function closeIfExpired(
  deps: Pick<RelayDeps, 'publicGateway' | 'connectionCache' | 'now' | 'logger'>,
  event: Pick<RelayEvent, 'requestContext'> & { readonly frame?: { readonly action?: string } },
): Promise<boolean> {
  let expiresAt: number | undefined;
  try {
    ({ expiresAt } = callerOf(event));
  } catch {
    return false;
  }
  if (expiresAt === undefined || expiresAt > deps.now()) return false;
  const { connectionId } = event.requestContext;
  deps.connectionCache.delete(connectionId);
  try {
    await deps.publicGateway.post(connectionId, serializeEvent(tokenExpiredEvent(event.frame?.action)));
    await deps.publicGateway.delete(connectionId);
  } catch (error) {
    deps.logger.warn('closing a connection whose token expired failed', { connectionId, error });
  }
  deps.logger.info('connection closed: token expired', { connectionId });
  return true;
}
