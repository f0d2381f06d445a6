/**
 * The relay under test, all real and on loopback (local/system.ts assembles it): dynalite with the
 * provisioned tables, the gateway emulator as the public API (the REAL authorizer, the REAL route
 * handlers from lambdas/routes.ts) and as the control API, a `ws` client acting as a worker on the control
 * API, and the real @aws-sdk/client-apigatewaymanagementapi behind ManagementClient, over HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { WebSocket } from 'ws';
import {
  createSystem,
  DEFAULT_TIMING,
  embeddedSystemConfig,
  type GenesysChoice,
  type System,
  type Timing,
} from '../../../local/system.js';
import { mintAccessToken, secretFromString } from '../../../src/auth/index.js';
import type { AccessTokenRole } from '../../../src/auth/tokens.js';
import { type ChannelConstraints, DEFAULT_CONSTRAINTS } from '../../../src/domain/constraints.js';
import type { WebSocketApi } from '../../../src/gateway/emulator/index.js';
import type { TeamPolicyDocument } from '../../../src/policy/team-policy.js';
import { parseServerEvent, type ServerEvent } from '../../../src/protocol/index.js';
import type { RelayDeps } from '../../../src/relay/index.js';
import { ScanCommand, UpdateCommand } from '../../../src/store/document.js';
import { createStoreContext, type StoreContext, type TableNames } from '../../../src/store/index.js';
import { openSocket } from '../../../support/frontend.js';

export { LOCAL_CREDENTIALS } from '../../../local/system.js';
export { openSocket };

/** A test constant, not a secret of any deployment. */
export const TEST_SECRET = 'relay-integration-test-secret-0123456789abcdef';
export const AUDIENCE = 'guest-relay';
export const DEPLOYMENT_ID = 'dep-1234';
/** The worker's guest-token key in tests and benchmarks (a worker derives each session's token from it). */
export const TEST_GUEST_TOKEN_KEY = 'test-guest-token-key-0123456789abcdef';
export const MAX_PENDING = 8;

export interface Relay {
  /** Everything the harness started (local/system.ts): its emulator, its worker processes. */
  readonly system: System;
  readonly dynamoEndpoint: string;
  readonly publicApi: WebSocketApi;
  readonly controlApi: WebSocketApi;
  readonly deps: RelayDeps;
  readonly ctx: StoreContext;
  readonly tables: TableNames;
  /** Public connection ids in the order their handshakes completed. */
  readonly connectionIds: string[];
  /** Control connection ids in the order workers connected. */
  readonly controlIds: string[];
  token(
    claims: { team: string; role?: AccessTokenRole; subject?: string },
    options?: TokenOptions,
  ): Promise<string>;
  client(claims: { team: string; role?: AccessTokenRole; subject?: string }): Promise<Client>;
  worker(workerId: string, load?: number): Promise<Worker>;
  snapshot(): Promise<Record<string, unknown[]>>;
  close(): Promise<void>;
}

/**
 * Stores an agent (or bot) message as a session's owner would: numbered on the session item, written to
 * the transcript, settled. Fenced by whatever owner and epoch the session names now (`none` when unowned),
 * so relay tests need no worker to have something in the transcript.
 */
export async function storeUpstreamMessage(
  deps: RelayDeps,
  sessionId: string,
  message: { readonly direction?: 'agent' | 'bot' | 'system'; readonly text: string },
): Promise<number> {
  const session = await deps.sessions.get(sessionId);
  if (session === undefined) throw new Error(`no session ${sessionId}`);
  const fence = { workerId: session.ownerId ?? 'none', epoch: session.epoch };
  const id = `r#${randomUUID()}`;
  const entryId = randomUUID();
  const time = new Date().toISOString();
  const direction = message.direction ?? 'agent';
  const numbered = await deps.queue.record(sessionId, fence, {
    id,
    type: 'record',
    createdAt: Date.now(),
    entryId,
    direction,
    content: [],
    text: message.text,
    time,
  });
  if (numbered === undefined) throw new Error('a fresh record was refused');
  const seq = numbered;
  await deps.transcript.put({
    sessionId,
    seq,
    entryId,
    direction,
    content: [],
    text: message.text,
    status: 'sent',
    time,
    storedAt: Date.now(),
  });
  await deps.queue.settle(sessionId, fence, { done: [{ id }] });
  return seq;
}

