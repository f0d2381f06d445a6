/**
 * The transcript: each session's ordered entries, keyed `sessionId` + `seq`, where `seq` is the public
 * `sequenceId`: starting at 1, strictly increasing, gap-free, shared by guest, agent, bot and system
 * entries (docs/architecture.md).
 *
 * Numbers are not chosen here. The session item's allocator gives each entry its number in the same
 * write that makes its content durable (a guest send, or an upstream message the owner records: see
 * src/commands/queue.ts); the owner then writes the entry here at that number. Until it does, readers
 * find the entry on the session item (src/commands/reader.ts merges both), so no reader sees a gap.
 *
 * A retried guest send finds its entry through a marker item in the sessions table
 * (`sk = "key#c#<clientMessageId>"`) that names the entry's number and a fingerprint of its payload.
 */
import { createHash } from 'node:crypto';
import { decodeCursor, encodeCursor } from './cursor.js';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from './document.js';
import { StoreError, toStoreError } from './errors.js';
import { assertItemFits } from './item-size.js';
import type { StoreContext } from './store-context.js';
import { isPastTtl } from './tables.js';

/** Who wrote an entry. */
export type EntryDirection = 'guest' | 'agent' | 'bot' | 'system';

/** An entry's delivery state. */
export type EntryStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

/** Why an entry failed: a protocol error code and a message a frontend can show. */
export interface EntryFailure {
  readonly code: string;
  readonly message: string;
}

/** The author of an agent or bot entry, as Genesys names them. */
export interface EntrySender {
  readonly name?: string;
  readonly nickname?: string;
  readonly image?: string;
}

/** One stored transcript entry. */
export interface TranscriptEntry {
  readonly sessionId: string;
  /** The public sequenceId: 1, 2, 3… per session, gap-free. */
  readonly seq: number;
  /** Stable id; for a guest send it is the Genesys `tracingId`. */
  readonly entryId: string;
  readonly direction: EntryDirection;
  readonly text?: string;
  /** Rich content items (cards, attachments…), opaque to the store. */
  readonly content: readonly unknown[];
  readonly sender?: EntrySender;
  readonly status: EntryStatus;
  readonly failure?: EntryFailure;
  readonly clientMessageId?: string;
  readonly genesysId?: string;
  /** ISO time: Genesys' `channel.time`, or when the entry was stored. */
  readonly time: string;
  /** Epoch ms (ctx.now()) when stored. */
  readonly storedAt: number;
  /** TTL, epoch seconds. */
  readonly expiresAt?: number;
}

/** Options of updateStatus. */
export interface StatusUpdate {
  readonly to: EntryStatus;
  /** Statuses the entry may currently have. Default: the legal predecessors of `to` (LEGAL_PREDECESSORS). */
  readonly from?: readonly EntryStatus[];
  readonly failure?: EntryFailure;
  /** Links the entry to its Genesys message (e.g. the echo of a guest send). */
  readonly genesysId?: string;
}

/** What a guest send's marker says: the entry's number and a fingerprint of its payload. */
export interface SendKey {
  readonly seq: number;
  readonly fingerprint: string;
}

/** Options of page. */
export interface PageQuery {
  /** Only entries with seq > after. */
  readonly after?: number;
  /** Only entries with seq < before. */
  readonly before?: number;
  /** 1..100. */
  readonly limit: number;
  readonly direction: 'forward' | 'backward';
  /** The previous page's cursor; pass the same after/before/direction again. */
  readonly cursor?: string;
}

/**
 * A page: entries in the direction's order (ascending forward, descending backward). `cursor` is
 * present exactly when more entries exist beyond this page (at the time of the read), so the last page
 * carries none and a non-empty range never ends with an empty page.
 */
export interface Page {
  readonly entries: readonly TranscriptEntry[];
  readonly cursor?: string;
}

/** The legal predecessors of each status: pending→sent|failed; sent→delivered|read; delivered→read. */
export const LEGAL_PREDECESSORS: Readonly<Record<EntryStatus, readonly EntryStatus[]>> = Object.freeze({
  pending: [],
  sent: ['pending'],
  failed: ['pending'],
  delivered: ['sent'],
  read: ['sent', 'delivered'],
});

