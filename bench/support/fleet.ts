/**
 * A fleet of guest sessions held by ONE worker process, for the capacity and reconnect-storm benchmarks
 * (bench/capacity.ts, bench/storm.ts). Not run by itself.
 *
 * Three processes, all on loopback: this one runs the system (local/system.ts: dynalite, both gateway
 * emulators with the real handlers); the Genesys emulator runs in its own process, with no bot
 * (bench/support/genesys-process.ts says why); `worker/main.ts` runs as a process of its own
 * (local/worker-process.ts), with the production timing (heartbeat 2 s, sweep 3 s) and the production
 * heap ceiling (PRODUCTION_HEAP_MB). Each
 * session is started as a frontend starts one: a WebSocket to the public API and a `connect` frame; it
 * counts as held once the emulator has seen its upstream socket configure. Frontend sockets are closed
 * once their session is up (the session lives on, idle), except for the first `keepFrontends`.
 */

import { createSystem, embeddedSystemConfig, type System, type WorkerOverrides } from '../../local/system.js';
import type { WorkerProcess } from '../../local/worker-process.js';
import { COMMAND_QUEUE_DEFAULTS } from '../../src/commands/queue.js';
import type { GuestSocketObservation } from '../../src/genesys/emulator/index.js';
import type { TranscriptEntry } from '../../src/store/transcript.js';
import { Guest } from '../../support/frontend.js';
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
  /** The worker's configuration besides the system's (e.g. reconnect pacing). */
  readonly worker?: WorkerOverrides;
}

/**
 * The V8 heap ceiling the worker has in production: its ECS task has 1,024 MiB and
 * infra/constructs/worker-service.ts sets NODE_OPTIONS=--max-old-space-size to half of that. On a machine without such a limit V8 sizes it from the host's memory (4 GiB here),
 * grows the heap up to four times the live data before a full collection, and RSS then measures mostly
 * garbage (at 5,000 sessions: ~60 KB per session instead of ~26).
 */
export const PRODUCTION_HEAP_MB = 512;

export class Fleet {
  readonly system: System;
  readonly genesys: GenesysProcess;
  readonly worker: WorkerProcess;
  readonly sessions: FleetSession[] = [];
  readonly #guests: Guest[] = [];
  /** Upstream sessions the emulator has seen configured for the first time (newSession: true). */
  #held = 0;

  private constructor(system: System, genesys: GenesysProcess, worker: WorkerProcess) {
    this.system = system;
    this.genesys = genesys;
    this.worker = worker;
    genesys.observe((observation) => {
      if (observation.type === 'configured' && observation.newSession) this.#held++;
    });
  }

  static async start(options: FleetOptions = {}): Promise<Fleet> {
    const genesys = await GenesysProcess.start();
    let system: System | undefined;
    try {
      system = await createSystem(
        embeddedSystemConfig({
          genesys: {
            deploymentId: genesys.deploymentId,
            endpoint: { wsUrl: genesys.wsUrl, apiUrl: genesys.httpUrl },
          },
          relay: {
            maxPending: COMMAND_QUEUE_DEFAULTS.maxPending,
            validateResponses: true,
          },
        }),
      );
      // The production timing (the worker's defaults) and heap ceiling.
      const worker = await system.spawnWorker(
        { workerId: 'w-bench', ...options.worker },
        { heapMb: PRODUCTION_HEAP_MB },
      );
      return new Fleet(system, genesys, worker);
    } catch (error) {
      await system?.stop();
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
    const deadline = started + options.timeoutMs;
    const late = (): boolean => performance.now() > deadline;
    const lane = async (): Promise<void> => {
      // Each start gives up within its own 10 s (Guest.start), so a lane notices the deadline.
      while (next < count && !late()) await startOne(next++);
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, count) }, lane));
    while (this.#held < target && !late()) await sleep(50);
    if (this.#held < target) {
      throw new Error(
        `${count} sessions were not all held within ${options.timeoutMs} ms (${this.#held - target + count} were)`,
      );
    }
    return performance.now() - started;
  }

  /** The session's Genesys guest token (what the agent side addresses). */
  tokenOf(sessionId: string): Promise<string> {
    return this.system.guestTokenOf(sessionId);
  }

  /** The session's whole transcript in the relay's store. */
  transcript(sessionId: string): Promise<TranscriptEntry[]> {
    return this.system.transcript(sessionId);
  }

  /** Kills the worker (SIGKILL) and stops the system and the emulator; for a `finally`. */
  async close(): Promise<void> {
    for (const guest of this.#guests) guest.ws.terminate();
    await this.system.stop();
    await this.genesys.close();
  }

  async #guest(): Promise<Guest> {
    const token = await this.system.mintToken({ team: 'bench' });
    const guest = await Guest.open(`${this.system.publicApi.url}?token=${encodeURIComponent(token)}`);
    this.#guests.push(guest);
    return guest;
  }
}
