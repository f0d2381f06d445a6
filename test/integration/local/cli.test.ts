/**
 * Local mode and the `guest-relay` command, as a newcomer meets them: `npm start` (a real child process)
 * serves the page and a working WebSocket quickly and stops cleanly on Ctrl-C; `guest-relay chat` holds
 * a conversation with the emulator's bot through a pseudo-terminal; `token` and `transcript` work and
 * fail clearly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED, type LocalStack, startLocalStack } from '../../../local/stack.js';
import { verifyAccessToken } from '../../../src/auth/index.js';
import { secretFromString } from '../../../src/auth/secret.js';
import { type ChildRun, runChild } from '../child-run.js';
import { Guest, is, waitUntil } from '../worker/harness.js';

const CLI = ['--import', 'tsx', 'cli/main.ts'];

/** Runs a command with no colours and no Node warnings unless `env` says otherwise. */
function run(
  command: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  detached = false,
): ChildRun {
  return runChild(command, args, { env: { NO_COLOR: '1', NODE_NO_WARNINGS: '1', ...env }, detached });
}

function cli(args: readonly string[], env: Record<string, string> = {}): ChildRun {
  return run(process.execPath, [...CLI, ...args], env);
}

describe('npm start', () => {
  it('serves the page and a working WebSocket within 10 s, and stops on Ctrl-C', async () => {
    const started = Date.now();
    // As a person's terminal runs it: Node's warnings on, nothing said about the SDK's one.
    const start = run(
      'npm',
      [
        'start',
        '--',
        '--port',
        '0',
        '--api-port',
        '0',
        '--control-port',
        '0',
        '--emulator-port',
        '0',
        '--log-level',
        'DEBUG',
      ],
      { NODE_NO_WARNINGS: undefined, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined },
      true,
    );
    try {
      await waitUntil(
        () => /guest token\s+\S+/.test(start.output()),
        20_000,
        `npm start is ready: ${start.output()}`,
        50,
      );
      const page = /web page\s+(\S+)/.exec(start.output())?.[1] as string;
      const printed = /WebSocket\s+(ws:\S+)/.exec(start.output())?.[1] as string;
      const token = /guest token\s+(\S+)/.exec(start.output())?.[1] as string;
      // The WebSocket URL carries the real guest token: pasted as printed, it connects.
      const url = new URL(printed);
      expect(url.searchParams.get('token')).toBe(token);
      expect(`${url.origin}${url.pathname}`).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/local$/);
      const html = await fetch(page);
      expect(html.status).toBe(200);
      expect(await html.text()).toContain('guest-relay');
      const config = (await (await fetch(new URL('config.json', page))).json()) as { wsUrl: string };
      expect(config.wsUrl).toBe(`${url.origin}${url.pathname}`);
      const guest = await Guest.open(printed);
      await guest.start();
      await guest.waitFor(is('connect', (e) => e.status === 'active'));
      const readyMs = Date.now() - started;
      expect(readyMs).toBeLessThan(10_000);
      await guest.send('hello', 'm-1');
      const greeting = await guest.waitFor(is('message', (e) => e.direction === 'bot'));
      expect(greeting.text).toContain("I'm the Genesys emulator's bot");
      guest.ws.close();
      // Ctrl-C in a terminal signals the whole foreground process group (npm and the stack).
      process.kill(-(start.child.pid as number), 'SIGINT');
      await waitUntil(() => start.output().includes('stopped'), 10_000, 'stopped', 50);
      // No AWS SDK Node-version warning (the SDK prints it by default on Node < 22).
      expect(start.stderr()).not.toContain('NodeVersionSupportWarning');
      // The tokens are on the banner only: no log line (DEBUG: every line there is) holds one.
      const logLines = start
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'));
      expect(logLines.length).toBeGreaterThan(0);
      const agentToken = /agent token\s+(\S+)/.exec(start.output())?.[1] as string;
      for (const line of logLines) {
        expect(line).not.toContain(token);
        expect(line).not.toContain(agentToken);
      }
    } finally {
      try {
        process.kill(-(start.child.pid as number), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }, 60_000);
});

describe('guest-relay CLI against a local stack', () => {
  let stack: LocalStack;
  const secret = 'cli-test-secret-0123456789abcdef0123456789';
  beforeAll(async () => {
    stack = await startLocalStack({
      ...EMBEDDED,
      secret,
    });
  }, 30_000);
  afterAll(() => stack.stop());

  it('chat holds a conversation with the bot through a pseudo-terminal, quick replies included', async () => {
    const command = [process.execPath, ...CLI, 'chat', '--url', stack.wsUrl]
      .map((part) => `'${part}'`)
      .join(' ');
    // `script` gives the chat a real terminal (a pty), as a person typing has. Tokens go in the
    // environment: as arguments they would be visible in `ps` (and the CLI warns).
    const chat = run('script', ['-qfec', command, '/dev/null'], { GUEST_RELAY_TOKEN: stack.token });
    try {
      await waitUntil(
        () => chat.output().includes('started session'),
        15_000,
        `chat started: ${chat.output()}`,
        50,
      );
      chat.child.stdin?.write('hello there\n');
      await waitUntil(
        () => chat.output().includes("I'm the Genesys emulator's bot"),
        10_000,
        'the greeting',
        50,
      );
      expect(chat.output()).toMatch(/you:.*hello there/);
      expect(chat.output()).toContain('1) Show a card');
      chat.child.stdin?.write('5\n');
      await waitUntil(() => /you:.*Goodbye/.test(chat.output()), 10_000, 'the quick reply was sent', 50);
      chat.child.stdin?.write('/quit\n');
      expect(await chat.exited).toBe(0);
      const sessionId = /started session (\S+)/.exec(chat.output())?.[1] as string;

      const md = cli(['transcript', '--url', stack.wsUrl, '--session', sessionId, '--format', 'md'], {
        GUEST_RELAY_TOKEN: stack.agentToken,
      });
      expect(await md.exited).toBe(0);
      expect(md.output()).toContain(`# Transcript of session ${sessionId}`);
      expect(md.output()).toMatch(/1\. \*\*Guest\*\* .*hello there/);
      expect(md.output()).toContain("I'm the Genesys emulator's bot");
      const json = cli(['transcript', '--url', stack.wsUrl, '--session', sessionId], {
        GUEST_RELAY_TOKEN: stack.agentToken,
      });
      expect(await json.exited).toBe(0);
      const parsed = JSON.parse(json.output()) as { entries: { sequenceId: number }[] };
      expect(parsed.entries.map((e) => e.sequenceId)).toEqual(parsed.entries.map((_, i) => i + 1));
    } finally {
      chat.child.kill('SIGKILL');
    }
  }, 60_000);

  it('token mints a token the stack accepts; bad input exits 2 with a clear message', async () => {
    // The secret from the environment: an argument would be visible in `ps` (and warned about).
    const minted = cli(['token', '--team', 'local', '--role', 'agent-console', '--ttl', '600'], {
      ACCESS_TOKEN_SECRET: secret,
    });
    expect(await minted.exited).toBe(0);
    const token = minted.output().trim();
    const claims = await verifyAccessToken(token, { secret: secretFromString(secret), now: Date.now() });
    expect(claims).toMatchObject({ team: 'local', role: 'agent-console' });

    const missing = cli(['token']);
    expect(await missing.exited).toBe(2);
    expect(missing.output()).toContain('--secret');
    const badRole = cli(['token', '--role', 'root'], { ACCESS_TOKEN_SECRET: secret });
    expect(await badRole.exited).toBe(2);
    expect(badRole.output()).toMatch(/guest, agent-console, admin/);
    const refused = cli([
      'transcript',
      '--url',
      stack.wsUrl,
      '--token',
      'not-a-token',
      '--session',
      'x'.repeat(22),
    ]);
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain('refused the token');
    expect(refused.output()).toContain('bad or expired token');
    expect(refused.output()).not.toContain('at ');
  }, 30_000);

  it('--help lists every command; no colours when the output is not a terminal', async () => {
    const help = cli(['--help']);
    expect(await help.exited).toBe(0);
    for (const name of ['start', 'chat', 'token', 'transcript', 'emulator'])
      expect(help.output()).toContain(name);
    expect(help.output()).not.toContain('\u001b[');
  });
});
