/**
 * What a settled command leaves on the session item, with the executor on a real store (dynalite).
 * A record the owner numbered and wrote itself leaves nothing: its numbering write has answered, so no
 * retry of it can land later, and every id kept there is paid for by every read and write of the item. A
 * record found on the item and carried out by a drain keeps its id for the settle horizon: its numbering
 * write may still be on its way (retried by the SDK after an answer that was lost), and must then number
 * nothing. A guest's send keeps its id too, keyed or not: the handler's write may be retried by the SDK
 * after the owner carried it out. What breaks if this is wrong: the same message under two numbers (and,
 * for a send, sent to Genesys twice), or session items that grow by an id per agent message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandExecutor, type ExecutorHost } from '../../../src/commands/executor.js';
import { CommandQueue } from '../../../src/commands/queue.js';
import { type RecordCommand, settledName } from '../../../src/commands/types.js';
import { DEFAULT_CONSTRAINTS } from '../../../src/domain/constraints.js';
import { provisionTables } from '../../../src/store/provision.js';
import { type Fence, SessionStore } from '../../../src/store/sessions.js';
import { createStoreContext, type StoreContext } from '../../../src/store/store-context.js';
import { tableNames } from '../../../src/store/tables.js';
import { fingerprintOf, TranscriptStore } from '../../../src/store/transcript.js';
import { TranscriptWriter } from '../../../src/store/transcript-writer.js';
import { WorkerStore } from '../../../src/store/workers.js';
import { type Engine, startDynaliteEngine } from '../../../support/engines.js';
import { uniqueId } from '../../store/harness.js';

let engine: Engine | undefined;
let client: ReturnType<Engine['client']> | undefined;
let ctx: StoreContext | undefined;

beforeAll(async () => {
  engine = await startDynaliteEngine();
  client = engine.client();
  const tables = tableNames(`records-${uniqueId('t')}-`);
  await provisionTables(client, tables);
  ctx = createStoreContext({ client, tables, now: () => Date.now() });
});

afterAll(async () => {
  client?.destroy();
  await engine?.close();
});

function store(): StoreContext {
  if (ctx === undefined) throw new Error('engine not started');
  return ctx;
}

async function ownedSession(): Promise<{ sessionId: string; fence: Fence }> {
  const sessions = new SessionStore(store());
  const { sessionId } = await sessions.create({
    sessionId: uniqueId('s'),
    team: 'team-a',
    deploymentId: 'dep-1',
    guestToken: 'secret-guest-token',
    constraints: DEFAULT_CONSTRAINTS,
  });
  const workerId = uniqueId('w');
  await new WorkerStore(store()).heartbeat({ workerId, load: 0 });
  const { epoch } = await sessions.claim(sessionId, workerId, { staleAfterMs: 15_000 });
  return { sessionId, fence: { workerId, epoch } };
}

/**
 * An executor on the real store, posts kept. Upstream, only `send` (records need no Genesys): each
 * guest message is taken at once under a new Genesys id.
 */
function executorFor(
  sessionId: string,
  fence: Fence,
  posted: unknown[],
  failures: unknown[],
): CommandExecutor {
  let sent = 0;
  const host = {
    sessionId,
    fence,
    sessions: new SessionStore(store()),
    transcript: new TranscriptStore(store()),
    entries: new TranscriptWriter(store()),
    queue: new CommandQueue(store()),
    guest: () => ({ send: async () => ({ genesysId: `g-sent-${++sent}` }) }),
    write: <T>(action: () => Promise<T>) => action(),
    post: async (event: unknown) => {
      posted.push(event);
    },
    controlConnectionId: () => undefined,
    closed: false,
    ready: async () => {},
    nextReady: async () => true,
    onFailure: (error: unknown) => failures.push(error),
    ended: async () => {},
    failureOf: () => ({ code: 'internal_error', message: 'unexpected' }),
    log: { warn: () => {}, error: () => {} },
    now: () => Date.now(),
    counters: { writes: 0, upstreamSends: 0, appended: 0, duplicatesDropped: 0 },
  } as unknown as ExecutorHost;
  // Settlements written alone within a few milliseconds (no other write to ride on).
  return new CommandExecutor(host, { settleDelayMs: 10, idleAfterMs: 60_000 });
}

