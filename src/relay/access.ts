/**
 * Who is asking (the authorizer's claims on the event), what their role may do, and which session a
 * frame acts on. Every refusal here is a ProtocolError, answered as one `error` event.
 */
import { ACCESS_TOKEN_ROLES, type AccessTokenRole } from '../auth/tokens.js';
import type { ContextCommand, EndCommand, UploadCommand } from '../commands/types.js';
import type { ChannelConstraints } from '../domain/constraints.js';
import { type ClientAction, type ClientFrame, ProtocolError, parseClientFrame } from '../protocol/index.js';
import { StoreError } from '../store/errors.js';
import type { SessionRecord } from '../store/sessions.js';
import type { SendKey } from '../store/transcript.js';
import type { RelayDeps } from './deps.js';

/** The part of an API Gateway WebSocket event the relay reads (WsEvent / WsFrameEvent fit). */
export interface RelayEvent<TFrame = ClientFrame> {
  readonly requestContext: {
    readonly connectionId: string;
    readonly connectedAt?: number;
    readonly authorizer?: { readonly [key: string]: unknown } | undefined;
  };
  readonly body?: string | undefined;
  readonly isBase64Encoded?: boolean | undefined;
  readonly frame: TFrame;
}

export interface Caller {
  readonly connectionId: string;
  readonly team: string;
  readonly role: AccessTokenRole;
  readonly subject?: string;
  /** When the access token the connection was opened with expires (epoch ms), when the gateway says. */
  readonly expiresAt?: number;
}

/** The caller from `requestContext.authorizer` (the authorizer already ran on `$connect`). */
export function callerOf(event: Pick<RelayEvent, 'requestContext'>): Caller {
  const { connectionId, authorizer } = event.requestContext;
  const team = authorizer?.team;
  const role = authorizer?.role;
  if (typeof team !== 'string' || team.length === 0 || !isRole(role)) {
    throw new ProtocolError('forbidden', 'This connection carries no valid access claims.');
  }
  const subject = authorizer?.subject;
  // API Gateway hands context values on as strings, numbers or booleans; either form is read.
  const expiresAt = Number(authorizer?.expiresAt);
  return {
    connectionId,
    team,
    role,
    ...(typeof subject === 'string' && subject.length > 0 ? { subject } : {}),
    ...(Number.isFinite(expiresAt) && expiresAt > 0 ? { expiresAt } : {}),
  };
}

function isRole(value: unknown): value is AccessTokenRole {
  return typeof value === 'string' && (ACCESS_TOKEN_ROLES as readonly string[]).includes(value);
}

/** What `agent-console` may do: watch a session (resume it, read its history) and ping. */
const AGENT_CONSOLE_ACTIONS: ReadonlySet<ClientAction> = new Set(['connect', 'history', 'ping']);

/** What anyone of the team may do in a session someone else started (with a role that allows it). */
const WATCH_ACTIONS: ReadonlySet<ClientAction> = new Set(['connect', 'history', 'ping']);

/**
 * The roles (docs/security.md): `guest` acts in the sessions it started; `agent-console` watches any
 * session of its team (resume, history) and starts none; `admin` is a guest that may also watch any
 * session of its team and end it (cleaning up a teammate's forgotten sessions), but never speak in it.
 */
export function assertAllowed(caller: Caller, frame: ClientFrame): void {
  if (caller.role !== 'agent-console') return;
  const resume = frame.action === 'connect' && frame.sessionId !== undefined;
  if (AGENT_CONSOLE_ACTIONS.has(frame.action) && (frame.action !== 'connect' || resume)) return;
  throw refusal(
    frame,
    'forbidden',
    frame.action === 'connect'
      ? 'The agent-console role may resume a session but not start one.'
      : `The agent-console role may not send "${frame.action}".`,
  );
}

/** A ProtocolError that names the frame's action and clientMessageId. */
export function refusal(
  frame: ClientFrame,
  code: ProtocolError['code'],
  message: string,
  extra: { retryAfterMs?: number; details?: Record<string, string | number | boolean> } = {},
): ProtocolError {
  return new ProtocolError(code, message, {
    action: frame.action,
    ...('clientMessageId' in frame && frame.clientMessageId !== undefined
      ? { clientMessageId: frame.clientMessageId }
      : {}),
    ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }),
    ...(extra.details === undefined ? {} : { details: extra.details }),
  });
}

export interface SessionAccess {
  /** Ended sessions may still be read (history). Default false: `session_ended`. */
  readonly allowEnded?: boolean;
  /** Read-only sessions may be read and ended. Default false: `session_read_only`. */
  readonly allowReadOnly?: boolean;
}

/**
 * The session the frame acts on: the connection's current one. `not_connected` when the connection has
 * none; `session_not_found` when the frame names another session, or the session is gone or belongs to
 * another team (the same answer, so existence is not revealed across teams). Two reads in sequence: the
 * connection's row, then the session item (consistent).
 */
