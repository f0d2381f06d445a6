/**
 * The whole system on loopback, with workers as real processes: dynalite (over TCP, shared by every
 * process), the gateway emulator as public API (real authorizer and route handlers) and control API
 * (real control handlers), the Genesys emulator upstream, and `worker/main.ts` spawned as child
 * processes that a test can SIGKILL, SIGTERM, SIGSTOP and SIGCONT.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WebSocket } from 'ws';
import { COMMAND_QUEUE_DEFAULTS } from '../../../src/commands/queue.js';
import { readWholeTranscript } from '../../../src/commands/reader.js';
import { type GenesysEmulator, startGenesysEmulator } from '../../../src/genesys/emulator/index.js';
import type { TeamPolicyDocument } from '../../../src/policy/team-policy.js';
import { parseServerEvent, type ServerEvent } from '../../../src/protocol/index.js';
import type { SessionStore } from '../../../src/store/sessions.js';
import { TABLE_ENV, type TableKey } from '../../../src/store/tables.js';
import type { TranscriptEntry, TranscriptStore } from '../../../src/store/transcript.js';
import { WORKER_DEFAULTS } from '../../../worker/config.js';
import { GuestTokens } from '../../../worker/guest-token.js';
import type { WorkerHealth } from '../../../worker/worker.js';
import { openSocket, type Relay, startRelay, TEST_GUEST_TOKEN_KEY } from '../relay/harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Timing {
  readonly heartbeatIntervalMs: number;
  readonly staleAfterMs: number;
  readonly sweepIntervalMs: number;
}

/** Fast enough for a test, with about the ratios of the defaults. */
export const FAST: Timing = { heartbeatIntervalMs: 400, staleAfterMs: 2_500, sweepIntervalMs: 700 };

/** The production defaults (worker/config.ts): what the acceptance figures are about. */
export const DEFAULT_TIMING: Timing = {
  heartbeatIntervalMs: WORKER_DEFAULTS.heartbeatIntervalMs,
  staleAfterMs: WORKER_DEFAULTS.staleAfterMs,
  sweepIntervalMs: WORKER_DEFAULTS.sweepIntervalMs,
};

export interface System {
  readonly relay: Relay;
  readonly emulator: GenesysEmulator;
  readonly timing: Timing;
  spawnWorker(name: string, env?: Record<string, string>): Promise<WorkerProcess>;
  guest(team?: string): Promise<Guest>;
  /** The session's guest token (what the agent console addresses). */
  tokenOf(sessionId: string): Promise<string>;
  owner(sessionId: string): Promise<string | undefined>;
  transcript(sessionId: string): Promise<TranscriptEntry[]>;
  /** Every worker's log lines so far (for a failing test's message). */
  workerLogs(): Record<string, unknown>[];
  close(): Promise<void>;
}

export interface SystemOptions {
  readonly timing?: Timing;
  /** Limits of the Genesys emulator (e.g. a shorter maxTextLength than the relay knows). */
  readonly emulatorLimits?: { readonly maxTextLength?: number };
  readonly acceptControl?: () => boolean;
  /** The team policy of the relay and (through TEAM_POLICY) of every worker, given the emulator's deployment. */
  readonly teamPolicy?: (deploymentId: string) => TeamPolicyDocument;
}

export async function startSystem(options: SystemOptions = {}): Promise<System> {
  const timing = options.timing ?? FAST;
  const emulator = await startGenesysEmulator({
    script: null,
    ...(options.emulatorLimits ? { limits: options.emulatorLimits } : {}),
  });
  const relay = await startRelay({
    deploymentId: emulator.deploymentId,
    workerStaleAfterMs: timing.staleAfterMs,
    // The production bound: a guest may keep sending while no worker holds the session.
    maxPending: COMMAND_QUEUE_DEFAULTS.maxPending,
    ...(options.acceptControl ? { acceptControl: options.acceptControl } : {}),
    ...(options.teamPolicy ? { teamPolicy: options.teamPolicy(emulator.deploymentId) } : {}),
  });
  const workers: WorkerProcess[] = [];
  const guests: Guest[] = [];

  const baseEnv: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: relay.dynamoEndpoint,
    PUBLIC_MANAGEMENT_ENDPOINT: relay.publicApi.managementEndpoint,
    CONTROL_URL: relay.controlApi.url,
    CONTROL_AUTH: 'none',
    GENESYS_WS_URL: emulator.wsUrl,
    GENESYS_API_URL: emulator.httpUrl,
    HEARTBEAT_INTERVAL_MS: String(timing.heartbeatIntervalMs),
    WORKER_STALE_AFTER_MS: String(timing.staleAfterMs),
    SWEEP_INTERVAL_MS: String(timing.sweepIntervalMs),
    HEALTH_PORT: '0',
    LOG_LEVEL: 'INFO',
    GUEST_TOKEN_KEY: TEST_GUEST_TOKEN_KEY,
    TEAM_POLICY: relay.teamPolicy,
    ...Object.fromEntries(
      (Object.keys(TABLE_ENV) as TableKey[]).map((key) => [TABLE_ENV[key], relay.tables[key]]),
    ),
  };

  return {
    relay,
    emulator,
    timing,
    async spawnWorker(name, env = {}) {
      const worker = await WorkerProcess.spawn(name, { ...baseEnv, WORKER_ID: name, ...env });
      workers.push(worker);
      return worker;
    },
    async guest(team = 'team-a') {
      const token = await relay.token({ team });
      const ws = await openSocket(`${relay.publicApi.url}?token=${encodeURIComponent(token)}`);
      const guest = new Guest(ws);
      guests.push(guest);
      return guest;
    },
    async tokenOf(sessionId) {
      const session = await relay.deps.sessions.get(sessionId);
      if (session === undefined) throw new Error(`no session ${sessionId}`);
      return new GuestTokens(new TextEncoder().encode(TEST_GUEST_TOKEN_KEY)).tokenFor(session);
    },
    async owner(sessionId) {
      return (await relay.deps.sessions.get(sessionId))?.ownerId;
    },
    transcript: (sessionId) => readTranscript(relay.deps, sessionId),
    workerLogs() {
      return workers.flatMap((worker) => worker.logs);
    },
    async close() {
      for (const guest of guests) guest.ws.terminate();
      await Promise.all(workers.map((worker) => worker.kill('SIGKILL')));
      await relay.close();
      await emulator.close();
    },
  };
}