/** How long an idempotency marker lives: retries come within minutes; 30 days is generous. */
export const KEY_TTL_SECONDS = 30 * 24 * 60 * 60;
/** Page sizes. */
export const MAX_PAGE_LIMIT = 100;

/** Entries written by earlier versions carry the marker key they were written for; readers drop it. */
interface StoredEntry extends TranscriptEntry {
  readonly idemKey?: string;
}

/**
 * Transcript reads and writes on one StoreContext. Stateless apart from the context.
 */
export class TranscriptStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /**
   * Writes the entry at its number (the allocator gave it out: nobody else writes that number). The same
   * entry again (the same `entryId`: a retry, or a new owner finishing an old owner's work) changes
   * nothing and returns `written: false`; another entry already at that number is STORE_CONFLICT.
   * Items over 400 KB are refused before any request (STORE_ITEM_TOO_LARGE).
   */
  async put(entry: TranscriptEntry): Promise<{ readonly written: boolean }> {
    assertItemFits(entry as unknown as Record<string, unknown>, 'transcript entry');
    try {
      await this.#ctx.db.send(
        new PutCommand({
          TableName: this.#ctx.tables.transcript,
          Item: entry,
          ConditionExpression: 'attribute_not_exists(seq)',
        }),
      );
      return { written: true };
    } catch (error) {
      if (!isConditionalFailure(error)) throw toStoreError(error, 'transcript put');
    }
    const existing = await this.#getItem(entry.sessionId, entry.seq, 'transcript put');
    if (existing?.entryId === entry.entryId) return { written: false };
    throw new StoreError('STORE_CONFLICT', `transcript put: entry ${entry.seq} holds another message`);
  }

  /** The entry at `seq`, or undefined. Strongly consistent. */
  async get(sessionId: string, seq: number): Promise<TranscriptEntry | undefined> {
    const item = await this.#getItem(sessionId, seq, 'transcript get');
    return item === undefined ? undefined : publicEntry(item);
  }

  /**
   * The newest seq written, 0 when none (one consistent Query). Not on any hot path: sessions stored
   * before the allocator existed learn their `lastSeq` from it once (src/commands/queue.ts).
   */
  async lastSeq(sessionId: string): Promise<number> {
    try {
      const out = await this.#ctx.db.send(
        new QueryCommand({
          TableName: this.#ctx.tables.transcript,
          KeyConditionExpression: 'sessionId = :s',
          ExpressionAttributeValues: { ':s': sessionId },
          ProjectionExpression: 'seq',
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      const seq = out.Items?.[0]?.seq;
      return typeof seq === 'number' ? seq : 0;
    } catch (error) {
      throw toStoreError(error, 'transcript last seq');
    }
  }

  /**
   * Records which entry a keyed guest send became (`sk = "key#c#<clientMessageId>"`, 30 days): a retry
   * after the send was settled finds it here. Idempotent: an existing marker is left as it is.
   */
  async putKey(sessionId: string, clientMessageId: string, key: SendKey): Promise<void> {
    const marker = keyItem(sessionId, clientMessageId, key, this.#ctx.now());
    try {
      await this.#ctx.db.send(
        new PutCommand({
          TableName: this.#ctx.tables.sessions,
          Item: marker,
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw toStoreError(error, 'idempotency key');
    }
  }

  /** The marker of a keyed guest send, or undefined. One consistent GetItem. */
  async getKey(sessionId: string, clientMessageId: string): Promise<SendKey | undefined> {
    try {
      const out = await this.#ctx.db.send(
        new GetCommand({
          TableName: this.#ctx.tables.sessions,
          Key: { pk: sessionId, sk: keySk(clientMessageId) },
          ConsistentRead: true,
        }),
      );
      return toSendKey(out.Item, this.#ctx.now());
    } catch (error) {
      throw toStoreError(error, 'idempotency key');
    }
  }

  /**
   * Moves an entry to status `to` if its current status is one of `from` (default: the legal
   * predecessors), else STORE_CONFLICT; STORE_NOT_FOUND when there is no entry at `seq`. A genesysId
   * is only set if the entry has none or the same one. Returns the updated entry.
   */
  async updateStatus(sessionId: string, seq: number, update: StatusUpdate): Promise<TranscriptEntry> {
    const from = update.from ?? LEGAL_PREDECESSORS[update.to];
    if (from.length === 0) {
      throw new StoreError('STORE_INVALID_REQUEST', `transcript status: no status may move to ${update.to}`);
    }
    // The engine checks the whole item; the new attributes alone must fit in any case.
    assertItemFits(
      {
        status: update.to,
        ...(update.failure === undefined ? {} : { failure: update.failure }),
        ...(update.genesysId === undefined ? {} : { genesysId: update.genesysId }),
      },
      'transcript status update',
    );
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':to': update.to };
    const set = ['#status = :to'];
    const remove: string[] = [];
    from.forEach((status, i) => {
      values[`:f${i}`] = status;
    });
    let condition = `attribute_exists(seq) AND #status IN (${from.map((_, i) => `:f${i}`).join(', ')})`;
    if (update.failure !== undefined) {
      names['#failure'] = 'failure';
      values[':failure'] = update.failure;
      set.push('#failure = :failure');
    } else if (update.to !== 'failed') {
      // A failure explains a `failed` status; it must not outlive it (e.g. failed → pending on resend).
      names['#failure'] = 'failure';
      remove.push('#failure');
    }
    if (update.genesysId !== undefined) {
      names['#genesysId'] = 'genesysId';
      values[':genesysId'] = update.genesysId;
      set.push('#genesysId = :genesysId');
      condition += ' AND (attribute_not_exists(#genesysId) OR #genesysId = :genesysId)';
    }
    let updated: StoredEntry;
    try {
      const out = await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.transcript,
          Key: { sessionId, seq },
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      updated = out.Attributes as StoredEntry;
    } catch (error) {
      if (!isConditionalFailure(error)) throw toStoreError(error, 'transcript status');
      // dynalite ignores ReturnValuesOnConditionCheckFailure, so read to tell the two cases apart.
      const current = await this.#getItem(sessionId, seq, 'transcript status');
      if (current === undefined) {
        throw new StoreError('STORE_NOT_FOUND', `transcript status: no entry ${seq}`, { cause: error });
      }
      throw new StoreError(
        'STORE_CONFLICT',
        `transcript status: entry ${seq} is ${current.status}, cannot move to ${update.to}`,
        { cause: error },
      );
    }
    return publicEntry(updated);
  }

  /** A page of entries; see PageQuery and Page. Strongly consistent. */
  async page(sessionId: string, query: PageQuery): Promise<Page> {
    const { limit, direction } = query;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
      throw new StoreError('STORE_INVALID_REQUEST', `transcript page: limit must be 1..${MAX_PAGE_LIMIT}`);
    }
    for (const bound of [query.after, query.before]) {
      if (bound !== undefined && (!Number.isSafeInteger(bound) || bound < 0)) {
        throw new StoreError('STORE_INVALID_REQUEST', 'transcript page: after/before must be integers ≥ 0');
      }
    }
    const scope = cursorScope(sessionId, direction);
    // Exclusive bounds; the cursor narrows them. Using the cursor as a key condition (rather than as
    // ExclusiveStartKey) behaves the same on every engine and cannot fall outside the query's range.
    let lower = query.after ?? 0;
    let upper = query.before ?? Number.POSITIVE_INFINITY;
    if (query.cursor !== undefined) {
      const { seq } = decodeCursor(query.cursor, scope);
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
        throw new StoreError('STORE_INVALID_CURSOR', 'the continuation token is not valid for this query');
      }
      if (direction === 'forward') lower = Math.max(lower, seq);
      else upper = Math.min(upper, seq);
    }
    const low = lower + 1;
    const high = upper - 1;
    if (high < low) return { entries: [] };
    const bounded = Number.isFinite(high);
    let items: StoredEntry[];
    let lastEvaluated: Record<string, unknown> | undefined;
    try {
      const out = await this.#ctx.db.send(
        new QueryCommand({
          TableName: this.#ctx.tables.transcript,
          KeyConditionExpression: bounded
            ? 'sessionId = :s AND seq BETWEEN :low AND :high'
            : 'sessionId = :s AND seq >= :low',
          ExpressionAttributeValues: { ':s': sessionId, ':low': low, ...(bounded ? { ':high': high } : {}) },
          ScanIndexForward: direction === 'forward',
          // One more than asked: tells whether a next page exists without an empty last page.
          Limit: limit + 1,
          ConsistentRead: true,
        }),
      );
      items = (out.Items ?? []) as StoredEntry[];
      lastEvaluated = out.LastEvaluatedKey;
    } catch (error) {
      throw toStoreError(error, 'transcript page');
    }
    const entries = items.slice(0, limit).map(publicEntry);
    const last = entries.at(-1);
    // More exists when the extra item came back, or when the engine stopped early at its 1 MB cap.
    const more = items.length > limit || (lastEvaluated !== undefined && items.length > 0);
    if (!more || last === undefined) return { entries };
    return { entries, cursor: encodeCursor(scope, { seq: last.seq }) };
  }

  /** A continuation token that continues `direction` past `seq` (what `page` itself would hand out). */
  cursorAt(sessionId: string, direction: PageQuery['direction'], seq: number): string {
    return encodeCursor(cursorScope(sessionId, direction), { seq });
  }

  /** The seq a continuation token continues past; STORE_INVALID_CURSOR when it is not one of ours. */
  cursorSeq(sessionId: string, direction: PageQuery['direction'], cursor: string): number {
    const { seq } = decodeCursor(cursor, cursorScope(sessionId, direction));
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      throw new StoreError('STORE_INVALID_CURSOR', 'the continuation token is not valid for this query');
    }
    return seq;
  }

  async #getItem(sessionId: string, seq: number, context: string): Promise<StoredEntry | undefined> {
    try {
      const out = await this.#ctx.db.send(
        new GetCommand({
          TableName: this.#ctx.tables.transcript,
          Key: { sessionId, seq },
          ConsistentRead: true,
        }),
      );
      return out.Item as StoredEntry | undefined;
    } catch (error) {
      throw toStoreError(error, context);
    }
  }
}

