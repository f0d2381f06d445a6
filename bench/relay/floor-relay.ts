/**
 * The design's floor: the seed relay (seed-relay.ts) plus exactly the store requests that the command
 * path puts before each message leaves, made by guest-relay's own store code through local mode's
 * DynamoDB client, against dynalite on its own thread, as `npm start` runs them (mode `design`):
 *
 * - guest → Genesys: the session item and the key's marker in one read (`getWithSendKey`), then the one
 *   conditional write that admits, numbers and stores the send (`submitSend`); then `onMessage`;
 * - Genesys → guest: the owner's fenced numbering write (`record`); then the `message` event.
 *
 * Settlements ride on the next `record` or go alone 0.5–1.5 s later, keys stay on the item for the
 * settle horizon, as the worker does them. Everything else of guest-relay is left out: the gateway
 * emulator, the handlers and their validation, the doorbell, the worker's hop, the `@connections` post,
 * the transcript's entries. So it is a lower bound: guest-relay with its store code, on this machine and
 * with this engine, cannot relay a message faster than this does.
 *
 * Mode `bare` goes lower still, below any design that stores messages: the same number of requests
 * (a read and a write for the guest's message, a write for the agent's), each the smallest of its kind
 * (a GetItem, an UpdateItem `lastSeq + 1` without a condition) on a small item of its own.
 *
 * Both are measured beside the seed relay and guest-relay (bench/relay.ts) to tell what the design costs
 * here from what guest-relay adds to it (docs/performance.md).
 *
 *   node --import tsx bench/relay/floor-relay.ts <guest-api ws url> <deploymentId> [design|bare]
 */
import { randomUUID } from 'node:crypto';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { WebSocket, WebSocketServer } from 'ws';
import { localDynamoClient } from '../../local/system.js';
import { CommandQueue, type Settlement } from '../../src/commands/queue.js';
import { Settlements } from '../../src/commands/settlements.js';
import { type RecordCommand, sendCommandId } from '../../src/commands/types.js';
import { DEFAULT_CONSTRAINTS } from '../../src/domain/constraints.js';
import {
  createStoreContext,
  type Fence,
  fingerprintOf,
  provisionTables,
  SessionStore,
  startDynaliteThread,
  tableNames,
  WorkerStore,
} from '../../src/store/index.js';
import { announceServer, answerReports } from './child.js';
import { sendTextOf, type UpstreamFrame } from './frontend-frames.js';

const [upstreamUrl, deploymentId, mode = 'design'] = process.argv.slice(2);
if (upstreamUrl === undefined || deploymentId === undefined || (mode !== 'design' && mode !== 'bare')) {
  console.error('usage: floor-relay.ts <guest-api ws url> <deploymentId> [design|bare]');
  process.exit(2);
}

const dynamo = await startDynaliteThread();
const client = localDynamoClient(dynamo);
const tables = tableNames('floor-');
await provisionTables(client, tables);
const ctx = createStoreContext({ client, tables, now: () => Date.now() });
const sessions = new SessionStore(ctx);
const queue = new CommandQueue(ctx);
const workerId = `floor-${randomUUID()}`;
await new WorkerStore(ctx).heartbeat({ workerId, load: 0 });

/** The owner's side of one session: its writes one at a time, its settlements as the worker keeps them. */
class Owner {
  readonly #sessionId: string;
  readonly #fence: Fence;
  #writes: Promise<unknown> = Promise.resolve();
  readonly #settlements = new Settlements(queue.options.settleHorizonMs);
  #timer: NodeJS.Timeout | undefined;

  constructor(sessionId: string, fence: Fence) {
    this.#sessionId = sessionId;
    this.#fence = fence;
  }

  /** Numbers an agent message (with any settlement riding along) and resolves with its number. */
  record(record: RecordCommand): Promise<number | undefined> {
    return this.#write(async () => {
      const settlement = this.#settlements.take(Date.now());
      const seq = await queue.record(this.#sessionId, this.#fence, record, settlement);
      this.#settled(settlement);
      return seq;
    });
  }

  /** A command carried out: it leaves the item with the next write, or alone in 0.5–1.5 s. */
  finish(done: Settlement['done'][number]): void {
    this.#settlements.add(done);
    this.#timer ??= setTimeout(
      () => {
        this.#timer = undefined;
        void this.#write(async () => {
          const settlement = this.#settlements.take(Date.now());
          if (settlement === undefined) return;
          await queue.settle(this.#sessionId, this.#fence, settlement);
          this.#settled(settlement);
        }).catch(fail);
      },
      500 + Math.random() * 1000,
    );
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  #write<T>(action: () => Promise<T>): Promise<T> {
    const next = this.#writes.then(action);
    this.#writes = next.catch(() => {});
    return next;
  }

  #settled(settlement: Settlement | undefined): void {
    if (settlement !== undefined) this.#settlements.written(settlement, Date.now());
  }
}

function fail(error: unknown): void {
  console.error(`floor relay: ${error instanceof Error ? error.message : String(error)}`);
}

