/**
 * The transcript: each session's ordered entries, keyed `sessionId` + `seq`, where `seq` is the public
 * `sequenceId`: starting at 1, strictly increasing, gap-free, shared by guest, agent, bot and system
 * entries (docs/architecture.md).
 *
 * No transactions (dynalite has none). Ordering comes from optimistic conditional writes: read the last
 * seq (consistent), Put `last + 1` with `attribute_not_exists(seq)`, re-read and retry on conflict.
 * Entries are never deleted, so the stored seqs are always exactly the prefix 1..N, and a Put at N + 1
 * can only succeed where N is taken: no gaps, whatever the interleaving.
 *
 * Idempotency (a retried guest send, or the same Genesys message seen twice) also works without
 * transactions, via a marker item in the sessions table (`sk = "key#c#…"` / `"key#g#…"`). The marker's
 * `seq` is a fencing token: a keyed entry is only ever written at the marker's current seq, and the
 * marker only moves off a seq that another key's entry occupies. So once a keyed entry exists, the
 * marker stays on it forever, and no second entry for the key can be written anywhere.
 */
import { createHash, randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from './cursor.js';
import { StoreError, toStoreError } from './errors.js';
import { assertItemFits } from './item-size.js';
import type { StoreContext } from './store-context.js';

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

/** What a caller appends; the store assigns `seq` (and defaults the rest). */
export interface AppendInput {
  readonly direction: EntryDirection;
  readonly text?: string;
  readonly content?: readonly unknown[];
  readonly sender?: EntrySender;
  /** Default: `pending` for guest entries (not yet acknowledged by Genesys), `sent` for the others. */
  readonly status?: EntryStatus;
  readonly failure?: EntryFailure;
  /** Idempotency key of a guest send: a retry with the same key returns the first entry. */
  readonly clientMessageId?: string;
  /** Genesys' message id: an upstream message with an id already stored is not stored again. */
  readonly genesysId?: string;
  /** Default: a random UUID. */
  readonly entryId?: string;
  /** Default: ctx.now() as ISO. */
  readonly time?: string;
  /** TTL, epoch seconds. */
  readonly expiresAt?: number;
}

/** The result of append: `created` is false when the key already had an entry (a retry or a duplicate). */
export interface AppendResult {
  readonly entry: TranscriptEntry;
  readonly created: boolean;
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

/** An idempotency key: the client's key of a send, or Genesys' id of a message. */
export type EntryKey = { readonly clientMessageId: string } | { readonly genesysId: string };

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

/** Attempts of one append before giving up with STORE_UNAVAILABLE (each costs a read and a write). */
export const MAX_APPEND_ATTEMPTS = 100;
/** How long an idempotency marker lives: retries come within minutes; 30 days is generous. */
export const KEY_TTL_SECONDS = 30 * 24 * 60 * 60;
/** Page sizes. */
export const MAX_PAGE_LIMIT = 100;

/**
 * A loser pauses (0–2 ms) only on every JITTER_EVERY-th conflict. Pausing on each conflict starves
 * losers on a fast engine: a fresh writer (no pause) then always beats them to the next seq, and a few
 * appends hit the attempt limit (measured on dynalite: 10 writers × 100 appends, several failures with a
 * pause on every retry, none and at most 13 attempts like this).
 */
const JITTER_EVERY = 8;

/** A seq far above any real one: sizes an entry (numbers grow with digits) before its seq is known. */
const SIZE_PLACEHOLDER_SEQ = Number.MAX_SAFE_INTEGER;

interface StoredEntry extends TranscriptEntry {
  /** The marker sk of the key this entry was written for (not part of the public entry). */
  readonly idemKey?: string;
}

interface Marker {
  readonly seq: number;
  readonly fingerprint: string;
}

/**
 * Transcript reads and writes on one StoreContext. Stateless apart from the context: any number of
 * instances, in any number of processes, may write the same session concurrently.
 */
export class TranscriptStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /**
   * Appends an entry at the next seq. With a clientMessageId (or else a genesysId) the append is
   * idempotent: if that key already has an entry, it is returned with `created: false`; the same key
   * with a different payload is STORE_IDEMPOTENCY_MISMATCH. Items over 400 KB are refused before any
   * request (STORE_ITEM_TOO_LARGE).
   */
  async append(sessionId: string, input: AppendInput): Promise<AppendResult> {
    const now = this.#ctx.now();
    const key = markerKeyOf(input);
    const base: Omit<StoredEntry, 'seq'> = {
      sessionId,
      entryId: input.entryId ?? randomUUID(),
      direction: input.direction,
      ...(input.text === undefined ? {} : { text: input.text }),
      content: input.content ?? [],
      ...(input.sender === undefined ? {} : { sender: input.sender }),
      status: input.status ?? (input.direction === 'guest' ? 'pending' : 'sent'),
      ...(input.failure === undefined ? {} : { failure: input.failure }),
      ...(input.clientMessageId === undefined ? {} : { clientMessageId: input.clientMessageId }),
      ...(input.genesysId === undefined ? {} : { genesysId: input.genesysId }),
      time: input.time ?? new Date(now).toISOString(),
      storedAt: now,
      ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
      ...(key === undefined ? {} : { idemKey: key }),
    };
    // Before the first request: a too-large entry must not even cost a read.
    assertItemFits({ ...base, seq: SIZE_PLACEHOLDER_SEQ }, 'transcript entry');
    if (key === undefined) return { entry: await this.#appendUnkeyed(base), created: true };
    return this.#appendKeyed(base, key, fingerprintOf(base));
  }

  /** The entry at `seq`, or undefined. Strongly consistent. */
  async get(sessionId: string, seq: number): Promise<TranscriptEntry | undefined> {
    const item = await this.#getItem(sessionId, seq, 'transcript get');
    return item === undefined ? undefined : publicEntry(item);
  }

  /** The newest seq of the session, 0 when it has no entries. Strongly consistent. */
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

  /** The entry stored under an idempotency key, or undefined. */
  async findByKey(sessionId: string, key: EntryKey): Promise<TranscriptEntry | undefined> {
    const sk = 'clientMessageId' in key ? `key#c#${key.clientMessageId}` : `key#g#${key.genesysId}`;
    const marker = await this.#getMarker(sessionId, sk);
    if (marker === undefined) return undefined;
    const item = await this.#getItem(sessionId, marker.seq, 'transcript find by key');
    // A marker can point at a seq another key won (its writer died before moving it): not ours.
    return item !== undefined && ownsKey(item, sk) ? publicEntry(item) : undefined;
  }

  /**
   * Moves an entry to status `to` if its current status is one of `from` (default: the legal
   * predecessors), else STORE_CONFLICT; STORE_NOT_FOUND when there is no entry at `seq`. A genesysId
   * is only set if the entry has none or the same one; it is also recorded as a key, so that
   * findByKey({ genesysId }) finds the entry. Returns the updated entry.
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
    if (update.genesysId !== undefined) await this.#aliasGenesysId(updated, update.genesysId);
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

  async #appendUnkeyed(base: Omit<StoredEntry, 'seq'>): Promise<TranscriptEntry> {
    const { sessionId } = base;
    let seq = (await this.lastSeq(sessionId)) + 1;
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const item: StoredEntry = { ...base, seq };
      try {
        await this.#putEntry(item);
        return publicEntry(item);
      } catch (error) {
        if (!isConditionalFailure(error)) throw toStoreError(error, 'transcript append');
        // The SDK retried our Put (e.g. after a timeout): the first attempt may be what took the seq.
        if (sdkAttempts(error) > 1) {
          const existing = await this.#getItem(sessionId, seq, 'transcript append');
          if (existing?.entryId === base.entryId) return publicEntry(existing);
        }
      }
      seq = await this.#nextCandidate(sessionId, seq, attempt);
    }
    throw contention();
  }

  async #appendKeyed(
    base: Omit<StoredEntry, 'seq'>,
    key: string,
    fingerprint: string,
  ): Promise<AppendResult> {
    const { sessionId } = base;
    let seq = await this.#claimMarker(sessionId, key, fingerprint);
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const item: StoredEntry = { ...base, seq };
      try {
        await this.#putEntry(item);
        return { entry: publicEntry(item), created: true };
      } catch (error) {
        if (!isConditionalFailure(error)) throw toStoreError(error, 'transcript append');
        const existing = await this.#getItem(sessionId, seq, 'transcript append');
        if (existing !== undefined && ownsKey(existing, key)) {
          // Ours: an earlier call (a retry, a concurrent duplicate) or our own Put retried by the SDK.
          const ownWrite = sdkAttempts(error) > 1 && existing.entryId === base.entryId;
          return { entry: publicEntry(existing), created: ownWrite };
        }
      }
      // Another key's entry holds the marker's seq: move the marker past it (fenced on its old seq).
      seq = await this.#moveMarker(sessionId, key, seq, await this.#nextCandidate(sessionId, seq, attempt));
    }
    throw contention();
  }

  /**
   * The seq to try after a conflict at `taken`: the head (last + 1, re-read), never below taken + 1
   * (a conflict at `taken` proves 1..taken are stored, whatever a lagging read says).
   */
  async #nextCandidate(sessionId: string, taken: number, attempt: number): Promise<number> {
    if (attempt % JITTER_EVERY === 0) await backoff();
    return Math.max(taken + 1, (await this.lastSeq(sessionId)) + 1);
  }

  /** Creates the key's marker at last + 1, or returns the seq of the existing one (same payload only). */
  async #claimMarker(sessionId: string, sk: string, fingerprint: string): Promise<number> {
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const seq = (await this.lastSeq(sessionId)) + 1;
      if (await this.#putMarker(sessionId, sk, fingerprint, seq)) return seq;
      const existing = await this.#getMarker(sessionId, sk);
      if (existing === undefined) continue; // deleted by TTL in between: claim afresh
      if (existing.fingerprint !== fingerprint) {
        throw new StoreError(
          'STORE_IDEMPOTENCY_MISMATCH',
          'transcript append: the idempotency key was already used for a different payload',
        );
      }
      return existing.seq;
    }
    throw contention();
  }

  /** Moves the marker from `from` to `to` unless someone moved it already; returns its current seq. */
  async #moveMarker(sessionId: string, sk: string, from: number, to: number): Promise<number> {
    try {
      await this.#ctx.db.send(
        new UpdateCommand({
          TableName: this.#ctx.tables.sessions,
          Key: { pk: sessionId, sk },
          UpdateExpression: 'SET seq = :to',
          ConditionExpression: 'seq = :from',
          ExpressionAttributeValues: { ':to': to, ':from': from },
        }),
      );
      return to;
    } catch (error) {
      if (!isConditionalFailure(error)) throw toStoreError(error, 'idempotency key');
    }
    const marker = await this.#getMarker(sessionId, sk);
    if (marker === undefined) {
      throw new StoreError('STORE_CONFLICT', 'transcript append: the idempotency key vanished', {
        retryable: true,
      });
    }
    return marker.seq;
  }

  /**
   * Records `key#g#<genesysId>` for an entry that learned its Genesys id after it was stored, so that
   * findByKey and upstream de-duplication see it. Best effort: if the key exists already it is left
   * alone (it then points at the entry stored for that Genesys message).
   */
  async #aliasGenesysId(entry: StoredEntry, genesysId: string): Promise<void> {
    await this.#putMarker(entry.sessionId, `key#g#${genesysId}`, fingerprintOf(entry), entry.seq);
  }

  /** Creates an idempotency marker unless its key exists; true when this call created it. */
  async #putMarker(sessionId: string, sk: string, fingerprint: string, seq: number): Promise<boolean> {
    const now = this.#ctx.now();
    const marker = {
      pk: sessionId,
      sk,
      fingerprint,
      seq,
      createdAt: now,
      expiresAt: Math.floor(now / 1000) + KEY_TTL_SECONDS,
    };
    assertItemFits(marker, 'idempotency key');
    try {
      await this.#ctx.db.send(
        new PutCommand({
          TableName: this.#ctx.tables.sessions,
          Item: marker,
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalFailure(error)) throw toStoreError(error, 'idempotency key');
      return false;
    }
  }

  async #putEntry(item: StoredEntry): Promise<void> {
    assertItemFits(item as unknown as Record<string, unknown>, 'transcript entry');
    await this.#ctx.db.send(
      new PutCommand({
        TableName: this.#ctx.tables.transcript,
        Item: item,
        ConditionExpression: 'attribute_not_exists(seq)',
      }),
    );
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

  async #getMarker(sessionId: string, sk: string): Promise<Marker | undefined> {
    try {
      const out = await this.#ctx.db.send(
        new GetCommand({
          TableName: this.#ctx.tables.sessions,
          Key: { pk: sessionId, sk },
          ConsistentRead: true,
        }),
      );
      const item = out.Item;
      if (item === undefined) return undefined;
      const { seq, fingerprint } = item;
      if (typeof seq !== 'number' || typeof fingerprint !== 'string') {
        throw new StoreError('STORE_FAILED', 'idempotency key: the stored marker is malformed');
      }
      return { seq, fingerprint };
    } catch (error) {
      throw toStoreError(error, 'idempotency key');
    }
  }
}

