/**
 * A fleet of guest sessions held by ONE worker process, for the capacity and reconnect-storm benchmarks
 * (bench/capacity.ts, bench/storm.ts). Not run by itself.
 *
 * Three processes, all on loopback: this one runs the relay of test/integration/relay/harness.ts
 * (dynalite, both gateway emulators with the real handlers); the Genesys emulator runs in its own
 * process, with no bot (bench/support/genesys-process.ts says why); `worker/main.ts` runs as
 * test/integration/worker/harness.ts starts it, with the production timing (heartbeat 2 s, sweep 3 s)
 * and the production heap ceiling (PRODUCTION_HEAP_MB). Each
 * session is started as a frontend starts one: a WebSocket to the public API and a `connect` frame; it
 * counts as held once the emulator has seen its upstream socket configure. Frontend sockets are closed
 * once their session is up (the session lives on, idle), except for the first `keepFrontends`.
 */
import { COMMAND_QUEUE_DEFAULTS } from '../../src/commands/queue.js';
import type { GuestSocketObservation } from '../../src/genesys/emulator/index.js';
import { TABLE_ENV, type TableKey } from '../../src/store/tables.js';
import type { TranscriptEntry } from '../../src/store/transcript.js';
import {
  openSocket,
  type Relay,
  startRelay,
  TEST_GUEST_TOKEN_KEY,
} from '../../test/integration/relay/harness.js';
import { Guest, readTranscript, WorkerProcess, withTimeout } from '../../test/integration/worker/harness.js';
import { WORKER_DEFAULTS } from '../../worker/config.js';
import { GuestTokens } from '../../worker/guest-token.js';
import { GenesysProcess } from './genesys-process.js';
import { sleep } from './stats.js';

export interface FleetSession {
  readonly sessionId: string;
  /** Its frontend, when kept open (see `AddOptions.keepFrontends`). */
  readonly guest: Guest | undefined;
}

export interface AddOptions {
  /** Sessions being started at once (each: open a frontend, `connect`, wait for its answer). */
  readonly concurrency: number;
  /** How many of the new sessions keep their frontend socket open (the first ones). Default 0. */
  readonly keepFrontends?: number;
  /** Give up (throw) when the sessions are not all held by then (ms from the call). */
  readonly timeoutMs: number;
}

export interface FleetOptions {
  /** Extra environment of the worker process (e.g. reconnect pacing). */
  readonly workerEnv?: Record<string, string>;
}

/** INFO is production's level, and the harness waits for the `worker ready` line it logs. */
const WORKER_LOG_LEVEL = 'INFO';
/**
 * The V8 heap ceiling the worker has in production: its ECS task has 1,024 MiB and
 * infra/constructs/worker-service.ts sets NODE_OPTIONS=--max-old-space-size to half of that. On a machine without such a limit V8 sizes it from the host's memory (4 GiB here),
 * grows the heap up to four times the live data before a full collection, and RSS then measures mostly
 * garbage (at 5,000 sessions: ~60 KB per session instead of ~26).
 */
export const PRODUCTION_HEAP_MB = 512;

export class Fleet {
  readonly relay: Relay;
  readonly genesys: GenesysProcess;
  readonly worker: WorkerProcess;
  readonly sessions: FleetSession[] = [];
  readonly #guests: Guest[] = [];
  /** Upstream sessions the emulator has seen configured for the first time (newSession: true). */
  #held = 0;

  private constructor(relay: Relay, genesys: GenesysProcess, worker: WorkerProcess) {
    this.relay = relay;
    this.genesys = genesys;
    this.worker = worker;
    genesys.observe((observation) => {
      if (observation.type === 'configured' && observation.newSession) this.#held++;
    });
  }

  static async start(options: FleetOptions = {}): Promise<Fleet> {
    const genesys = await GenesysProcess.start();
    let relay: Relay | undefined;
    try {
      relay = await startRelay({
        deploymentId: genesys.deploymentId,
        workerStaleAfterMs: WORKER_DEFAULTS.staleAfterMs,
        maxPending: COMMAND_QUEUE_DEFAULTS.maxPending,
      });
      const worker = await WorkerProcess.spawn('w-bench', {
        ...workerEnv(relay, genesys),
        ...options.workerEnv,
      });
      return new Fleet(relay, genesys, worker);
    } catch (error) {
      await relay?.close();
      await genesys.close();
      throw error;
    }
  }