export interface TokenOptions {
  readonly secret?: string;
  readonly audience?: string;
  readonly now?: number;
  readonly ttlSeconds?: number;
}

/** `logLevel`: 'SILENT' by default; a test that inspects the logs raises it. */
export interface RelayOptions {
  logLevel?: 'SILENT' | 'DEBUG';
  /**
   * The DynamoDB client the handlers use (default: one on the test's dynalite). A test passes its own
   * to inject an error no local engine produces (throttling, an unexpected failure).
   */
  dynamodb?: (endpoint: string) => DynamoDBClient;
  /** The Genesys deployment of sessions started without one (default DEPLOYMENT_ID). */
  deploymentId?: string;
  /** When the Lambdas (and the workers) call a worker stale, how often workers beat (default: 15 s stale). */
  timing?: Timing;
  /** Asked on every control API `$connect`: false refuses it (403), as an outage of the control API. */
  acceptControl?: () => boolean;
  /** Commands a session may have pending (default MAX_PENDING, small so that tests can fill it). */
  maxPending?: number;
  /** The team policy (default: every team may open the deployment, no quotas). */
  teamPolicy?: TeamPolicyDocument;
  /** Upstream (default: none, deployment `deploymentId`). */
  genesys?: GenesysChoice;
}

export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const connectionIds: string[] = [];
  const controlIds: string[] = [];
  const system = await createSystem(
    embeddedSystemConfig({
      logLevel: options.logLevel ?? 'SILENT',
      genesys: options.genesys ?? { deploymentId: options.deploymentId ?? DEPLOYMENT_ID },
      accessTokens: { secret: TEST_SECRET, audience: AUDIENCE },
      guestTokenKey: TEST_GUEST_TOKEN_KEY,
      // Tests of other things than quotas start many sessions as one subject: the default policy has none.
      ...(options.teamPolicy === undefined ? {} : { teamPolicy: options.teamPolicy }),
      timing: options.timing ?? { ...DEFAULT_TIMING, staleAfterMs: 15_000 },
      relay: {
        maxPending: options.maxPending ?? MAX_PENDING,
        validateResponses: true,
      },
      hooks: {
        ...(options.dynamodb === undefined ? {} : { dynamodb: options.dynamodb }),
        ...(options.acceptControl === undefined ? {} : { acceptControl: options.acceptControl }),
        publicConnected: (id) => connectionIds.push(id),
        controlConnected: (id) => controlIds.push(id),
      },
    }),
  );
  const { deps, tables, publicApi, controlApi } = system;
  const ctx = createStoreContext({ client: system.dynamodb, tables, now: Date.now });

  const sockets: WebSocket[] = [];
  const token: Relay['token'] = (claims, options = {}) =>
    mintAccessToken(
      {
        team: claims.team,
        role: claims.role ?? 'guest',
        ...(claims.subject ? { subject: claims.subject } : {}),
        ttlSeconds: options.ttlSeconds ?? 600,
      },
      {
        secret: secretFromString(options.secret ?? TEST_SECRET),
        audience: options.audience ?? AUDIENCE,
        now: options.now ?? Date.now(),
      },
    );

  return {
    system,
    dynamoEndpoint: system.dynamo.endpoint,
    publicApi,
    controlApi,
    deps,
    ctx,
    tables,
    connectionIds,
    controlIds,
    token,
    async client(claims) {
      const ws = await openSocket(`${publicApi.url}?token=${encodeURIComponent(await token(claims))}`);
      sockets.push(ws);
      const id = connectionIds.at(-1) as string;
      return new Client(ws, id);
    },
    async worker(workerId, load = 0) {
      const ws = await openSocket(controlApi.url);
      sockets.push(ws);
      const controlConnectionId = controlIds.at(-1) as string;
      const worker = new Worker(ws, workerId, controlConnectionId);
      await deps.workers.heartbeat({ workerId, controlConnectionId, load });
      return worker;
    },
    async snapshot() {
      const out: Record<string, unknown[]> = {};
      for (const [key, name] of Object.entries(tables)) {
        const { Items } = await ctx.db.send(new ScanCommand({ TableName: name, ConsistentRead: true }));
        out[key] = (Items ?? []).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      }
      return out;
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      await system.stop();
    },
  };
}

