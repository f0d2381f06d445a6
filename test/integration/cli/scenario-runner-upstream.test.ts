/**
 * `guest-relay test` when Genesys fails: the step fails at once with the relay's reason (code and
 * message), never after its timeout with "no acknowledgement", and the retries in between are shown, one
 * line per change. Against a local stack and its Genesys emulator where the emulator can produce the
 * failure, and against a loopback WebSocket server that plays the documented events otherwise.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { runScenario, type Target } from '../../../cli/scenarios/runner.js';
import { parseScenarioFile, type Scenario } from '../../../cli/scenarios/scenario.js';
import { EMBEDDED, type LocalStack, startLocalStack } from '../../../local/stack.js';
import { DEFAULT_CONSTRAINTS } from '../../../src/domain/constraints.js';
import { cliHere } from './cli-here.js';

const SESSION = 'fakeRelaySession0001';
/** Every step may wait 20 s: a failure well before that came from the event, not the timeout. */
const SCENARIO = [
  'config:',
  '  stepTimeoutSeconds: 20',
  'scenarios:',
  '  "greeting":',
  '    - say: hi',
  "    - waitForReplyContaining: I'm the Genesys emulator's bot",
  '',
].join('\n');
const AT_ONCE_MS = 5_000;

function scenario(yaml = SCENARIO): Scenario {
  return parseScenarioFile('upstream.yaml', yaml)[0] as Scenario;
}

/**
 * A relay that answers `connect`, stores the guest's first `send` as entry 1 (pending), then sends
 * `afterSend`'s events, as the relay would while Genesys fails.
 */
async function fakeRelay(afterSend: (clientMessageId: string) => Record<string, unknown>[]): Promise<{
  url: string;
  close(): Promise<void>;
}> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  server.on('connection', (ws: WebSocket) => {
    const send = (event: Record<string, unknown>): void =>
      ws.send(JSON.stringify({ sessionId: SESSION, ...event }));
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as {
        action: string;
        clientMessageId?: string;
        text?: string;
      };
      if (frame.action === 'connect') {
        send({
          type: 'connect',
          resumed: false,
          lastSequenceId: 0,
          status: 'starting',
          constraints: DEFAULT_CONSTRAINTS,
        });
      } else if (frame.action === 'send') {
        send({
          type: 'message',
          sequenceId: 1,
          entryId: 'entry-1',
          direction: 'guest',
          text: frame.text,
          content: [],
          status: 'pending',
          clientMessageId: frame.clientMessageId,
          time: new Date().toISOString(),
        });
        for (const event of afterSend(frame.clientMessageId ?? '')) send(event);
      }
    });
  });
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const retrying = (reason: string, attempt: number): Record<string, unknown> => ({
  type: 'upstream',
  state: 'retrying',
  reason,
  detail: reason === 'refused' ? 'ECONNREFUSED' : 'no answer in 10 s',
  message: `The connection to Genesys failed (${reason}). Trying again in 1 s.`,
  attempt,
  retryAt: new Date(Date.now() + 1000).toISOString(),
});

