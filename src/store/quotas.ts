/**
 * Quotas of a shared relay, per team and per subject (the token's `sub`), kept as small counter items in
 * the sessions table (`pk = "quota#<team>"` for the team, `"quota#<team>#<subject>"` for one subject; no
 * `ownerId`, so neither owner index sees them):
 *
 * - `sk = "open"`: the sessions not yet ended, a map from session id to when it was counted. Adding an
 *   id is idempotent (a retried start does not count twice) and removing it is too, so a release that
 *   runs twice, or a release lost with a crashed worker, cannot make the count drift for good: when the
 *   map is full, the ids whose sessions have ended (or were never created, a minute after they were
 *   counted) are removed before the start is refused (`reconcile`).
 * - `sk = "starts#<minute>"`: sessions started in that clock minute, a number that expires with TTL.
 * - `sk = "upload#<hour>"`: upload bytes accepted in that clock hour, a number that expires with TTL.
 *
 * Each check is one conditional UpdateItem: the count never passes its limit, whatever runs at once. A
 * team check that fails after its subject check passed gives the subject's charge back.
 */
import type { Quotas } from '../policy/team-policy.js';
import { batchGetSessions } from './batch-get.js';
import { GetCommand, UpdateCommand } from './document.js';
import { toStoreError } from './errors.js';
import { SESSION_SK } from './sessions.js';
import type { StoreContext } from './store-context.js';
import { isPastTtl, TTL_ATTRIBUTE } from './tables.js';

export type QuotaName = keyof Quotas;

/** A start or an upload the quotas refuse: which limit, its value, and when trying again can succeed. */
export interface QuotaRefusal {
  readonly quota: QuotaName;
  readonly limit: number;
  readonly retryAfterMs: number;
  readonly message: string;
}

export interface Holder {
  readonly team: string;
  /** The token's subject; tokens without one share the team's anonymous subject. */
  readonly subject: string | undefined;
}

/** The subject that tokens without `sub` share (documented in docs/security.md). */
export const ANONYMOUS_SUBJECT = '-';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** A full open-sessions map names no session that ended: try again after this long. */
const OPEN_RETRY_AFTER_MS = 10_000;
/** A counted session not created this long after (its start failed midway) no longer counts. */
const UNCREATED_GRACE_MS = 60_000;
/** Requests per 100 counted sessions, at most, while the engine leaves keys unprocessed (no pause between). */
const RECONCILE_ROUNDS = 5;

