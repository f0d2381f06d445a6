/**
 * The doorbell: the hint a Lambda sends to the session's owner after its write is durable (DESIGN §2,
 * "Durable first, doorbell second, sweep as backstop"). It is a PostToConnection on the control API, and
 * its message is defined once here: the Lambda builds it, the worker parses it with the same schema.
 *
 * A `command` doorbell carries the commands the write queued (with their numbers) and the ids of every
 * command pending after that write, so the owner starts them without reading the session back, and
 * reads it only when the list names a command it has not seen (a doorbell of an earlier write was lost).
 *
 * Where it goes:
 * - to the control connection the session item names (`ownerConn`, written when the session was claimed
 *   and refreshed by the owner's writes): no read of the workers table;
 * - on a 410 there, to the owner's current connection from its heartbeat row (one GetItem);
 * - no owner, or the owner is stale or unreachable: reason `claim` to the live workers, least loaded
 *   first, moving on after each 410 (one Scan of the workers table);
 * - no live worker: nothing is sent and the caller answers `queued: true`; a worker's sweep finds it.
 *
 * A doorbell never fails the user's command: errors are logged and reported as `{ queued: false }`.
 */
import * as z from 'zod';
import type { ManagementClient } from '../gateway/management-client.js';
import { NO_OWNER, type SessionRecord } from '../store/sessions.js';
import type { WorkerRecord, WorkerStore } from '../store/workers.js';
import type { PendingCommand } from './types.js';

export const DOORBELL_REASONS = ['command', 'claim', 'typing', 'attach'] as const;
export type DoorbellReason = (typeof DOORBELL_REASONS)[number];

const base = { id: z.string().min(1), createdAt: z.number() };
const content = z.array(z.unknown()).readonly();

/** A command as a doorbell carries it (PendingCommand: sends and records with their number). */
export const pendingCommandSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('start') }),
  z.object({
    ...base,
    type: z.literal('send'),
    seq: z.int().min(1),
    entryId: z.string().min(1),
    text: z.string().optional(),
    content,
    clientMessageId: z.string().optional(),
    fingerprint: z.string().optional(),
    bytes: z.number(),
    legacy: z.boolean().optional(),
  }),
  z.object({
    ...base,
    type: z.literal('record'),
    seq: z.int().min(1),
    entryId: z.string().min(1),
    direction: z.enum(['guest', 'agent', 'bot', 'system']),
    text: z.string().optional(),
    content,
    sender: z
      .object({ name: z.string().optional(), nickname: z.string().optional(), image: z.string().optional() })
      .optional(),
    genesysId: z.string().optional(),
    time: z.string(),
  }),
  z.object({ ...base, type: z.literal('context'), flush: z.boolean().optional() }),
  z.object({
    ...base,
    type: z.literal('upload'),
    upload: z.object({
      uploadId: z.string(),
      filename: z.string(),
      contentType: z.string(),
      size: z.number(),
      inline: z.boolean().optional(),
      connectionId: z.string().optional(),
    }),
  }),
  z.object({ ...base, type: z.literal('end'), reason: z.string().optional() }),
]);

/** What a worker receives on its control connection from a Lambda. */
export const doorbellSchema = z.object({
  type: z.literal('doorbell'),
  sessionId: z.string().min(1),
  reason: z.enum(DOORBELL_REASONS),
  /** The owner's epoch as the write saw it: a runner of another epoch must not trust the rest. */
  epoch: z.int().min(0).optional(),
  /** `command`: the commands this write queued. */
  commands: z.array(pendingCommandSchema).optional(),
  /** `command`: the id of every command pending after the write. */
  pending: z.array(z.string()).optional(),
  /** `attach` (and `claim` from a start): a frontend connection now attached to the session. */
  connectionId: z.string().min(1).optional(),
});

export type Doorbell = z.infer<typeof doorbellSchema>;

/**
 * A parsed doorbell's commands as the stored types. The schema checked every field; what differs is only
 * how optional fields are typed (zod's `?: T | undefined` against our exact `?: T`).
 */
export function commandsOf(doorbell: Doorbell): readonly PendingCommand[] {
  return (doorbell.commands ?? []) as readonly PendingCommand[];
}

// The schema and the stored types must agree: a compile error here means one of them moved alone.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesTypes: Same<z.infer<typeof pendingCommandSchema>['type'], PendingCommand['type']> = true;
void schemaMatchesTypes;
const commandsFit = (command: PendingCommand): z.input<typeof pendingCommandSchema> => command;
void commandsFit;

