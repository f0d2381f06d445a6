/**
 * `connect`: start a guest session, or resume one of the caller's team and replay what was missed.
 */
import { randomBytes } from 'node:crypto';
import { ringDoorbell } from '../commands/doorbell.js';
import { messageEvent } from '../commands/events.js';
import { readTranscript } from '../commands/reader.js';
import { DEFAULT_CONSTRAINTS } from '../domain/constraints.js';
import { DeploymentRefusal, type ResolvedDeployment } from '../policy/team-policy.js';
import type { ConnectAction, ConnectEvent, MessageEvent } from '../protocol/index.js';
import { StoreError } from '../store/errors.js';
import { NO_OWNER, type SessionRecord, START_COMMAND_ID } from '../store/sessions.js';
import {
  assertAllowed,
  assertOwnerOrWatcher,
  type Caller,
  callerOf,
  ended,
  mapStoreError,
  notFound,
  type RelayEvent,
  refusal,
} from './access.js';
import type { RelayDeps } from './deps.js';

/** Most entries replayed after a resume; the rest is read with `history` (documented in docs/relay.md). */
export const MAX_REPLAY = 500;
const REPLAY_PAGE = 100;

/** The id of the `start` command of a session (one per session: idempotent). */
export { START_COMMAND_ID };

export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

export function createConnectActionHandler(deps: RelayDeps) {
  return async (
    event: RelayEvent<ConnectAction>,
  ): Promise<ConnectEvent | (ConnectEvent | MessageEvent)[]> => {
    const caller = callerOf(event);
    const { frame } = event;
    assertAllowed(caller, frame);
    return frame.sessionId === undefined
      ? start(deps, caller, frame)
      : resume(deps, caller, frame, frame.sessionId);
  };
}

async function start(deps: RelayDeps, caller: Caller, frame: ConnectAction): Promise<ConnectEvent> {
  const { connectionId, team, subject } = caller;
  // Where the session may connect upstream: only what the operator's team policy lists.
  let target: ResolvedDeployment;
  try {
    target = deps.teamPolicy.resolve(team, {
      ...(frame.deploymentId === undefined ? {} : { deploymentId: frame.deploymentId }),
      ...(frame.region === undefined ? {} : { region: frame.region }),
    });
  } catch (error) {
    if (error instanceof DeploymentRefusal) throw refusal(frame, 'deployment_not_allowed', error.message);
    throw error;
  }
  // The row $connect wrote; without it (expired, or removed after a 410) nothing is created.
  if ((await deps.connections.get(connectionId)) === undefined) {
    throw refusal(frame, 'not_connected', 'This connection is not registered any more; open a new one.');
  }
  // With a clientMessageId the start is idempotent: a retry gets the session the first attempt made.
  const proposed = newSessionId();
  const guestInfo = frame.guestInfo === undefined ? undefined : definedStrings(frame.guestInfo);
  let session: SessionRecord | undefined;
  let charged: string | undefined;
  try {
    const sessionId =
      frame.clientMessageId === undefined
        ? proposed
        : await deps.sessions.reserveStart(team, subject, frame.clientMessageId, proposed);
    if (sessionId !== proposed) {
      const existing = await deps.sessions.get(sessionId);
      if (existing !== undefined && (existing.team !== team || existing.subject !== subject)) {
        throw notFound(frame);
      }
      if (existing?.status === 'ended') throw ended(frame);
      session = existing && (await deps.queue.ensureAllocator(existing, deps.transcript));
    }
    const created = session === undefined;
    if (created) {
      const refused = await deps.quotas.reserveSession(
        { team, subject },
        sessionId,
        deps.teamPolicy.forTeam(team).quotas,
      );
      if (refused !== undefined) {
        throw refusal(frame, 'rate_limited', refused.message, {
          retryAfterMs: refused.retryAfterMs,
          details: { quota: refused.quota, limit: refused.limit },
        });
      }
      charged = sessionId;
    }
    // The session, its `start` command and this connection in one write.
    session ??= await deps.sessions.create({
      sessionId,
      team,
      deploymentId: target.deploymentId,
      constraints: DEFAULT_CONSTRAINTS,
      start: true,
      connectionId,
      ...(subject === undefined ? {} : { subject }),
      ...(target.regionDomain === undefined ? {} : { region: target.regionDomain }),
      ...(guestInfo === undefined ? {} : { guestInfo }),
      ...(frame.metadata === undefined ? {} : { metadata: frame.metadata }),
    });
    charged = undefined;
    const { previousSessionId } = await deps.connections.attach(connectionId, sessionId);
    if (!created) session = await deps.sessions.attachConnection(sessionId, connectionId, previousSessionId);
    else if (previousSessionId !== undefined && previousSessionId !== sessionId) {
      await deps.sessions.detachConnections(previousSessionId, [connectionId]);
    }
    deps.connectionCache.set(connectionId, { sessionId });
  } catch (error) {
    // A session that was counted but not created gives its slot back (a retry counts it again). Not
    // when a concurrent retry of the same start created it first: that slot is the session's.
    if (charged !== undefined) {
      const slot = charged;
      await deps.sessions
        .get(slot)
        .then((made) =>
          made === undefined ? deps.quotas.releaseSession({ team, subject }, slot) : undefined,
        )
        .catch(() => undefined);
    }
    throw mapStoreError(frame, error);
  }
  // A new session is unowned: the doorbell asks a live worker to claim it, and names this connection
  // (the owner's fan-out must not wait for the connections index to catch up). A retried start rings
  // its owner, who then knows this connection too.
  const bell = await ringDoorbell(deps, {
    session,
    reason: session.ownerId === NO_OWNER || session.status === 'starting' ? 'command' : 'attach',
    connectionId,
  });
  deps.logger.info('session started', { sessionId: session.sessionId, queued: bell.queued });
  return connectEvent(session, { resumed: false, lastSequenceId: session.lastSeq ?? 0, queued: bell.queued });
}

