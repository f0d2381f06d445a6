/**
 * The owner's writes to the transcript, grouped: entries, and the markers of keyed sends, go out in
 * BatchWriteItem requests of up to 25 items, with one request in flight per writer; whatever arrives
 * while it is in flight goes into the next. At low load each item is one request as soon as it comes;
 * under load the requests carry more items each, so the cost per message falls as the load rises
 * (docs/performance.md).
 *
 * The writes are unconditional (BatchWriteItem has no conditions), which is sound here: an entry's number
 * is given out once, with its content, by the session item's allocator, and only the session's owner
 * (fenced by its epoch, writing only under its lease) writes that number; a second write of it is the
 * same message. A marker names the number its key became, which never changes.
 */
import { BatchWriteCommand } from './document.js';
import { StoreError, toStoreError } from './errors.js';
import { assertItemFits } from './item-size.js';
import type { StoreContext } from './store-context.js';
import { keyItem, type SendKey, type TranscriptEntry } from './transcript.js';

/** DynamoDB's limit of items in one BatchWriteItem. */
const MAX_BATCH = 25;
/** Tries of a batch whose items the engine left unprocessed (throttling) before they fail. */
const MAX_ATTEMPTS = 5;

interface Pending {
  readonly table: string;
  readonly item: Record<string, unknown>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class TranscriptWriter {
  readonly #ctx: StoreContext;
  readonly #queue: Pending[] = [];
  #flushing = false;
  /** Requests sent and items they carried, for the benchmarks. */
  readonly stats = { requests: 0, items: 0 };

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Writes the entry at its number, in the next batch. STORE_ITEM_TOO_LARGE before any request. */
  put(entry: TranscriptEntry): Promise<void> {
    const item = entry as unknown as Record<string, unknown>;
    assertItemFits(item, 'transcript entry');
    return this.#enqueue(this.#ctx.tables.transcript, item);
  }

  /** Records which entry a keyed send became (see TranscriptStore.putKey), in the next batch. */
  putKey(sessionId: string, clientMessageId: string, key: SendKey): Promise<void> {
    return this.#enqueue(
      this.#ctx.tables.sessions,
      keyItem(sessionId, clientMessageId, key, this.#ctx.now()),
    );
  }

  #enqueue(table: string, item: Record<string, unknown>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ table, item, resolve, reject });
      // Items handed in during the same turn of the event loop go together.
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      try {
        await this.#write(batch);
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.#flushing = false;
  }

  async #write(batch: readonly Pending[]): Promise<void> {
    let requests: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> = {};
    for (const { table, item } of batch) {
      const list = requests[table] ?? [];
      list.push({ PutRequest: { Item: item } });
      requests[table] = list;
    }
    for (let attempt = 1; ; attempt++) {
      let unprocessed: typeof requests | undefined;
      try {
        this.stats.requests++;
        this.stats.items += Object.values(requests).reduce((n, list) => n + list.length, 0);
        const out = await this.#ctx.db.send(new BatchWriteCommand({ RequestItems: requests }));
        unprocessed = out.UnprocessedItems as typeof requests | undefined;
      } catch (error) {
        throw toStoreError(error, 'transcript batch');
      }
      if (unprocessed === undefined || Object.keys(unprocessed).length === 0) return;
      if (attempt >= MAX_ATTEMPTS) {
        throw new StoreError('STORE_UNAVAILABLE', 'transcript batch: items left unprocessed (throttled)');
      }
      requests = unprocessed;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * 2 ** attempt));
    }
  }
}
