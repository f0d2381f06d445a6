/**
 * `connect`: start a guest session, or resume one of the caller's team and replay what was missed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_CONSTRAINTS } from '../domain/constraints.js';
import type { ConnectAction, ConnectEvent, MessageEvent } from '../protocol/index.js';
import { StoreError } from '../store/errors.js';
import { NO_OWNER, type SessionRecord } from '../store/sessions.js';
import {
  assertAllowed,
  callerOf,
  ended,
  mapStoreError,
  notFound,
  type RelayEvent,
  refusal,
} from './access.js';
import type { RelayDeps } from './deps.js';
import { ringDoorbell } from './doorbell.js';
import { messageEvent } from './entries.js';

/** Most entries replayed after a resume; the rest is read with `history` (documented in docs/relay.md). */
export const MAX_REPLAY = 500;
const REPLAY_PAGE = 100;

/** The id of the `start` command of a session (one per session: idempotent). */
export const START_COMMAND_ID = 'start';

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
      ? start(deps, caller.connectionId, caller.team, frame)
      : resume(deps, caller.connectionId, caller.team, frame, frame.sessionId);
  };
}

async function start(
  deps: RelayDeps,
  connectionId: string,
  team: string,
  frame: ConnectAction,
): Promise<ConnectEvent> {
  // The row $connect wrote; without it (expired, or removed after a 410) nothing is created.
  if ((await deps.connections.get(connectionId)) === undefined) {
    throw refusal(frame, 'not_connected', 'This connection is not registered any more; open a new one.');
  }
  // With a clientMessageId the start is idempotent: a retry gets the session the first attempt made.
  const proposed = newSessionId();
  const guestInfo = frame.guestInfo === undefined ? undefined : definedStrings(frame.guestInfo);
  let session: SessionRecord | undefined;
  let ownerId: string;
  let lastSequenceId = 0;
  try {
    const sessionId =
      frame.clientMessageId === undefined
        ? proposed
        : await deps.sessions.reserveStart(team, frame.clientMessageId, proposed);
    const retried = sessionId !== proposed;
    if (retried) {
      session = await deps.sessions.get(sessionId);
      if (session !== undefined && session.team !== team) throw notFound(frame);
      if (session?.status === 'ended') throw ended(frame);
      lastSequenceId = session === undefined ? 0 : await deps.transcript.lastSeq(sessionId);
    }
    session ??= await deps.sessions.create({
      sessionId,
      team,
      deploymentId: frame.deploymentId ?? deps.defaultDeploymentId,
      guestToken: randomUUID(),
      constraints: DEFAULT_CONSTRAINTS,
      ...(frame.region === undefined ? {} : { region: frame.region }),
      ...(guestInfo === undefined ? {} : { guestInfo }),
      ...(frame.metadata === undefined ? {} : { metadata: frame.metadata }),
    });
    // A retry re-queues `start` only while the worker has not taken the session further (idempotent by id).
    ownerId =
      session.status === 'starting'
        ? (
            await deps.sessions.addPending(sessionId, {
              id: START_COMMAND_ID,
              type: 'start',
              createdAt: deps.now(),
            })
          ).ownerId
        : (session.ownerId ?? NO_OWNER);
    await deps.connections.attach(connectionId, sessionId);
  } catch (error) {
    throw mapStoreError(frame, error);
  }
  const { sessionId } = session;
  const bell = await ringDoorbell(deps, { sessionId, ownerId });
  deps.logger.info('session started', { sessionId, queued: bell.queued });
  return connectEvent(session, { resumed: false, lastSequenceId, queued: bell.queued });
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
  connectionId: string,
  team: string,
  frame: ConnectAction,
  sessionId: string,
): Promise<ConnectEvent | (ConnectEvent | MessageEvent)[]> {
  const session = await deps.sessions.get(sessionId);
  if (session === undefined || session.team !== team) throw notFound(frame);
  if (session.status === 'ended') throw ended(frame);
  try {
    await deps.connections.attach(connectionId, sessionId);
  } catch (error) {
    throw mapStoreError(frame, error);
  }
  const lastSequenceId = await deps.transcript.lastSeq(sessionId);
  const queued = session.ownerId === NO_OWNER && (await noLiveWorker(deps));
  const answer = connectEvent(session, { resumed: true, lastSequenceId, queued });
  if (frame.afterSequenceId === undefined || frame.afterSequenceId >= lastSequenceId) return answer;
  const replay = await missed(deps, sessionId, frame.afterSequenceId, lastSequenceId);
  return [answer, ...replay];
}

/** Entries after `after` up to `last` (inclusive), oldest first, at most MAX_REPLAY. */
async function missed(
  deps: RelayDeps,
  sessionId: string,
  after: number,
  last: number,
): Promise<MessageEvent[]> {
  const events: MessageEvent[] = [];
  let cursor: string | undefined;
  do {
    const limit = Math.min(REPLAY_PAGE, MAX_REPLAY - events.length);
    const page = await deps.transcript.page(sessionId, {
      after,
      before: last + 1,
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