export async function sessionFor(
  deps: SessionDeps,
  caller: Caller,
  frame: ClientFrame & { sessionId?: string | undefined },
  access: SessionAccess = {},
): Promise<SessionRecord> {
  return (await sessionWith(deps, caller, frame, access)).session;
}

/** How a session item is read, with what goes beside it (a keyed send's marker: `key`). */
export type SessionRead = (
  sessionId: string,
) => Promise<{ readonly session: SessionRecord | undefined; readonly key?: SendKey | undefined }>;

/**
 * sessionFor, reading the session item with `read` (a keyed send reads its key's marker in the same
 * request: SessionStore.getWithSendKey). `readAt` is when the read was asked for.
 */
export async function sessionWith(
  deps: SessionDeps,
  caller: Caller,
  frame: ClientFrame & { sessionId?: string | undefined },
  access: SessionAccess,
  read: SessionRead = async (sessionId) => ({ session: await deps.sessions.get(sessionId) }),
): Promise<{ session: SessionRecord; key: SendKey | undefined; readAt: number }> {
  const { connectionId } = caller;
  // A connection this container has seen: read the session at once and check that it still names the
  // connection (ConnectionCache). Otherwise, or if it does not, the connections table says which.
  const cached = deps.connectionCache.get(connectionId);
  let found = cached === undefined ? undefined : await readSession(frame, cached.sessionId, read);
  if (found === undefined || !found.session?.conns?.includes(connectionId)) {
    const connection = await deps.connections.get(connectionId).catch((error: unknown) => {
      throw mapStoreError(frame, error);
    });
    const current = connection?.sessionId;
    if (connection === undefined || current === undefined) {
      deps.connectionCache.delete(connectionId);
      throw refusal(frame, 'not_connected', `Send "connect" on this connection before "${frame.action}".`);
    }
    if (connection.team !== caller.team) throw notFound(frame);
    deps.connectionCache.set(connectionId, { sessionId: current });
    if (found?.sessionId !== current) found = await readSession(frame, current, read);
  }
  const { session } = found;
  if (frame.sessionId !== undefined && frame.sessionId !== found.sessionId) throw notFound(frame);
  if (session === undefined || session.team !== caller.team) throw notFound(frame);
  assertOwnerOrWatcher(caller, session, frame);
  assertUsable(frame, session, access);
  try {
    // Sessions stored before the allocator existed get one on first use (no request otherwise).
    const numbered = await deps.queue.ensureAllocator(session, deps.transcript);
    return { session: numbered, key: found.key, readAt: found.readAt };
  } catch (error) {
    throw mapStoreError(frame, error);
  }
}

type SessionDeps = Pick<RelayDeps, 'connections' | 'connectionCache' | 'sessions' | 'queue' | 'transcript'>;

/** The session item (consistent) and what `read` reads beside it, with the frame's error on failure. */
async function readSession(
  frame: ClientFrame,
  sessionId: string,
  read: SessionRead,
): Promise<{
  sessionId: string;
  session: SessionRecord | undefined;
  key: SendKey | undefined;
  readAt: number;
}> {
  const readAt = performance.now();
  try {
    const { session, key } = await read(sessionId);
    return { sessionId, session, key, readAt };
  } catch (error) {
    throw mapStoreError(frame, error);
  }
}

/**
 * A session read by its id, whichever session the connection is on, if any (`history` naming a
 * `sessionId`): how a transcript is read once the session is over, since an ended session can no longer
 * be resumed (`connect` answers `session_ended`). Ended and read-only sessions are readable; everything
 * else is as for any read: another team's session (or none) is `session_not_found`, and only the owner or
 * a role that may watch (`agent-console`, `admin`) reads it. The connection is not attached to it (it
 * gets none of the session's events), so the connection's own session, if any, stays what it was.
 */
export async function readableSession(
  deps: Pick<RelayDeps, 'sessions' | 'queue' | 'transcript'>,
  caller: Caller,
  frame: ClientFrame,
  sessionId: string,
): Promise<SessionRecord> {
  let session: SessionRecord | undefined;
  try {
    session = await deps.sessions.get(sessionId);
  } catch (error) {
    throw mapStoreError(frame, error);
  }
  if (session === undefined || session.team !== caller.team) throw notFound(frame);
  assertOwnerOrWatcher(caller, session, frame);
  assertUsable(frame, session, { allowEnded: true, allowReadOnly: true });
  try {
    return await deps.queue.ensureAllocator(session, deps.transcript);
  } catch (error) {
    throw mapStoreError(frame, error);
  }
}

/** Whether the caller is the subject that started the session (tokens without `sub` are one subject). */
export function ownsSession(caller: Caller, session: Pick<SessionRecord, 'subject'>): boolean {
  return session.subject === caller.subject;
}

/**
 * A session started by someone else may be entered only to watch it, with a role that may (resume and
 * history as `agent-console` or `admin`), or ended by an `admin`. A guest never enters a teammate's
 * session, even knowing its id.
 */
