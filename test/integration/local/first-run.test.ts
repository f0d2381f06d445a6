/**
 * Issue 17, item 3: what a newcomer meets in local mode, on real sockets and the real local stack.
 * - the AWS SDK's Node-version warning stays hidden unless asked for;
 * - the discovery document on the public API's port;
 * - a wrong path is reported as a wrong path (404), a bad token as a bad token;
 * - a session the guest ended can still be exported;
 * - refused frames are summed up, not logged one by one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EMBEDDED, type LocalStack, startLocalStack } from '../../../local/stack.js';
import { mintAccessToken, secretFromString } from '../../../src/auth/index.js';
import { type ChildRun, runChild } from '../child-run.js';
import { openSocket } from '../relay/harness.js';
import { Guest, is, waitUntil } from '../worker/harness.js';

const SECRET = 'first-run-test-secret-0123456789abcdef0123';

/** `guest-relay <args>` through the package's bin, as `npx guest-relay` runs it, with Node's warnings on. */
function guestRelay(args: readonly string[], env: Record<string, string | undefined> = {}): ChildRun {
  return runChild(process.execPath, ['bin/guest-relay.js', ...args], {
    env: {
      NO_COLOR: '1',
      NODE_NO_WARNINGS: undefined,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined,
      ...env,
    },
    stdin: 'ignore',
  });
}

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

describe('the AWS SDK Node-version warning', () => {
  const start = ['start', '--port', '0', '--api-port', '0', '--control-port', '0', '--emulator-port', '0'];

  /** Runs `guest-relay start` until it is up (its SDK clients have sent requests), then Ctrl-C. */
  async function startAndStop(env: Record<string, string | undefined>): Promise<ChildRun> {
    const run = guestRelay(start, env);
    try {
      await waitUntil(() => run.stdout().includes('guest-relay is running'), 20_000, 'started', 50);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
      return run;
    } finally {
      run.child.kill('SIGKILL');
    }
  }

  it('is not printed by guest-relay start (the CLI sets the SDK variable when the user has not)', async () => {
    const run = await startAndStop({});
    expect(run.stdout()).toContain('stopped');
    expect(run.stderr()).not.toContain('NodeVersionSupportWarning');
  }, 30_000);

  it.runIf(NODE_MAJOR < 22)(
    'is printed when the user asks for it: AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false',
    async () => {
      const run = await startAndStop({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
      expect(run.stderr()).toContain('NodeVersionSupportWarning');
    },
    30_000,
  );
});

describe('local mode: discovery, paths, ended sessions', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ ...EMBEDDED, secret: SECRET });
  }, 30_000);
  afterAll(() => stack.stop());

  it('answers GET /.well-known/guest-relay on the API port with the deployment and the emulator, nothing secret', async () => {
    const api = new URL(stack.wsUrl);
    expect(stack.discoveryUrl).toBe(`http://${api.host}/.well-known/guest-relay`);
    const res = await fetch(stack.discoveryUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({
      deploymentId: stack.deploymentId,
      emulatorUrl: stack.emulatorUrl,
    });
    expect(stack.emulatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const secret of [stack.token, stack.agentToken, SECRET]) expect(body).not.toContain(secret);
  });

  it('opens the documented URL (the stage) and answers any other path 404 with the right URL', async () => {
    const right = await openSocket(`${stack.wsUrl}?token=${stack.token}`);
    right.close();
    const root = stack.wsUrl.replace(/\/local$/, '');
    const refused = await openSocket(`${root}/?token=${stack.token}`).then(
      () => undefined,
      (error: { status?: number }) => error.status,
    );
    expect(refused).toBe(404);
  });

  it('the CLI says "wrong path" for a 404 and "bad or expired token" for a 401, never echoing the token', async () => {
    const root = stack.wsUrl.replace(/\/local$/, '');
    const wrong = guestRelay(['transcript', '--url', `${root}/`, '--session', 'x'.repeat(22)], {
      GUEST_RELAY_TOKEN: stack.agentToken,
    });
    expect(await wrong.exited).toBe(1);
    expect(wrong.stderr()).toContain('Wrong path');
    expect(wrong.stderr()).toContain(`the API is at ${stack.wsUrl}`);
    expect(wrong.stderr()).not.toContain('bad or expired token');
    const expired = await mintAccessToken(
      { team: 'local', role: 'agent-console', ttlSeconds: 60 },
      { secret: secretFromString(SECRET), audience: 'guest-relay', now: Date.now() - 3_600_000 },
    );
    const bad = guestRelay(['transcript', '--url', stack.wsUrl, '--session', 'x'.repeat(22)], {
      GUEST_RELAY_TOKEN: expired,
    });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toContain('bad or expired token');
    expect(bad.stderr()).not.toContain('Wrong path');
    for (const run of [wrong, bad]) {
      expect(run.stderr()).not.toContain(stack.agentToken);
      expect(run.stderr()).not.toContain(expired);
    }
  }, 30_000);

  it('exports the transcript of a session the guest ended, for the roles that may read it', async () => {
    const guest = await Guest.open(`${stack.wsUrl}?token=${stack.token}`);
    try {
      const sessionId = await guest.start();
      await guest.waitFor(is('connect', (e) => e.status === 'active'));
      await guest.send('hello before the end', 'm-1');
      await guest.waitFor(is('message', (e) => e.direction === 'bot'));
      guest.frame({ action: 'end' });
      await guest.waitFor(is('sessionEnded'));

      // Resuming it is refused, as before; reading it is not.
      const watcher = await Guest.open(`${stack.wsUrl}?token=${stack.agentToken}`);
      try {
        watcher.frame({ action: 'connect', sessionId });
        await watcher.waitFor(is('error', (e) => e.code === 'session_ended'));
        watcher.frame({ action: 'history', sessionId, afterSequenceId: 0 });
        const page = await watcher.waitFor(is('history'));
        expect(page.sessionId).toBe(sessionId);
        expect(page.entries[0]).toMatchObject({ sequenceId: 1, direction: 'guest' });
      } finally {
        watcher.ws.close();
      }

      const other = await mintAccessToken(
        { team: 'local', role: 'guest', subject: 'someone-else', ttlSeconds: 600 },
        { secret: secretFromString(SECRET), audience: 'guest-relay', now: Date.now() },
      );
      const readers = { agent: stack.agentToken, owner: stack.token, admin: await stack.mintToken('admin') };
      for (const [who, token] of Object.entries(readers)) {
        const md = guestRelay(
          ['transcript', '--url', stack.wsUrl, '--session', sessionId, '--format', 'md'],
          {
            GUEST_RELAY_TOKEN: token,
          },
        );
        expect(await md.exited, `${who}: ${md.stderr()}`).toBe(0);
        expect(md.stdout()).toContain(`# Transcript of session ${sessionId}`);
        expect(md.stdout()).toMatch(/1\. \*\*Guest\*\* .*hello before the end/);
        expect(md.stdout()).toContain("I'm the Genesys emulator's bot");
      }
      // Another guest of the team may not, ended or not; another team does not even learn it exists.
      const refused = guestRelay(['transcript', '--url', stack.wsUrl, '--session', sessionId], {
        GUEST_RELAY_TOKEN: other,
      });
      expect(await refused.exited).toBe(1);
      expect(refused.stderr()).toContain('forbidden');
      expect(refused.stdout()).toBe('');
      const elsewhere = await mintAccessToken(
        { team: 'elsewhere', role: 'agent-console', ttlSeconds: 600 },
        { secret: secretFromString(SECRET), audience: 'guest-relay', now: Date.now() },
      );
      const hidden = guestRelay(['transcript', '--url', stack.wsUrl, '--session', sessionId], {
        GUEST_RELAY_TOKEN: elsewhere,
      });
      expect(await hidden.exited).toBe(1);
      expect(hidden.stderr()).toContain('session_not_found');
      expect(hidden.stdout()).toBe('');
    } finally {
      guest.ws.close();
    }
  }, 60_000);
});