/** The marker sk an append is keyed by: the client's key first (a guest send), else Genesys' id. */
function markerKeyOf(input: AppendInput): string | undefined {
  if (input.clientMessageId !== undefined) return `key#c#${input.clientMessageId}`;
  if (input.genesysId !== undefined) return `key#g#${input.genesysId}`;
  return undefined;
}

/** Whether `entry` is the one stored for marker `sk` (written for it, or linked by its Genesys id). */
function ownsKey(entry: StoredEntry, sk: string): boolean {
  return entry.idemKey === sk || (entry.genesysId !== undefined && sk === `key#g#${entry.genesysId}`);
}

/**
 * What makes two appends "the same": the payload, not ids, times or status (a retry gets a new entryId
 * and time, and the status a caller starts with is not content).
 */
function fingerprintOf(entry: Pick<TranscriptEntry, 'direction' | 'text' | 'content' | 'sender'>): string {
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

/** How many attempts the SDK made for the failed request (its own retries, e.g. after a timeout). */
function sdkAttempts(error: unknown): number {
  const attempts = (error as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts;
  return typeof attempts === 'number' ? attempts : 1;
}

/** A tiny jittered pause, so writers that keep colliding fall out of lockstep. */
function backoff(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
}

function contention(): StoreError {
  return new StoreError(
    'STORE_UNAVAILABLE',
    `transcript append: no free sequenceId after ${MAX_APPEND_ATTEMPTS} attempts (contention)`,
  );
}