export function assertOwnerOrWatcher(caller: Caller, session: SessionRecord, frame: ClientFrame): void {
  if (ownsSession(caller, session)) return;
  const may =
    (caller.role === 'agent-console' && WATCH_ACTIONS.has(frame.action)) ||
    (caller.role === 'admin' && (WATCH_ACTIONS.has(frame.action) || frame.action === 'end'));
  if (may) return;
  throw refusal(
    frame,
    'forbidden',
    caller.role === 'guest'
      ? 'This session was started by someone else: only they may use it (an agent-console token may watch it).'
      : `The ${caller.role} role may watch a session someone else started, not send "${frame.action}" into it.`,
  );
}

export function notFound(frame: ClientFrame): ProtocolError {
  return refusal(frame, 'session_not_found', 'No session with this id exists for your team.');
}

export function assertUsable(frame: ClientFrame, session: SessionRecord, access: SessionAccess = {}): void {
  if (!access.allowEnded && (session.status === 'ended' || session.status === 'ending')) {
    throw ended(frame);
  }
  if (!access.allowReadOnly && session.status === 'readOnly') {
    throw refusal(
      frame,
      'session_read_only',
      'The agent ended the conversation and it is read-only now; start a new session.',
    );
  }
}

export function ended(frame: ClientFrame): ProtocolError {
  return refusal(
    frame,
    'session_ended',
    'The session has ended; send "connect" without a sessionId to start a new one.',
  );
}

/**
 * The frame parsed again with the session's own constraints (text length, attachment rules, context
 * budget): the route's parser only knew the protocol's ceilings.
 */
export function reparse<T extends ClientFrame>(event: RelayEvent<T>, constraints: ChannelConstraints): T {
  if (event.body === undefined) return event.frame;
  const raw = event.isBase64Encoded ? new Uint8Array(Buffer.from(event.body, 'base64')) : event.body;
  const result = parseClientFrame(raw, { constraints });
  if (!result.ok) throw result.error;
  return result.frame as T;
}

/** Store errors a command can meet, as the protocol codes they stand for; others pass through. */
export function mapStoreError(frame: ClientFrame, error: unknown, retryAfterMs = 1000): unknown {
  if (!(error instanceof StoreError)) return error;
  switch (error.code) {
    case 'STORE_IDEMPOTENCY_MISMATCH':
      return refusal(
        frame,
        'conflict',
        'This clientMessageId was already used in this session for a different command.',
      );
    case 'STORE_QUEUE_FULL':
      return queueFull(frame, retryAfterMs);
    case 'STORE_NOT_FOUND':
      return notFound(frame);
    case 'STORE_UNAVAILABLE':
      return refusal(
        frame,
        'service_unavailable',
        'The store is busy or unavailable; try again (a retry with the same clientMessageId is safe).',
        {
          retryAfterMs,
        },
      );
    default:
      return error;
  }
}

export function queueFull(frame: ClientFrame, retryAfterMs: number): ProtocolError {
  return refusal(
    frame,
    'rate_limited',
    "The session's queue of unsent commands is full; try again shortly.",
    {
      retryAfterMs,
    },
  );
}

/** A wait that lets a full queue drain by a few sends at the session's pace. */
export function retryAfterFor(constraints: ChannelConstraints): number {
  return Math.ceil((1000 / Math.max(1, constraints.sendRatePerSecond)) * 2);
}

/** `queue full` before anything is written: the write's own bounds are the backstop for races. */
export function assertRoom(
  deps: Pick<RelayDeps, 'queue'>,
  frame: ClientFrame,
  session: SessionRecord,
  bytes = 0,
): void {
  const { maxPending, maxPendingBytes } = deps.queue.options;
  if (Object.keys(session.pending).length >= maxPending || session.pendingBytes + bytes > maxPendingBytes) {
    throw queueFull(frame, retryAfterFor(session.constraints));
  }
}

/**
 * Why a command could not be queued, in protocol terms: the queue refuses an ended session with
 * STORE_CONFLICT (`session_ended`); other store failures get their own code (mapStoreError).
 */
export function commandRefusal(frame: ClientFrame, error: unknown, retryAfterMs?: number): unknown {
  if (error instanceof StoreError && error.code === 'STORE_CONFLICT') return ended(frame);
  return mapStoreError(frame, error, retryAfterMs);
}

/** Queues a command that takes no number (durable first); returns the session as the write left it. */
export async function queueCommand(
  deps: Pick<RelayDeps, 'queue'>,
  frame: ClientFrame,
  sessionId: string,
  command: ContextCommand | UploadCommand | EndCommand,
  retryAfterMs?: number,
): Promise<SessionRecord> {
  try {
    return (await deps.queue.submit(sessionId, command)).session;
  } catch (error) {
    throw commandRefusal(frame, error, retryAfterMs);
  }
}