export class QuotaStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /**
   * Counts a new session against the starts-per-minute and open-sessions quotas of its subject and team.
   * Undefined when it fits (everything is charged); the refusal otherwise (nothing stays charged).
   */
  async reserveSession(holder: Holder, sessionId: string, quotas: Quotas): Promise<QuotaRefusal | undefined> {
    const now = this.#ctx.now();
    const minute = Math.floor(now / MINUTE_MS);
    const retryAtMinute = (minute + 1) * MINUTE_MS - now;
    const starts = `starts#${minute}`;
    const expires = Math.floor(((minute + 2) * MINUTE_MS) / 1000);
    const charged: (() => Promise<void>)[] = [];
    const refund = async () => {
      for (const undo of charged.reverse()) await undo().catch(() => undefined);
    };
    const steps: [QuotaName, string, number][] = [
      ['startsPerMinutePerSubject', subjectKey(holder), quotas.startsPerMinutePerSubject],
      ['startsPerMinutePerTeam', teamKey(holder.team), quotas.startsPerMinutePerTeam],
    ];
    for (const [quota, pk, limit] of steps) {
      if (!(await this.#count(pk, starts, 1, limit, expires))) {
        await refund();
        return refusal(quota, limit, retryAtMinute, `${limit} session starts a minute`, holder);
      }
      charged.push(() => this.#count(pk, starts, -1, Number.MAX_SAFE_INTEGER, expires).then(() => undefined));
    }
    const open: [QuotaName, string, number][] = [
      ['openSessionsPerSubject', subjectKey(holder), quotas.openSessionsPerSubject],
      ['openSessionsPerTeam', teamKey(holder.team), quotas.openSessionsPerTeam],
    ];
    for (const [quota, pk, limit] of open) {
      const added =
        (await this.#addOpen(pk, sessionId, limit)) || (await this.#reconcileAndAdd(pk, sessionId, limit));
      if (!added) {
        await refund();
        return refusal(
          quota,
          limit,
          OPEN_RETRY_AFTER_MS,
          `${limit} open sessions; end one (action "end") or let idle ones be reaped`,
          holder,
        );
      }
      charged.push(() => this.#removeOpen(pk, [sessionId]));
    }
    return undefined;
  }

  /** The session no longer counts as open (idempotent). */
  async releaseSession(holder: Holder, sessionId: string): Promise<void> {
    await this.#removeOpen(subjectKey(holder), [sessionId]);
    await this.#removeOpen(teamKey(holder.team), [sessionId]);
  }

  /** Charges `bytes` of upload to the hour's budget of the subject and the team. */
  async chargeUpload(holder: Holder, bytes: number, quotas: Quotas): Promise<QuotaRefusal | undefined> {
    const now = this.#ctx.now();
    const hour = Math.floor(now / HOUR_MS);
    const sk = `upload#${hour}`;
    const expires = Math.floor(((hour + 2) * HOUR_MS) / 1000);
    const subject = subjectKey(holder);
    const subjectLimit = quotas.uploadBytesPerHourPerSubject;
    const retryAfterMs = (hour + 1) * HOUR_MS - now;
    if (!(await this.#count(subject, sk, bytes, subjectLimit - bytes + 1, expires))) {
      return refusal(
        'uploadBytesPerHourPerSubject',
        subjectLimit,
        retryAfterMs,
        `${subjectLimit} upload bytes an hour`,
        holder,
      );
    }
    const teamLimit = quotas.uploadBytesPerHourPerTeam;
    if (!(await this.#count(teamKey(holder.team), sk, bytes, teamLimit - bytes + 1, expires))) {
      await this.#count(subject, sk, -bytes, Number.MAX_SAFE_INTEGER, expires).catch(() => undefined);
      return refusal(
        'uploadBytesPerHourPerTeam',
        teamLimit,
        retryAfterMs,
        `${teamLimit} upload bytes an hour`,
        holder,
      );
    }
    return undefined;
  }

  /** The ids counted as open for a subject (tests, operators). */
  async openSessions(holder: Holder | { team: string }): Promise<string[]> {
    const pk = 'subject' in holder ? subjectKey(holder) : teamKey(holder.team);
    return [...((await this.#readOpen(pk))?.keys() ?? [])];
  }

  /**
   * Adds `delta` to the counter `n` of (pk, sk) if the counter is below `below` before the write
   * (`below` ≤ 0 refuses every charge). False when refused.
   */
  async #count(pk: string, sk: string, delta: number, below: number, expires: number): Promise<boolean> {
    if (delta > 0 && below <= 0) return false;
    try {
      await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.sessions,
          Key: { pk, sk },
          UpdateExpression: 'ADD n :d SET #ttl = :exp',
          ConditionExpression: 'attribute_not_exists(n) OR n < :below',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':d': delta, ':below': below, ':exp': expires },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw toStoreError(error, `quota ${sk}`);
    }
  }

  async #addOpen(pk: string, sessionId: string, limit: number): Promise<boolean> {
    if (limit <= 0) return false;
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        await this.#ctx.db.send(
          new UpdateCommand({
            TableName: this.#ctx.tables.sessions,
            Key: { pk, sk: 'open' },
            UpdateExpression: 'SET #o.#sid = if_not_exists(#o.#sid, :now)',
            ConditionExpression: 'attribute_exists(#o) AND (size(#o) < :limit OR attribute_exists(#o.#sid))',
            ExpressionAttributeNames: { '#o': 'open', '#sid': sessionId },
            ExpressionAttributeValues: { ':now': this.#ctx.now(), ':limit': limit },
          }),
        );
        return true;
      } catch (error) {
        if (!isConditionFailed(error)) throw toStoreError(error, 'quota open sessions');
      }
      // Full, or no map yet (the first count of a subject or team makes it, idempotently), or a release
      // came between the write and this read: only a full map refuses.
      const open = await this.#readOpen(pk);
      if (open !== undefined) {
        if (open.size >= limit && !open.has(sessionId)) return false;
        continue;
      }
      try {
        await this.#ctx.db.send(
          new UpdateCommand({
            TableName: this.#ctx.tables.sessions,
            Key: { pk, sk: 'open' },
            UpdateExpression: 'SET #o = if_not_exists(#o, :empty)',
            ExpressionAttributeNames: { '#o': 'open' },
            ExpressionAttributeValues: { ':empty': {} },
          }),
        );
      } catch (error) {
        throw toStoreError(error, 'quota open sessions');
      }
    }
    return false;
  }

  async #removeOpen(pk: string, sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    const names: Record<string, string> = { '#o': 'open' };
    sessionIds.forEach((id, i) => {
      names[`#s${i}`] = id;
    });
    try {
      await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.sessions,
          Key: { pk, sk: 'open' },
          UpdateExpression: `REMOVE ${sessionIds.map((_, i) => `#o.#s${i}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(#o)',
          ExpressionAttributeNames: names,
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) return;
      throw toStoreError(error, 'quota open sessions');
    }
  }

  /** The counted sessions and when each was counted; undefined when the map does not exist yet. */
  async #readOpen(pk: string): Promise<Map<string, number> | undefined> {
    try {
      const { Item } = await this.#ctx.db.send(
        new GetCommand({
          TableName: this.#ctx.tables.sessions,
          Key: { pk, sk: 'open' },
          ConsistentRead: true,
        }),
      );
      const open = Item?.open;
      if (open === undefined || open === null || typeof open !== 'object') return undefined;
      return new Map(
        Object.entries(open as Record<string, unknown>).map(([id, at]) => [
          id,
          typeof at === 'number' ? at : 0,
        ]),
      );
    } catch (error) {
      throw toStoreError(error, 'quota open sessions');
    }
  }

  /**
   * Removes the ids of sessions that ended, or that were never created a grace period after they were
   * counted (a start that failed midway), then tries the add once more.
   */
  async #reconcileAndAdd(pk: string, sessionId: string, limit: number): Promise<boolean> {
    const counted = (await this.#readOpen(pk)) ?? new Map<string, number>();
    const ids = [...counted.keys()];
    const found = new Map<string, boolean>();
    const { items, unprocessed } = await batchGetSessions(
      this.#ctx,
      ids.map((id) => ({ pk: id, sk: SESSION_SK })),
      {
        projection: { expression: 'pk, #st, expiresAt', names: { '#st': 'status' } },
        rounds: RECONCILE_ROUNDS,
        pauseMs: 0,
        mapError: (error) => toStoreError(error, 'quota reconcile'),
      },
    );
    for (const item of items) {
      const expired = isPastTtl(item, this.#ctx.now());
      found.set(String(item.pk), item.status !== 'ended' && !expired);
    }
    // Keys still unprocessed after the retries count as live: a slot is never freed on a guess.
    for (const key of unprocessed) found.set(String(key.pk), true);
    const graceStart = this.#ctx.now() - UNCREATED_GRACE_MS;
    const gone = ids.filter((id) => {
      const live = found.get(id);
      return live === undefined ? (counted.get(id) ?? 0) < graceStart : !live;
    });
    if (gone.length === 0) return false;
    await this.#removeOpen(pk, gone);
    return this.#addOpen(pk, sessionId, limit);
  }
}

function teamKey(team: string): string {
  return `quota#${team}`;
}

function subjectKey(holder: Holder): string {
  return `quota#${holder.team}#${encodeURIComponent(holder.subject ?? ANONYMOUS_SUBJECT)}`;
}

function refusal(
  quota: QuotaName,
  limit: number,
  retryAfterMs: number,
  what: string,
  holder: Holder,
): QuotaRefusal {
  const whose = quota.endsWith('PerTeam') ? `team "${holder.team}"` : 'this subject';
  return {
    quota,
    limit,
    retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)),
    message: `The quota of ${whose} is ${what} (${quota}); the operator sets it in the team policy.`,
  };
}

function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}
