/**
 * A command of this project (the CLI through its bin, `npm start`, `script` around the chat) as a child
 * process started from the project root, with its output collected: what the CLI's tests drive.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildRun {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr as they came, interleaved. */
  output(): string;
  readonly exited: Promise<number | null>;
}

export interface ChildOptions {
  /** Added to this process's environment; an `undefined` removes that variable from the child's. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `pipe` (default) to write to it, `ignore` for a command that reads nothing. */
  readonly stdin?: 'pipe' | 'ignore';
  /** Its own process group, so that a test can signal all of it, as a terminal's Ctrl-C does. */
  readonly detached?: boolean;
}

export function runChild(command: string, args: readonly string[], options: ChildOptions = {}): ChildRun {
  const merged: Record<string, string | undefined> = { ...process.env, ...options.env };
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: options.detached ?? false,
    env: Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)),
    stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let both = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    both += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    both += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, output: () => both, exited };
}