describe('guest-relay test: upstream failures from the relay’s events', () => {
  let relay: Awaited<ReturnType<typeof fakeRelay>> | undefined;
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  async function run(events: (clientMessageId: string) => Record<string, unknown>[]) {
    relay = await fakeRelay(events);
    const lines: string[] = [];
    const result = await runScenario(scenario(), { url: relay.url, token: 't' }, (line) => lines.push(line));
    expect(result.passed).toBe(false);
    expect(result.durationMs).toBeLessThan(AT_ONCE_MS);
    return { failure: result.failure as NonNullable<typeof result.failure>, lines };
  }

  it('shows one line per change of reason while Genesys is retried, and fails when it is unavailable', async () => {
    const { failure, lines } = await run(() => [
      retrying('refused', 1),
      retrying('refused', 2),
      retrying('refused', 3),
      retrying('timeout', 4),
      { ...retrying('timeout', 5), state: 'unavailable', message: 'Genesys could not be reached for 30 s.' },
    ]);
    expect(lines).toEqual([
      'Genesys retrying (refused: ECONNREFUSED): The connection to Genesys failed (refused). Trying again in 1 s.',
      'Genesys retrying (timeout: no answer in 10 s): The connection to Genesys failed (timeout). Trying again in 1 s.',
    ]);
    expect(failure).toMatchObject({
      step: 'say: "hi"',
      message: 'Genesys is unavailable (timeout: no answer in 10 s): Genesys could not be reached for 30 s.',
    });
  });

  it('describes a retry from the attempt and the next try when the stack sends no message', async () => {
    const { failure, lines } = await run(() => [
      { type: 'upstream', state: 'retrying', reason: 'dns', attempt: 1, retryAt: '05:30:02' },
      { type: 'upstream', state: 'unavailable', reason: 'dns', attempt: 2 },
    ]);
    expect(lines).toEqual(['Genesys retrying (dns), attempt 1, next try at 05:30:02']);
    expect(failure.message).toBe('Genesys is unavailable (dns)');
  });

  it('fails at once on upstream_unavailable, with its code and message', async () => {
    const { failure } = await run(() => [
      {
        type: 'error',
        code: 'upstream_unavailable',
        message: 'Genesys could not be reached (refused).',
        error: 'Genesys could not be reached (refused).',
        retryable: true,
      },
    ]);
    expect(failure.message).toBe('upstream_unavailable: Genesys could not be reached (refused).');
  });

  it('fails at once on a non-retryable error about no frame it sent, even with a code it does not know', async () => {
    const { failure } = await run(() => [
      { type: 'error', code: 'worker_lost', message: 'The worker stopped.', error: 'x', retryable: false },
    ]);
    expect(failure.message).toBe('worker_lost: The worker stopped.');
  });

  it('fails at once when the session ends with an error, with its code and message', async () => {
    const { failure } = await run(() => [
      {
        type: 'sessionEnded',
        reason: 'error',
        code: 'upstream_rejected',
        message: 'Genesys refused the session (HTTP 404): check the deployment id and its region.',
        genesysCode: 404,
      },
    ]);
    expect(failure.message).toBe(
      'the session ended with an error: upstream_rejected: Genesys refused the session (HTTP 404): check the deployment id and its region.',
    );
  });

  it('names the step’s own frame when the refusal is about it', async () => {
    const { failure } = await run((clientMessageId) => [
      {
        type: 'error',
        code: 'upstream_rejected',
        message: 'Genesys refused it (4000).',
        error: 'x',
        retryable: false,
        clientMessageId,
      },
    ]);
    expect(failure.message).toBe('say "hi": refused with upstream_rejected: Genesys refused it (4000).');
  });

  it('prints the progress lines and the failure from the command, exit code 1', async () => {
    relay = await fakeRelay(() => [
      retrying('refused', 1),
      retrying('refused', 2),
      { type: 'upstream', state: 'unavailable', reason: 'refused', message: 'Gave up.' },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'guest-relay-upstream-'));
    const file = join(dir, 'upstream.yaml');
    writeFileSync(file, SCENARIO);
    const { code, out, err } = await cliHere(['test', file, '--url', relay.url, '--token', 't']);
    expect(code).toBe(1);
    // One write per line.
    const progress = err.split(/(?<=\n)/).filter((line) => line.includes('Genesys retrying'));
    expect(progress).toEqual([
      `… greeting (${file}): Genesys retrying (refused: ECONNREFUSED): The connection to Genesys failed (refused). Trying again in 1 s.\n`,
    ]);
    expect(out).toContain('Genesys is unavailable (refused): Gave up.');
  });
});

describe('guest-relay test: upstream failures against the Genesys emulator', () => {
  let stack: LocalStack;
  let target: Target;
  beforeAll(async () => {
    stack = await startLocalStack(EMBEDDED);
    target = { url: stack.wsUrl, token: stack.token };
  }, 30_000);
  afterAll(() => stack.stop());

  it('a deployment the stack does not serve: the connect fails at once with deployment_not_allowed', async () => {
    const result = await runScenario(
      scenario(
        `config:\n  deploymentId: 0a1b2c3d-0000-4000-8000-00000000abcd\n${SCENARIO.split('\n').slice(1).join('\n')}`,
      ),
      target,
    );
    expect(result.durationMs).toBeLessThan(AT_ONCE_MS);
    expect(result.failure).toMatchObject({
      step: 'connect',
      message: expect.stringMatching(
        /^deployment_not_allowed: Deployment "0a1b2c3d-0000-4000-8000-00000000abcd"/,
      ),
    });
  });

  it('Genesys refusing connections for a while: one line for the retries, one when it is back, and the scenario passes', async () => {
    stack.emulator?.faults.refuseConnects(2_500);
    try {
      const lines: string[] = [];
      const result = await runScenario(scenario(), target, (line) => lines.push(line));
      expect(result.failure).toBeUndefined();
      expect(lines).toHaveLength(2);
      // The status, then what the emulator's refusal said.
      expect(lines[0]).toMatch(
        /^Genesys retrying \(http: HTTP 503: Refusing connections \(fault injection\)\.\): /,
      );
      expect(lines[1]).toMatch(/^Genesys connected: /);
    } finally {
      stack.emulator?.faults.reset();
    }
  }, 30_000);
});
