/**
 * Secrets reach the real `guest-relay` process without appearing in its arguments: from the environment,
 * or one line of stdin (`--secret -`), after which the command finishes even though stdin stays open.
 * A secret given as an argument still works, with its warning on stderr and nothing else there.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { verifyAccessToken } from '../../../src/auth/index.js';
import { secretFromString } from '../../../src/auth/secret.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SECRET = 'cli-integration-secret-0123456789abcdef012345';

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI; `stdin` is written and then left open (a terminal or a pipe that stays open). */
function cli(args: readonly string[], env: Record<string, string> = {}, stdin?: string): Promise<Result> {
  const inherited = { ...process.env };
  delete inherited.ACCESS_TOKEN_SECRET;
  delete inherited.GUEST_RELAY_TOKEN;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...inherited, NO_COLOR: '1', NODE_NO_WARNINGS: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    if (stdin !== undefined) child.stdin.write(stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, stdout, stderr });
    });
  });
}

async function claims(token: string) {
  return verifyAccessToken(token.trim(), { secret: secretFromString(SECRET), now: Date.now() });
}

describe('guest-relay token: where the signing secret comes from', () => {
  it('reads it from stdin with --secret -, and exits with stdin still open', async () => {
    const result = await cli(['token', '--secret', '-', '--team', 'ci'], {}, `${SECRET}\n`);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(await claims(result.stdout)).toMatchObject({ team: 'ci' });
  }, 30_000);

  it('reads it from ACCESS_TOKEN_SECRET without a word on stderr', async () => {
    const result = await cli(['token'], { ACCESS_TOKEN_SECRET: SECRET });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(await claims(result.stdout)).toMatchObject({ team: 'local' });
  }, 30_000);

  it('takes it as an argument with a one-line warning on stderr that does not repeat it', async () => {
    const result = await cli(['token', '--secret', SECRET]);
    expect(result.code).toBe(0);
    expect(await claims(result.stdout)).toMatchObject({ role: 'guest' });
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^warning: --secret on the command line is visible to other users/);
    expect(result.stderr).not.toContain(SECRET);
  }, 30_000);
});