/** The sort key of a keyed send's marker, in its session's partition of the sessions table. */
export function keySk(clientMessageId: string): string {
  return `key#c#${clientMessageId}`;
}

/** A marker item as read (`now` in epoch ms): undefined when absent or past its TTL. */
export function toSendKey(item: Record<string, unknown> | undefined, now: number): SendKey | undefined {
  if (item === undefined) return undefined;
  if (isPastTtl(item, now)) return undefined;
  const { seq, fingerprint } = item;
  if (typeof seq !== 'number' || typeof fingerprint !== 'string') {
    throw new StoreError('STORE_FAILED', 'idempotency key: the stored marker is malformed');
  }
  return { seq, fingerprint };
}

/** The marker item of a keyed send (in the sessions table, beside the session item; 30 days). */
export function keyItem(
  sessionId: string,
  clientMessageId: string,
  key: SendKey,
  now: number,
): Record<string, unknown> {
  const marker = {
    pk: sessionId,
    sk: keySk(clientMessageId),
    fingerprint: key.fingerprint,
    seq: key.seq,
    createdAt: now,
    expiresAt: Math.floor(now / 1000) + KEY_TTL_SECONDS,
  };
  assertItemFits(marker, 'idempotency key');
  return marker;
}

/**
 * What makes two sends "the same": the payload, not ids, times or status (a retry gets a new entryId
 * and time, and the status is not content).
 */
export function fingerprintOf(
  entry: Pick<TranscriptEntry, 'direction' | 'text' | 'content' | 'sender'>,
): string {
  const payload = {
    direction: entry.direction,
    text: entry.text,
    content: entry.content,
    sender: entry.sender,
  };
  return createHash('sha256').update(canonicalJson(payload)).digest('base64url');
}

/** JSON with object keys sorted and undefined members dropped, so equal values hash equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function publicEntry(item: StoredEntry): TranscriptEntry {
  const { idemKey: _idemKey, ...entry } = item;
  return entry;
}

function cursorScope(sessionId: string, direction: PageQuery['direction']): string {
  return `transcript\n${sessionId}\n${direction}`;
}

function isConditionalFailure(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}
