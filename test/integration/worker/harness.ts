/**
 * The whole system on loopback, with workers as real processes (local/system.ts assembles it): dynalite
 * (over TCP, shared by every process), the gateway emulator as public API (real authorizer and route
 * handlers) and control API (real control handlers), the Genesys emulator upstream, and `worker/main.ts`
 * spawned as child processes that a test can SIGKILL, SIGTERM, SIGSTOP and SIGCONT.
 */

import { FAST_TIMING, type Timing, type WorkerOverrides } from '../../../local/system.js';
import type { WorkerProcess } from '../../../local/worker-process.js';
import { COMMAND_QUEUE_DEFAULTS } from '../../../src/commands/queue.js';
import { DEFAULT_DEPLOYMENT_ID, type GenesysEmulator } from '../../../src/genesys/emulator/index.js';
import type { TeamPolicyDocument } from '../../../src/policy/team-policy.js';
import type { TranscriptEntry } from '../../../src/store/transcript.js';
import { Guest } from '../../../support/frontend.js';
import { type Relay, startRelay } from '../relay/harness.js';

export { DEFAULT_TIMING, FAST_TIMING as FAST, type Timing } from '../../../local/system.js';
export { WorkerProcess } from '../../../local/worker-process.js';
export { Guest, is, type Of } from '../../../support/frontend.js';

export interface System {
  readonly relay: Relay;
  readonly emulator: GenesysEmulator;
  readonly timing: Timing;
  /** A worker process named `name` with this system's timing, and `overrides`. */
  spawnWorker(name: string, overrides?: WorkerOverrides): Promise<WorkerProcess>;
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
  /** The team policy of the relay and of every worker, given the emulator's deployment. */
  readonly teamPolicy?: (deploymentId: string) => TeamPolicyDocument;
}

export async function startSystem(options: SystemOptions = {}): Promise<System> {
  const timing = options.timing ?? FAST_TIMING;
  const relay = await startRelay({
    genesys: {
      emulator: {
        script: null,
        ...(options.emulatorLimits ? { limits: options.emulatorLimits } : {}),
      },
    },
    timing,
    // The production bound: a guest may keep sending while no worker holds the session.
    maxPending: COMMAND_QUEUE_DEFAULTS.maxPending,
    ...(options.acceptControl ? { acceptControl: options.acceptControl } : {}),
    ...(options.teamPolicy ? { teamPolicy: options.teamPolicy(DEFAULT_DEPLOYMENT_ID) } : {}),
  });
  const { system } = relay;
  const emulator = system.emulator;
  if (emulator === undefined) throw new Error('the system has no emulator');
  const guests: Guest[] = [];

  return {
    relay,
    emulator,
    timing,
    spawnWorker: (name, overrides = {}) => system.spawnWorker({ workerId: name, ...overrides }),
    async guest(team = 'team-a') {
      const token = await relay.token({ team });
      const guest = await Guest.open(`${relay.publicApi.url}?token=${encodeURIComponent(token)}`);
      guests.push(guest);
      return guest;
    },
    tokenOf: (sessionId) => system.guestTokenOf(sessionId),
    owner: (sessionId) => system.owner(sessionId),
    transcript: (sessionId) => system.transcript(sessionId),
    workerLogs: () => system.workerLogs(),
    async close() {
      for (const guest of guests) guest.ws.terminate();
      await relay.close();
    },
  };
}

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