describe('local mode against real Genesys', () => {
  it('serves the discovery document without emulatorUrl', async () => {
    // An endpoint that is never reached: no session is started.
    const stack = await startLocalStack({
      ...EMBEDDED,
      genesys: {
        deploymentId: 'real-deployment-1',
        endpoint: { wsUrl: 'ws://127.0.0.1:9/v1', apiUrl: 'http://127.0.0.1:9' },
      },
    });
    try {
      expect(stack.emulatorUrl).toBeUndefined();
      const res = await fetch(stack.discoveryUrl);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ deploymentId: 'real-deployment-1' });
    } finally {
      await stack.stop();
    }
  }, 30_000);
});

describe('refused frames in the npm start terminal', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are written as one count by code, not a line each', async () => {
    const lines: string[] = [];
    const capture = (chunk: string | Uint8Array): boolean => {
      lines.push(String(chunk));
      return true;
    };
    // Both streams (Powertools writes warnings and errors to stderr), before the stack's logger exists.
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const stack = await startLocalStack({ ...EMBEDDED, logLevel: 'WARN' });
    let stopped = false;
    try {
      const guest = await Guest.open(`${stack.wsUrl}?token=${stack.token}`);
      guest.frame({ action: 'send', text: 'before connect' });
      await guest.waitFor(is('error', (e) => e.code === 'not_connected'));
      guest.ws.send('not json');
      await guest.waitFor(is('error', (e) => e.code === 'invalid_json'));
      guest.frame({ action: 'connect', sessionId: 'x'.repeat(22) });
      await guest.waitFor(is('error', (e) => e.code === 'session_not_found'));
      guest.frame({ action: 'send', text: 'again' });
      await waitUntil(() => guest.events.filter((e) => e.type === 'error').length === 4, 5_000, '4 errors');
      expect(lines.filter((line) => line.includes('refused'))).toEqual([]);
      guest.ws.close();
      // What is counted when the stack stops is written then (otherwise at the end of the minute).
      await stack.stop();
      stopped = true;
    } finally {
      if (!stopped) await stack.stop();
      vi.restoreAllMocks();
    }
    const logged = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    const summaries = logged.filter((line) => /frames? refused/.test(line.message));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      level: 'WARN',
      message: expect.stringMatching(
        /^4 frames refused in \d+ s \(by code: invalid_json 1, not_connected 2, session_not_found 1\)$/,
      ),
      refused: 4,
      byCode: { invalid_json: 1, not_connected: 2, session_not_found: 1 },
    });
  }, 30_000);
});