/** A JSON log line as an object; anything else (a stack trace, a warning of Node's) is undefined. */
function logLine(line: string): Record<string, unknown> | undefined {
  try {
    const entry: unknown = JSON.parse(line);
    return typeof entry === 'object' && entry !== null && !Array.isArray(entry)
      ? (entry as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A worker child process: its JSON log lines, its health endpoint, signals. */
export class WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[] = [];
  /** What the worker wrote that is not a log line, a line each (a stack trace, Node's own warnings). */
  readonly stderr: string[] = [];
  healthPort = 0;
  #exited: Promise<number | null>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async spawn(name: string, env: Record<string, string>): Promise<WorkerProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new WorkerProcess(name, child);
    const ready = new Promise<void>((resolve, reject) => {
      // The logger writes INFO and DEBUG to stdout, WARN and ERROR to stderr: both are log lines.
      const read = (stream: NodeJS.ReadableStream | null) => {
        if (stream === null) return;
        createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
          const entry = logLine(line);
          if (entry === undefined) {
            worker.stderr.push(line);
            return;
          }
          worker.logs.push(entry);
          if (entry.message === 'worker ready') {
            worker.healthPort = entry.healthPort as number;
            resolve();
          }
        });
      };
      read(child.stdout);
      read(child.stderr);
      child.once('exit', (code) =>
        reject(
          new Error(`worker ${name} exited with ${code} before it was ready: ${worker.stderr.join('\n')}`),
        ),
      );
    });
    await withTimeout(ready, 20_000, `worker ${name} did not start`);
    return worker;
  }

  async health(): Promise<WorkerHealth> {
    const response = await fetch(`http://127.0.0.1:${this.healthPort}/health`);
    return (await response.json()) as WorkerHealth;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    if (signal === 'SIGKILL') this.child.kill('SIGCONT');
    this.child.kill(signal);
    return this.#exited;
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }
}

/** A frontend on the public API that keeps every event it receives. */
export class Guest {
  readonly ws: WebSocket;
  readonly events: ServerEvent[] = [];
  sessionId = '';
  #waiters: (() => void)[] = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const parsed = parseServerEvent(data.toString('utf8'));
      if (!parsed.ok) throw new Error(`unparseable event: ${data.toString('utf8').slice(0, 200)}`);
      this.events.push(parsed.event);
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    });
  }

  /** The first event (from `from` on) that matches, waiting up to `timeoutMs`. */
  async waitFor<T extends ServerEvent>(
    match: (event: ServerEvent) => event is T,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.events.slice(from).map((e) => JSON.stringify(e).slice(0, 200));
        throw new Error(`no matching event within ${timeoutMs} ms; received since: ${seen.join(', ')}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async start(extra: Record<string, unknown> = {}): Promise<string> {
    const from = this.events.length;
    this.ws.send(JSON.stringify({ action: 'connect', clientMessageId: randomUUID(), ...extra }));
    const event = await this.waitFor(
      (e): e is Extract<ServerEvent, { type: 'connect' }> => e.type === 'connect',
      10_000,
      from,
    );
    this.sessionId = event.sessionId;
    return event.sessionId;
  }

  /**
   * Sends and waits for the answer (the stored, pending entry). A frontend that wants its messages in
   * the order it typed them waits for each answer: API Gateway runs a connection's frames concurrently.
   */
  async send(
    text: string | undefined,
    clientMessageId: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const from = this.events.length;
    this.ws.send(JSON.stringify({ action: 'send', text, clientMessageId, ...extra }));
    await this.waitFor(
      (e): e is Extract<ServerEvent, { type: 'message' }> =>
        e.type === 'message' && e.clientMessageId === clientMessageId,
      10_000,
      from,
    );
  }

  /** Sends any frame (no waiting). */
  frame(frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }
}

export type Of<T extends ServerEvent['type']> = Extract<ServerEvent, { type: T }>;

/** A type guard for `Guest.waitFor`: an event of `type` for which `extra` holds. */
export const is =
  <T extends ServerEvent['type']>(type: T, extra: (e: Of<T>) => boolean = () => true) =>
  (e: ServerEvent): e is Of<T> =>
    e.type === type && extra(e as Of<T>);

export async function waitUntil(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * A session's whole transcript, oldest first, as readers see it: the session item first, then the table
 * (src/commands/reader.ts), so entries not written yet come from the item and nothing is missing.
 */
export async function readTranscript(
  stores: { readonly sessions: SessionStore; readonly transcript: TranscriptStore },
  sessionId: string,
): Promise<TranscriptEntry[]> {
  const session = await stores.sessions.get(sessionId);
  return session === undefined ? [] : readWholeTranscript(stores.transcript, session);
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