/** The `connect` answer for a session; `status` is the public view of the stored one. */
function connectEvent(
  session: SessionRecord,
  answer: { resumed: boolean; lastSequenceId: number; queued: boolean },
): ConnectEvent {
  const status = session.status === 'readOnly' || session.status === 'starting' ? session.status : 'active';
  return {
    type: 'connect',
    sessionId: session.sessionId,
    resumed: answer.resumed,
    lastSequenceId: answer.lastSequenceId,
    status,
    constraints: session.constraints as ConnectEvent['constraints'],
    deploymentId: session.deploymentId,
    ...(answer.queued ? { queued: true } : {}),
  };
}

async function resume(
  deps: RelayDeps,
  caller: Caller,
  frame: ConnectAction,
  sessionId: string,
): Promise<ConnectEvent | (ConnectEvent | MessageEvent)[]> {
  const { connectionId, team } = caller;
  let session: SessionRecord | undefined;
  try {
    session = await deps.sessions.get(sessionId);
    if (session === undefined || session.team !== team) throw notFound(frame);
    assertOwnerOrWatcher(caller, session, frame);
    if (session.status === 'ended') throw ended(frame);
    session = await deps.queue.ensureAllocator(session, deps.transcript);
    const { previousSessionId } = await deps.connections.attach(connectionId, sessionId);
    session = await deps.sessions.attachConnection(sessionId, connectionId, previousSessionId);
    deps.connectionCache.set(connectionId, { sessionId });
  } catch (error) {
    throw mapStoreError(frame, error);
  }
  // The owner adds this connection to its fan-out now: the session as the attach left it names the owner
  // that must hear of it (one that opened the session before the attach read `conns` without it).
  if (session.ownerId !== undefined && session.ownerId !== NO_OWNER) {
    await ringDoorbell(deps, { session, reason: 'attach', connectionId });
  }
  const lastSequenceId = session.lastSeq ?? 0;
  const queued = session.ownerId === NO_OWNER && (await noLiveWorker(deps));
  const answer = connectEvent(session, { resumed: true, lastSequenceId, queued });
  if (frame.afterSequenceId === undefined || frame.afterSequenceId >= lastSequenceId) return answer;
  const replay = await missed(deps, session, frame.afterSequenceId);
  return [answer, ...replay];
}

/** Entries after `after` up to the session's last (inclusive), oldest first, at most MAX_REPLAY. */
async function missed(deps: RelayDeps, session: SessionRecord, after: number): Promise<MessageEvent[]> {
  const events: MessageEvent[] = [];
  let cursor: string | undefined;
  do {
    const limit = Math.min(REPLAY_PAGE, MAX_REPLAY - events.length);
    const page = await readTranscript(deps.transcript, session, {
      after,
      limit,
      direction: 'forward',
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const entry of page.entries) events.push(messageEvent(entry, { replay: true }));
    cursor = page.cursor;
  } while (cursor !== undefined && events.length < MAX_REPLAY);
  return events;
}

async function noLiveWorker(deps: RelayDeps): Promise<boolean> {
  try {
    return (await deps.workers.listLive({ staleAfterMs: deps.workerStaleAfterMs })).length === 0;
  } catch (error) {
    if (error instanceof StoreError) return false;
    throw error;
  }
}

function definedStrings(record: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter((pair): pair is [string, string] => pair[1] !== undefined),
  );
}