/** Mode `bare`: `lastSeq + 1` on a small item of the session's own, no condition; the new number. */
async function bareWrite(sessionId: string): Promise<number> {
  const { Attributes } = await client.send(
    new UpdateItemCommand({
      TableName: tables.sessions,
      Key: { pk: { S: `bare#${sessionId}` }, sk: { S: 'bare' } },
      UpdateExpression: 'SET lastSeq = if_not_exists(lastSeq, :zero) + :one',
      ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' } },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(Attributes?.lastSeq?.N);
}

/** The guest's side: one read, one write, as the `send` handler makes them; resolves once it is written. */
async function admit(sessionId: string, text: string): Promise<Settlement['done'][number] | undefined> {
  if (mode === 'bare') {
    await client.send(
      new GetItemCommand({
        TableName: tables.sessions,
        Key: { pk: { S: `bare#${sessionId}` }, sk: { S: 'bare' } },
        ConsistentRead: true,
      }),
    );
    await bareWrite(sessionId);
    return undefined;
  }
  const clientMessageId = randomUUID();
  const { session } = await sessions.getWithSendKey(sessionId, clientMessageId);
  if (session === undefined) throw new Error(`session ${sessionId} is gone`);
  const entryId = randomUUID();
  const content: unknown[] = [];
  const outcome = await queue.submitSend(session, {
    id: sendCommandId(clientMessageId, entryId),
    entryId,
    content,
    text,
    clientMessageId,
    fingerprint: fingerprintOf({ direction: 'guest', content, text }),
  });
  if (outcome.kind !== 'queued') return undefined;
  const { command } = outcome;
  return { id: command.id, bytes: command.bytes, keep: command.seq };
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('connection', (frontend) => {
  const token = randomUUID();
  const sessionId = randomUUID();
  let owner: Owner | undefined;
  const stored = (async () => {
    await sessions.create({
      sessionId,
      team: 'bench',
      deploymentId,
      constraints: DEFAULT_CONSTRAINTS,
      connectionId: `conn-${sessionId}`,
    });
    const { epoch } = await sessions.claim(sessionId, workerId, { staleAfterMs: 3_600_000 });
    owner = new Owner(sessionId, { workerId, epoch });
  })();
  const upstream = new WebSocket(`${upstreamUrl}?deploymentId=${encodeURIComponent(deploymentId)}`, {
    perMessageDeflate: false,
  });
  let ready = false;
  const waiting: string[] = [];
  // The guest's messages leave in the order the frontend sent them.
  let guestChain: Promise<void> = Promise.resolve();
  const forward = (text: string): void => {
    guestChain = guestChain
      .then(async () => {
        const done = await admit(sessionId, text);
        upstream.send(JSON.stringify({ action: 'onMessage', token, message: { type: 'Text', text } }));
        if (done !== undefined) owner?.finish(done);
      })
      .catch(fail);
  };

  upstream.on('open', () => {
    upstream.send(JSON.stringify({ action: 'configureSession', token, deploymentId }));
  });
  upstream.on('message', (data) => {
    const frame = JSON.parse(data.toString('utf8')) as UpstreamFrame;
    if (frame.class === 'SessionResponse' && !ready) {
      void stored.then(() => {
        ready = true;
        for (const text of waiting.splice(0)) forward(text);
        frontend.send(JSON.stringify({ type: 'connect' }));
      }, fail);
    } else if (frame.class === 'StructuredMessage' && frame.body?.direction === 'Outbound') {
      const text = frame.body.text;
      const genesysId = frame.body.id ?? randomUUID();
      const record: RecordCommand = {
        id: `r#${genesysId}`,
        type: 'record',
        createdAt: Date.now(),
        entryId: randomUUID(),
        direction: 'agent',
        ...(text === undefined ? {} : { text }),
        content: [],
        time: new Date().toISOString(),
        genesysId,
      };
      if (mode === 'bare') {
        bareWrite(sessionId)
          .then((seq) => frontend.send(JSON.stringify({ type: 'message', text, sequenceId: seq })))
          .catch(fail);
        return;
      }
      if (owner === undefined) {
        fail(new Error(`an agent message for session ${sessionId} before it was stored`));
        return;
      }
      const numberedBy = owner;
      numberedBy
        .record(record)
        .then((seq) => {
          frontend.send(JSON.stringify({ type: 'message', text, sequenceId: seq }));
          numberedBy.finish({ id: record.id });
        })
        .catch(fail);
    }
  });
  upstream.on('close', () => frontend.close());
  upstream.on('error', () => frontend.terminate());

  frontend.on('message', (data) => {
    const text = sendTextOf(frontend, data);
    if (text === undefined) return;
    if (ready) forward(text);
    else waiting.push(text);
  });
  frontend.on('close', () => {
    owner?.stop();
    upstream.close();
  });
});
announceServer(server, async () => {
  client.destroy();
  await dynamo.close();
});
// Its CPU per message and its store requests, beside the seed relay's and guest-relay's.
answerReports(() => ({ dynamoRequests: dynamo.requests() }));
