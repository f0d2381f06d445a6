/**
 * The states of one guest session and the transitions between them. The table is the contract that
 * `GuestSession` obeys (it asserts every move against it) and that docs/genesys-client.md draws.
 */

export const SessionState = Object.freeze({
  /** Built, `start()` not called yet. Sends queue up. */
  idle: 'idle',
  /** A socket is being opened. */
  connecting: 'connecting',
  /** The socket is open and `configureSession` was sent; waiting for the SessionResponse. */
  configuring: 'configuring',
  /** Configured and writable: sends go out, paced. */
  ready: 'ready',
  /** Configured, but the conversation ended and the deployment made it read-only: sends are refused. */
  readOnly: 'readOnly',
  /** The socket is gone by accident; a new one opens after the backoff delay. Sends queue up. */
  reconnecting: 'reconnecting',
  /** `close()` or `end()` was called: nothing new is sent; waiting for the socket to close. */
  closing: 'closing',
  /** Terminal: closed on purpose, or Genesys closed the connection for good. */
  closed: 'closed',
  /** Terminal: Genesys expired the session (SessionExpiredEvent or 4006). A new token is needed. */
  expired: 'expired',
} as const);

export type SessionState = (typeof SessionState)[keyof typeof SessionState];

const S = SessionState;

/** Every allowed move. Any state may also go to `closing` (close/end) and to a terminal state. */
export const TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = Object.freeze({
  idle: [S.connecting, S.closing, S.closed],
  connecting: [S.configuring, S.reconnecting, S.closing, S.closed, S.expired],
  // configuring → configuring: startNew sends closeSession, then configureSession{startNew:true}.
  configuring: [S.ready, S.readOnly, S.configuring, S.reconnecting, S.closing, S.closed, S.expired],
  ready: [S.readOnly, S.reconnecting, S.closing, S.closed, S.expired],
  readOnly: [S.configuring, S.reconnecting, S.closing, S.closed, S.expired],
  reconnecting: [S.connecting, S.closing, S.closed, S.expired],
  closing: [S.closed, S.expired],
  closed: [],
  expired: [],
});

export function canTransition(from: SessionState, to: SessionState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** No way out: the session is finished, every timer and socket is released. */
export function isTerminal(state: SessionState): boolean {
  return state === S.closed || state === S.expired;
}
