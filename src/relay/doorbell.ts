/**
 * The doorbell: a hint to the worker that owns a session that it has work, rung only after the work is
 * durable (DESIGN §2, "Durable first, doorbell second, sweep as backstop"). It is a PostToConnection on
 * the control API to the worker's control connection (WorkerStore's `controlConnectionId`):
 *
 * - the owner is live (fresh heartbeat, a control connection): `{type:"doorbell", sessionId, reason}`
 *   with reason `command` (or `typing`) goes to it;
 * - otherwise (no owner, a stale owner, or the owner's control connection answered 410): reason `claim`
 *   goes to the least-loaded live worker, then the next one on a 410;
 * - no live worker: nothing is sent and the caller answers `queued: true`. The stored command waits for
 *   a worker's sweep.
 *
 * A doorbell never fails the user's command: any error is logged and reported as `{ queued: false }`
 * (the sweep still finds the command).
 */
import { NO_OWNER } from '../store/sessions.js';
import type { WorkerRecord } from '../store/workers.js';
import type { RelayDeps } from './deps.js';

export type DoorbellReason = 'command' | 'claim' | 'typing';

/** The control message a worker receives. */
export interface DoorbellMessage {
  readonly type: 'doorbell';
  readonly sessionId: string;
  readonly reason: DoorbellReason;
}

export interface DoorbellRequest {
  readonly sessionId: string;
  /** The session's owner as the store write returned it (NO_OWNER when unowned). */
  readonly ownerId: string;
  /** `command` (default): stored work; `typing`: ephemeral, only ever sent to a live owner. */
  readonly reason?: 'command' | 'typing';
}

export interface DoorbellResult {
  /** True when no worker is live: the stored command waits for one. */
  readonly queued: boolean;
  /** The worker whose control connection took the doorbell, if any. */
  readonly workerId?: string;
  readonly sent?: DoorbellReason;
}

export async function ringDoorbell(
  deps: Pick<RelayDeps, 'workers' | 'controlGateway' | 'workerStaleAfterMs' | 'logger'>,
  request: DoorbellRequest,
): Promise<DoorbellResult> {
  const reason = request.reason ?? 'command';
  try {
    // The common case, an owned session, reads the owner's row alone: one GetItem, not a Scan of the
    // workers table for every message.
    const owner = request.ownerId === NO_OWNER ? undefined : await liveOwner(deps, request.ownerId);
    if (owner !== undefined) {
      if (await post(deps, owner, request.sessionId, reason)) {
        return { queued: false, workerId: owner.workerId, sent: reason };
      }
    }
    const live = (await deps.workers.listLive({ staleAfterMs: deps.workerStaleAfterMs })).filter(
      (worker): worker is Reachable => worker.controlConnectionId !== undefined,
    );
    // Typing is ephemeral: it goes to a live owner or nowhere (it must not make a worker claim a session).
    if (reason === 'typing') return { queued: owner === undefined && live.length === 0 };
    for (const worker of live) {
      if (worker.workerId === owner?.workerId) continue;
      if (await post(deps, worker, request.sessionId, 'claim')) {
        return { queued: false, workerId: worker.workerId, sent: 'claim' };
      }
    }
    return { queued: true };
  } catch (error) {
    deps.logger.warn('doorbell failed; the command waits for a sweep', {
      sessionId: request.sessionId,
      error,
    });
    return { queued: false };
  }
}

type Reachable = WorkerRecord & { controlConnectionId: string };

/** The owner's row when it is live (fresh heartbeat) and has a control connection. */
async function liveOwner(
  deps: Pick<RelayDeps, 'workers' | 'workerStaleAfterMs'>,
  workerId: string,
): Promise<Reachable | undefined> {
  const worker = await deps.workers.getLive(workerId, deps.workerStaleAfterMs);
  return worker?.controlConnectionId === undefined ? undefined : (worker as Reachable);
}

/** True when the worker's control connection took the message; false when it is gone (410). */
async function post(
  deps: Pick<RelayDeps, 'controlGateway' | 'logger'>,
  worker: Reachable,
  sessionId: string,
  reason: DoorbellReason,
): Promise<boolean> {
  const message: DoorbellMessage = { type: 'doorbell', sessionId, reason };
  const result = await deps.controlGateway.post(worker.controlConnectionId, JSON.stringify(message));
  if (result.gone) {
    deps.logger.info('doorbell: control connection gone', { workerId: worker.workerId, sessionId });
    return false;
  }
  return true;
}
