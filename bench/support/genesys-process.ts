/**
 * The Genesys emulator in a process of its own, for the worker benchmarks (bench/support/fleet.ts). Not
 * run by itself: `GenesysProcess.start()` forks bench/support/genesys-child.ts and drives it over Node's
 * IPC channel (drop sockets, the agent says something, read a transcript, stop), and the child reports
 * every guest socket accepted and configured (the emulator's `observeGuestSockets`), with its time.
 *
 * Why a process: Genesys is another service, and the emulator should not wait for our own relay. Since
 * libuv 1.45 (Node 20) a listening socket accepts ONE connection per event-loop turn; in the process
 * that also runs dynalite and the gateways, a turn is long while messages flow, and reconnects queue in
 * the kernel's accept backlog (seen: 512 waiting, ~40 accepted per second), which would be measured as
 * the worker's slowness.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GuestSocketObservation } from '../../src/genesys/emulator/index.js';
import type { StructuredMessage } from '../../src/genesys/responses.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./genesys-child.ts', import.meta.url));
/** Bounds: the child starting, one request, the child stopping. */
const START_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** Parent → child. */
export type GenesysRequest =
  | { readonly id: number; readonly op: 'drop' }
  | { readonly id: number; readonly op: 'say'; readonly token: string; readonly text: string }
  | { readonly id: number; readonly op: 'transcript'; readonly token: string }
  | { readonly id: number; readonly op: 'close' };

/** Child → parent. */
export type GenesysReport =
  | {
      readonly type: 'ready';
      readonly wsUrl: string;
      readonly httpUrl: string;
      readonly deploymentId: string;
    }
  | { readonly type: 'observations'; readonly list: readonly GuestSocketObservation[] }
  | { readonly type: 'answer'; readonly id: number; readonly value?: unknown; readonly error?: string };

type Observer = (observation: GuestSocketObservation) => void;

export class GenesysProcess {
  readonly wsUrl: string;
  readonly httpUrl: string;
  readonly deploymentId: string;
  readonly #child: ChildProcess;
  readonly #observers = new Set<Observer>();
  readonly #waiting = new Map<number, (report: Extract<GenesysReport, { type: 'answer' }>) => void>();
  #nextId = 1;

  private constructor(child: ChildProcess, ready: Extract<GenesysReport, { type: 'ready' }>) {
    this.#child = child;
    this.wsUrl = ready.wsUrl;
    this.httpUrl = ready.httpUrl;
    this.deploymentId = ready.deploymentId;
    child.on('message', (report: GenesysReport) => this.#onReport(report));
    child.once('exit', () => {
      for (const answer of this.#waiting.values())
        answer({ type: 'answer', id: 0, error: 'the process exited' });
      this.#waiting.clear();
    });
  }

  static async start(): Promise<GenesysProcess> {
    const child = fork(CHILD, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const ready = await new Promise<Extract<GenesysReport, { type: 'ready' }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the Genesys emulator process did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      child.once('message', (report: GenesysReport) => {
        clearTimeout(timer);
        if (report.type === 'ready') resolve(report);
        else reject(new Error(`the Genesys emulator process said ${report.type} before ready`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the Genesys emulator process exited with ${code}: ${stderr}`));
      });
    });
    return new GenesysProcess(child, ready);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Every guest socket accepted or configured from now on, until the returned function is called. */
  observe(observer: Observer): () => void {
    this.#observers.add(observer);
    return () => {
      this.#observers.delete(observer);
    };
  }

  /** Cuts every guest socket (the client sees 1006); how many there were. */
  async dropSockets(): Promise<number> {
    return (await this.#request({ op: 'drop' })) as number;
  }

  /** The agent says `text` in the token's conversation. */
  async say(token: string, text: string): Promise<void> {
    await this.#request({ op: 'say', token, text });
  }

  /** The token's conversation at Genesys, both directions. */
  async transcript(token: string): Promise<StructuredMessage[]> {
    return (await this.#request({ op: 'transcript', token })) as StructuredMessage[];
  }

  /** Stops the emulator and its process (SIGKILL if it does not exit in time). */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    this.#child.send({ id: 0, op: 'close' } satisfies GenesysRequest, (error) => {
      if (error) this.#child.kill('SIGKILL');
    });
    await exited;
    clearTimeout(timer);
  }

  #request(
    request:
      | { op: 'drop' }
      | { op: 'say'; token: string; text: string }
      | { op: 'transcript'; token: string },
  ): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`the Genesys emulator process did not answer ${request.op} in time`));
      }, REQUEST_TIMEOUT_MS);
      this.#waiting.set(id, (answer) => {
        clearTimeout(timer);
        if (answer.error === undefined) resolve(answer.value);
        else reject(new Error(answer.error));
      });
      this.#child.send({ id, ...request });
    });
  }

  #onReport(report: GenesysReport): void {
    if (report.type === 'observations') {
      for (const observation of report.list) for (const observer of this.#observers) observer(observation);
    } else if (report.type === 'answer') {
      const answer = this.#waiting.get(report.id);
      this.#waiting.delete(report.id);
      answer?.(report);
    }
  }
}
