/**
 * A worker as a process of its own (`worker/main.ts`, what the Fargate task runs), for the tests and
 * benchmarks that kill, stop and resume workers: SIGKILL, SIGTERM, SIGSTOP and SIGCONT reach a real
 * process. Its configuration crosses the process boundary the one way a worker reads it, as its
 * environment (`workerEnv`, the inverse of `loadWorkerConfig`); nothing else is passed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type WorkerConfig, workerEnv } from '../worker/config.js';
import type { WorkerHealth } from '../worker/worker.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** How long a worker may take to log `worker ready`. */
const READY_WITHIN_MS = 20_000;

export interface SpawnOptions {
  /** The V8 heap ceiling, as the ECS task sets it (`--max-old-space-size`); default: Node's own. */
  readonly heapMb?: number;
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
  readonly #exited: Promise<number | null>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /**
   * Starts `worker/main.ts` with `config` and waits for its `worker ready` line (so `config.logLevel`
   * must let INFO through). Fails with the worker's own words when it exits first.
   */
  static async spawn(config: WorkerConfig, options: SpawnOptions = {}): Promise<WorkerProcess> {
    if (config.logLevel !== 'INFO' && config.logLevel !== 'DEBUG') {
      throw new TypeError(
        `a spawned worker logs at INFO or DEBUG (its "worker ready" line), not ${config.logLevel}`,
      );
    }
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_NO_WARNINGS: '1',
        ...(options.heapMb === undefined ? {} : { NODE_OPTIONS: `--max-old-space-size=${options.heapMb}` }),
        ...workerEnv(config),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new WorkerProcess(config.workerId, child);
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
          new Error(
            `worker ${config.workerId} exited with ${code} before it was ready: ${worker.stderr.join('\n')}`,
          ),
        ),
      );
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`worker ${config.workerId} did not start within ${READY_WITHIN_MS} ms`)),
        READY_WITHIN_MS,
      );
    });
    try {
      await Promise.race([ready, late]);
    } catch (error) {
      await worker.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return worker;
  }

  async health(): Promise<WorkerHealth> {
    const response = await fetch(`http://127.0.0.1:${this.healthPort}/health`);
    return (await response.json()) as WorkerHealth;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Sends `signal` (a stopped process is continued first for SIGKILL) and waits for the exit. */
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