export interface DoorbellDeps {
  readonly workers: WorkerStore;
  /** Posts to worker control connections (control API). A 410 is reported, no row is deleted. */
  readonly controlGateway: ManagementClient;
  readonly workerStaleAfterMs: number;
  readonly logger: {
    info(message: string, ...extra: unknown[]): void;
    warn(message: string, ...extra: unknown[]): void;
  };
}

export interface DoorbellRequest {
  /** The session as the write that queued the work left it (its owner, epoch and `ownerConn`). */
  readonly session: Pick<SessionRecord, 'sessionId' | 'ownerId' | 'epoch' | 'ownerConn' | 'pending'>;
  /** `command` (default): stored work; `typing` and `attach`: ephemeral, only ever sent to a live owner. */
  readonly reason?: 'command' | 'typing' | 'attach';
  /** The commands the write queued. */
  readonly commands?: readonly PendingCommand[];
  /** `attach`, or a start: the frontend connection to add to the owner's fan-out. */
  readonly connectionId?: string;
}

export interface DoorbellResult {
  /** True when no worker is live: the stored command waits for one. */
  readonly queued: boolean;
  /** The worker whose control connection took the doorbell, if any. */
  readonly workerId?: string;
  readonly sent?: DoorbellReason;
}

export async function ringDoorbell(deps: DoorbellDeps, request: DoorbellRequest): Promise<DoorbellResult> {
  const reason = request.reason ?? 'command';
  const { session } = request;
  const { sessionId } = session;
  const owner = session.ownerId === undefined || session.ownerId === NO_OWNER ? undefined : session.ownerId;
  const message: Doorbell = {
    type: 'doorbell',
    sessionId,
    reason,
    epoch: session.epoch,
    ...(reason === 'command'
      ? { commands: [...(request.commands ?? [])], pending: Object.keys(session.pending) }
      : {}),
    ...(request.connectionId === undefined ? {} : { connectionId: request.connectionId }),
  };
  try {
    if (owner !== undefined) {
      // The common case: the item names the owner's connection; no read at all.
      if (session.ownerConn !== undefined && (await post(deps, session.ownerConn, message))) {
        return { queued: false, workerId: owner, sent: reason };
      }
      // Gone (410) or never recorded: the owner's heartbeat row names its current connection.
      const live = await reachable(deps, owner);
      if (live !== undefined && live.controlConnectionId !== session.ownerConn) {
        if (await post(deps, live.controlConnectionId, message)) {
          return { queued: false, workerId: owner, sent: reason };
        }
      }
    }
    if (reason !== 'command') {
      // Typing and attach are ephemeral: a live owner or nobody (they must not make a worker claim).
      return { queued: owner === undefined && (await liveWorkers(deps)).length === 0 };
    }
    const claim: Doorbell = {
      type: 'doorbell',
      sessionId,
      reason: 'claim',
      ...(request.connectionId === undefined ? {} : { connectionId: request.connectionId }),
    };
    for (const worker of await liveWorkers(deps)) {
      if (worker.workerId === owner) continue;
      if (await post(deps, worker.controlConnectionId, claim)) {
        return { queued: false, workerId: worker.workerId, sent: 'claim' };
      }
    }
    return { queued: true };
  } catch (error) {
    deps.logger.warn('doorbell failed; the command waits for a sweep', { sessionId, error });
    return { queued: false };
  }
}

type Reachable = WorkerRecord & { controlConnectionId: string };

/** The owner's row when it is live (fresh heartbeat) and has a control connection. */
async function reachable(deps: DoorbellDeps, workerId: string): Promise<Reachable | undefined> {
  const worker = await deps.workers.getLive(workerId, deps.workerStaleAfterMs);
  return worker?.controlConnectionId === undefined ? undefined : (worker as Reachable);
}

/** Live workers with a control connection, least loaded first. */
async function liveWorkers(deps: DoorbellDeps): Promise<Reachable[]> {
  return (await deps.workers.listLive({ staleAfterMs: deps.workerStaleAfterMs })).filter(
    (worker): worker is Reachable => worker.controlConnectionId !== undefined,
  );
}

/** True when the control connection took the message; false when it is gone (410). */
async function post(deps: DoorbellDeps, connectionId: string, message: Doorbell): Promise<boolean> {
  const result = await deps.controlGateway.post(connectionId, JSON.stringify(message));
  if (result.gone) {
    deps.logger.info('doorbell: control connection gone', { sessionId: message.sessionId });
    return false;
  }
  return true;
}