  /** The worker process id (what bench/support/proc.ts measures). */
  get pid(): number {
    const { pid } = this.worker.child;
    if (pid === undefined) throw new Error('the worker process has no pid');
    return pid;
  }

  /** Upstream sessions the emulator has seen start. */
  get held(): number {
    return this.#held;
  }

  /** Every guest socket accepted or configured at the emulator, until the returned function is called. */
  observe(observer: (observation: GuestSocketObservation) => void): () => void {
    return this.genesys.observe(observer);
  }

  /**
   * Starts `count` sessions through the public API, `concurrency` at a time, and waits until the worker
   * holds an upstream socket for each. Returns the wall time in ms.
   */
  async add(count: number, options: AddOptions): Promise<number> {
    const started = performance.now();
    const target = this.#held + count;
    const keep = options.keepFrontends ?? 0;
    let next = 0;
    const startOne = async (index: number): Promise<void> => {
      const guest = await this.#guest();
      const sessionId = await guest.start();
      const kept = index < keep;
      if (!kept) guest.ws.close();
      this.sessions.push({ sessionId, guest: kept ? guest : undefined });
    };
    const lane = async (): Promise<void> => {
      while (next < count) await startOne(next++);
    };
    const all = async (): Promise<void> => {
      await Promise.all(Array.from({ length: Math.min(options.concurrency, count) }, lane));
      while (this.#held < target) await sleep(50);
    };
    await withTimeout(all(), options.timeoutMs, `${count} sessions were not all held`);
    return performance.now() - started;
  }

  /** The session's Genesys guest token (what the agent side addresses). */
  async tokenOf(sessionId: string): Promise<string> {
    const session = await this.relay.deps.sessions.get(sessionId);
    if (session === undefined) throw new Error(`no session ${sessionId}`);
    return new GuestTokens(new TextEncoder().encode(TEST_GUEST_TOKEN_KEY)).tokenFor(session);
  }

  /** The session's whole transcript in the relay's store. */
  transcript(sessionId: string): Promise<TranscriptEntry[]> {
    return readTranscript(this.relay.deps, sessionId);
  }

  /** Kills the worker (SIGKILL) and stops the relay and the emulator; for a `finally`. */
  async close(): Promise<void> {
    for (const guest of this.#guests) guest.ws.terminate();
    await this.worker.kill('SIGKILL');
    await this.relay.close();
    await this.genesys.close();
  }

  async #guest(): Promise<Guest> {
    const token = await this.relay.token({ team: 'bench' });
    const ws = await openSocket(`${this.relay.publicApi.url}?token=${encodeURIComponent(token)}`);
    const guest = new Guest(ws);
    this.#guests.push(guest);
    return guest;
  }
}

/** The worker's environment: the local system's endpoints and tables, production timing and heap. */
function workerEnv(relay: Relay, genesys: GenesysProcess): Record<string, string> {
  return {
    WORKER_ID: 'w-bench',
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: relay.dynamoEndpoint,
    PUBLIC_MANAGEMENT_ENDPOINT: relay.publicApi.managementEndpoint,
    CONTROL_URL: relay.controlApi.url,
    CONTROL_AUTH: 'none',
    GENESYS_WS_URL: genesys.wsUrl,
    GENESYS_API_URL: genesys.httpUrl,
    HEALTH_PORT: '0',
    LOG_LEVEL: WORKER_LOG_LEVEL,
    GUEST_TOKEN_KEY: TEST_GUEST_TOKEN_KEY,
    TEAM_POLICY: relay.teamPolicy,
    NODE_OPTIONS: `--max-old-space-size=${PRODUCTION_HEAP_MB}`,
    ...Object.fromEntries(
      (Object.keys(TABLE_ENV) as TableKey[]).map((key) => [TABLE_ENV[key], relay.tables[key]]),
    ),
  };
}