async function untilSettled(sessionId: string): Promise<Awaited<ReturnType<SessionStore['get']>>> {
  const sessions = new SessionStore(store());
  for (let i = 0; i < 200; i++) {
    const item = await sessions.get(sessionId);
    if (item !== undefined && Object.keys(item.pending).length === 0) return item;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const item = await sessions.get(sessionId);
  throw new Error(`the record was not settled within 2 s: pending ${Object.keys(item?.pending ?? {})}`);
}

/** An executor that opens the session as stored and drains it; resolves once nothing is pending. */
async function drained(sessionId: string, fence: Fence) {
  const posted: unknown[] = [];
  const failures: unknown[] = [];
  const executor = executorFor(sessionId, fence, posted, failures);
  const session = await new SessionStore(store()).get(sessionId);
  if (session === undefined) throw new Error('no session');
  executor.open(session, { takenOver: false, stored: [] });
  return { executor, posted, failures, item: await untilSettled(sessionId) };
}

describe('a settled command on the session item', () => {
  it('numbered and written by the owner itself: nothing stays on the item', async () => {
    const { sessionId, fence } = await ownedSession();
    const posted: unknown[] = [];
    const failures: unknown[] = [];
    const executor = executorFor(sessionId, fence, posted, failures);
    const entry = await executor.record({
      direction: 'agent',
      text: 'hello',
      content: [],
      genesysId: 'g-own',
    });
    expect(entry?.seq).toBe(1);
    const item = await untilSettled(sessionId);
    expect(item?.settled).toEqual({});
    expect(posted).toHaveLength(1);
    expect(failures).toEqual([]);
    executor.stop();
  });

  it('carried out by a drain: its id stays, and a late retry of its numbering numbers nothing', async () => {
    const { sessionId, fence } = await ownedSession();
    const queue = new CommandQueue(store());
    const record: RecordCommand = {
      id: 'r#g-drained',
      type: 'record',
      createdAt: Date.now(),
      entryId: 'e-drained',
      direction: 'agent',
      text: 'numbered, the answer lost',
      content: [],
      time: new Date().toISOString(),
      genesysId: 'g-drained',
    };
    // The numbering write was applied; its caller never heard (it will retry).
    expect(await queue.record(sessionId, fence, record)).toBe(1);
    const { executor, posted, failures, item } = await drained(sessionId, fence);
    expect(item?.settled).toEqual({ [settledName('r#g-drained')]: 1 });
    // The retry lands after the drain wrote and settled the record: refused, nothing numbered.
    expect(await queue.record(sessionId, fence, record)).toBeUndefined();
    expect((await new SessionStore(store()).get(sessionId))?.lastSeq).toBe(1);
    expect(posted).toHaveLength(1);
    expect(failures).toEqual([]);
    executor.stop();
  });

  it('a send, keyed or not, keeps its id: a late retry of its write numbers and queues nothing', async () => {
    const { sessionId, fence } = await ownedSession();
    const sessions = new SessionStore(store());
    const queue = new CommandQueue(store());
    const before = await sessions.get(sessionId);
    if (before === undefined) throw new Error('no session');
    const unkeyed = { id: 's#e-unkeyed', entryId: 'e-unkeyed', text: 'no key', content: [] };
    const keyed = {
      id: 'c#k-1',
      entryId: 'e-keyed',
      text: 'with a key',
      content: [],
      clientMessageId: 'k-1',
      fingerprint: fingerprintOf({ direction: 'guest', text: 'with a key', content: [] }),
    };
    // The handlers' writes were applied; their answers were late, and the SDK will try them again.
    for (const send of [unkeyed, keyed]) {
      expect((await queue.submitSend(before, send)).kind).toBe('queued');
    }
    const { executor, failures, item } = await drained(sessionId, fence);
    expect(item?.settled).toEqual({ [settledName(unkeyed.id)]: 1, [settledName(keyed.id)]: 2 });
    // The retries land after the owner sent, wrote and settled both: refused, the first number back.
    for (const [i, send] of [unkeyed, keyed].entries()) {
      expect(await queue.submitSend(before, send)).toMatchObject({ kind: 'settled', seq: i + 1 });
    }
    const after = await sessions.get(sessionId);
    expect(after?.lastSeq).toBe(2);
    expect(after?.pending).toEqual({});
    expect(failures).toEqual([]);
    executor.stop();
  });
});