type ServerEventLike = Record<string, unknown>;

/** A queue of parsed messages with an awaitable `next`. */
class Inbox<T> {
  readonly items: T[] = [];
  readonly #waiters: ((item: T) => void)[] = [];
  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }
  next(timeoutMs = 5000): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new Error('no message arrived'));
      }, timeoutMs);
      const waiter = (value: T) => {
        clearTimeout(timer);
        resolve(value);
      };
      this.#waiters.push(waiter);
    });
  }
}

/** A frontend on the public API. */
export class Client {
  readonly #inbox = new Inbox<ServerEvent>();
  readonly ws: WebSocket;
  readonly connectionId: string;
  constructor(ws: WebSocket, connectionId: string) {
    this.ws = ws;
    this.connectionId = connectionId;
    ws.on('message', (data: Buffer) => {
      const parsed = parseServerEvent(data.toString('utf8'));
      if (!parsed.ok) throw new Error(`unparseable event: ${data.toString('utf8').slice(0, 200)}`);
      this.#inbox.push(parsed.event);
    });
  }
  get pending(): readonly ServerEvent[] {
    return this.#inbox.items;
  }
  sendRaw(text: string): void {
    this.ws.send(text);
  }
  next(): Promise<ServerEvent> {
    return this.#inbox.next();
  }
  /** Sends a frame and returns the next event. */
  async request(frame: unknown): Promise<ServerEvent> {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    return this.next();
  }
  /** A ping round trip: every event sent before it has arrived, and none is left unread. */
  async settle(): Promise<void> {
    const nonce = randomUUID();
    const event = await this.request({ action: 'ping', nonce });
    if (event.type !== 'pong' || event.nonce !== nonce) {
      throw new Error(`expected the pong, got ${JSON.stringify(event)}`);
    }
    if (this.#inbox.items.length > 0)
      throw new Error(`unexpected events: ${JSON.stringify(this.#inbox.items)}`);
  }
  /** Starts a session; returns the connect event. */
  async start(extra: Record<string, unknown> = {}): Promise<Extract<ServerEvent, { type: 'connect' }>> {
    const event = await this.request({ action: 'connect', ...extra });
    if (event.type !== 'connect') throw new Error(`expected connect, got ${JSON.stringify(event)}`);
    return event;
  }
}

/** A worker on the control API (only what the Lambdas see of it: its doorbell). */
export class Worker {
  readonly #inbox = new Inbox<ServerEventLike>();
  readonly ws: WebSocket;
  readonly workerId: string;
  readonly controlConnectionId: string;
  constructor(ws: WebSocket, workerId: string, controlConnectionId: string) {
    this.ws = ws;
    this.workerId = workerId;
    this.controlConnectionId = controlConnectionId;
    ws.on('message', (data: Buffer) =>
      this.#inbox.push(JSON.parse(data.toString('utf8')) as ServerEventLike),
    );
  }
  doorbell(timeoutMs?: number): Promise<ServerEventLike> {
    return this.#inbox.next(timeoutMs);
  }
  get unread(): readonly ServerEventLike[] {
    return this.#inbox.items;
  }
}

export function closedSocket(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve();
    else ws.once('close', () => resolve());
  });
}

/** Lets the session accept images and text files (as the worker does once Genesys says so). */
export async function allowMedia(
  relay: Relay,
  sessionId: string,
  attachments: Partial<ChannelConstraints['attachments']> = {},
): Promise<void> {
  await relay.ctx.db.send(
    new UpdateCommand({
      TableName: relay.tables.sessions,
      Key: { pk: sessionId, sk: 'session' },
      UpdateExpression: 'SET #c = :c',
      ExpressionAttributeNames: { '#c': 'constraints' },
      ExpressionAttributeValues: {
        ':c': {
          ...DEFAULT_CONSTRAINTS,
          attachments: {
            enabled: true,
            fileTypes: ['image/*', 'text/plain'],
            maxFileSizeKB: 1,
            blockedExtensions: ['.exe'],
            maxPerMessage: 1,
            ...attachments,
          },
        },
      },
    }),
  );
}
