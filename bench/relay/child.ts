/**
 * Runs one part of a benchmark as its own Node process (so that what is measured does not share an event
 * loop with the load generator) and waits for the JSON line it prints when it is ready.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WebSocketServer } from 'ws';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child<T> {
  /** What the child printed as its ready line (e.g. its URL). */
  readonly info: T;
  readonly process: ChildProcess;
  /** JSON lines the child printed after its ready line (e.g. counts it reports when asked). */
  readonly reports: unknown[];
  /** Sends SIGUSR2 (a child that `answerReports` reports then) and resolves with its next report. */
  ask(): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Spawns `node --import tsx <script> ...args` from the project root and resolves with the first stdout
 * line that parses as JSON. Rejects if the child exits first or is not ready within `timeoutMs`.
 */
export function spawnChild<T>(
  script: string,
  args: readonly string[] = [],
  timeoutMs = 30_000,
): Promise<Child<T>> {
  // BENCH_PROFILE_DIR=<dir>: each child writes a CPU profile there when it stops (open it in a
  // Chromium DevTools Performance tab or speedscope) — how the figures in docs/performance.md were explained.
  const profile = process.env.BENCH_PROFILE_DIR;
  const nodeArgs = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${script} was not ready within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    let buffered = '';
    let ready = false;
    const reports: unknown[] = [];
    const ask = async (): Promise<unknown> => {
      const seen = reports.length;
      child.kill('SIGUSR2');
      for (let waited = 0; reports.length === seen; waited += 10) {
        if (waited > 10_000) throw new Error(`${script} did not report`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return reports[seen];
    };
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith('{')) continue;
        if (ready) {
          reports.push(JSON.parse(line));
          continue;
        }
        ready = true;
        clearTimeout(timer);
        resolve({ info: JSON.parse(line) as T, process: child, reports, ask, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (ready) return;
      reject(new Error(`${script} exited with ${code} before it was ready: ${stderr}`));
    });
  });
}

/** In a child: prints the ready line and stops cleanly on SIGTERM/SIGINT (`stop` may `report` first). */
export function announceReady(info: unknown, stop: () => Promise<void>): void {
  process.stdout.write(`${JSON.stringify(info)}\n`);
  const shutdown = (): void => {
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/**
 * In a child: on SIGUSR2 (the parent's `ask`), prints what `current` returns as a JSON line, with the CPU
 * time the process has used so far, every thread of it, in ms (`cpuMs`).
 */
export function answerReports(current: () => Record<string, unknown> = () => ({})): void {
  process.on('SIGUSR2', () => {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ ...current(), cpuMs: (user + system) / 1000 })}\n`);
  });
}

/**
 * In a child: once `server` listens, announces its `ws://` URL; on SIGTERM cuts its clients and closes
 * it, then runs `after` (what else the child must close).
 */
export function announceServer(server: WebSocketServer, after: () => Promise<void> = async () => {}): void {
  server.once('listening', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
    announceReady({ url: `ws://127.0.0.1:${address.port}` }, async () => {
      for (const ws of server.clients) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await after();
    });
  });
}
