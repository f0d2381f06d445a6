/**
 * `guest-relay chat` as a person and as a script use it: the real CLI entry (bin/guest-relay.js) in a
 * child process, against a fake relay on loopback that plays the events each test needs. The human mode
 * runs in a pseudo-terminal (`script` from util-linux), as a person typing has; `--json` runs on pipes.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { runChild } from '../child-run.js';

const SESSION = 'session-chat-terminal-01';
const TOKEN = 'token-for-the-fake-relay';
const CONSTRAINTS = {
  maxTextLength: 4000,
  maxCustomDataBytes: 2048,
  attachments: { enabled: false, fileTypes: [], maxFileSizeKB: 0, blockedExtensions: [], maxPerMessage: 0 },
  sendRatePerSecond: 2,
  typingIntervalMs: 5000,
};
const TIME = '2026-01-01T00:00:00.000Z';

/** What the bot says after connect: multi-line text, a card, a carousel. */
const GREETING = {
  type: 'message',
  sequenceId: 1,
  entryId: 'entry-1',
  direction: 'bot',
  text: 'Welcome!\nPick something below.',
  content: [
    {
      kind: 'card',
      title: 'Plans',
      description: 'Our two plans',
      actions: [
        { type: 'postback', text: 'Basic plan', payload: 'PLAN_BASIC' },
        { type: 'link', text: 'Compare online', url: 'https://example.invalid/compare' },
      ],
    },
    {
      kind: 'carousel',
      cards: [
        { title: 'Red shirt', actions: [{ type: 'postback', text: 'Buy red', payload: 'BUY_RED' }] },
        { title: 'Blue shirt', actions: [{ type: 'postback', text: 'Buy blue', payload: 'BUY_BLUE' }] },
      ],
    },
    { kind: 'quickReply', text: 'Talk to a person', payload: 'AGENT' },
  ],
  status: 'delivered',
  time: TIME,
};

interface FakeRelay {
  readonly url: string;
  /** Every frame the chat sent, parsed. */
  readonly frames: Record<string, unknown>[];
  /** Every raw event text the relay sent. */
  readonly sent: string[];
  close(): Promise<void>;
}

/**
 * Answers connect (then greets, then plays `afterGreeting`, then closes the connection with `closeWith`
 * if given, as the stack does at its limits), echoes a send as a guest entry (but refuses the text
 * "refuse me" with an error answering it), and answers end with an ack then sessionEnded.
 */
async function fakeRelay(
  afterGreeting: readonly Record<string, unknown>[] = [],
  closeWith?: { readonly code: number; readonly reason: string },
): Promise<FakeRelay> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as { port: number };
  const frames: Record<string, unknown>[] = [];
  const sent: string[] = [];
  let sequence = 1;
  server.on('connection', (ws: WebSocket) => {
    const send = (event: Record<string, unknown>): void => {
      const text = JSON.stringify({ sessionId: SESSION, ...event });
      sent.push(text);
      ws.send(text);
    };
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      frames.push(frame);
      const clientMessageId = frame.clientMessageId as string | undefined;
      switch (frame.action) {
        case 'connect':
          send({
            type: 'connect',
            resumed: false,
            lastSequenceId: 0,
            status: 'starting',
            constraints: CONSTRAINTS,
            clientMessageId,
          });
          send(GREETING);
          for (const event of afterGreeting) send(event);
          if (closeWith !== undefined) ws.close(closeWith.code, closeWith.reason);
          return;
        case 'send': {
          if (frame.text === 'refuse me') {
            send({
              type: 'error',
              code: 'text_invalid',
              message: 'That text is refused by the fake relay.',
              error: 'That text is refused by the fake relay.',
              retryable: false,
              action: 'send',
              clientMessageId,
            });
            return;
          }
          const reply = frame.reply as { type: string; text: string; payload: string } | undefined;
          sequence += 1;
          send({
            type: 'message',
            sequenceId: sequence,
            entryId: `entry-${sequence}`,
            direction: 'guest',
            ...(typeof frame.text === 'string' ? { text: frame.text } : {}),
            content: reply === undefined ? [] : [{ kind: 'buttonResponse', ...reply }],
            status: 'pending',
            clientMessageId,
            time: TIME,
          });
          return;
        }
        case 'end':
          send({ type: 'ack', action: 'end', clientMessageId });
          send({ type: 'sessionEnded', reason: 'guest' });
          return;
        default:
          return;
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${port}/local`,
    frames,
    sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

interface Child {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** stdout without terminal escapes and carriage returns: what a person reads. */
  readonly screen: () => string;
  readonly exited: Promise<number | null>;
  write(text: string): void;
  waitFor(test: (out: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are what it removes.
const TERMINAL_ESCAPES = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** The chat's child with what a test reads and types: the screen, and waiting for what it shows. */
function chatProcess(command: string, args: readonly string[], env: Record<string, string>): Child {
  const run = runChild(command, args, { env: { GUEST_RELAY_TOKEN: TOKEN, ...env } });
  const { child } = run;
  const screen = () => run.stdout().replace(TERMINAL_ESCAPES, '').replace(/\r/g, '');
  return {
    child,
    stdout: run.stdout,
    stderr: run.stderr,
    screen,
    exited: run.exited,
    write: (text) => child.stdin?.write(text),
    waitFor: (test, what, timeoutMs = 8_000) =>
      new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const poll = setInterval(() => {
          if (test(screen())) {
            clearInterval(poll);
            resolve();
          } else if (Date.now() - started > timeoutMs) {
            clearInterval(poll);
            reject(
              new Error(
                `timed out waiting for ${what}; stdout so far:\n${screen()}\nstderr:\n${run.stderr()}`,
              ),
            );
          }
        }, 20);
      }),
  };
}

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/** The CLI in a pseudo-terminal: `script` runs it on a pty and relays our pipe to it. */
function chatInPty(url: string): Child {
  const command = [process.execPath, 'bin/guest-relay.js', 'chat', '--url', url].map(quote).join(' ');
  return chatProcess('script', ['-qfec', command, '/dev/null'], { NO_COLOR: '1', TERM: 'dumb' });
}

function chatOnPipes(url: string, ...flags: string[]): Child {
  return chatProcess(process.execPath, ['bin/guest-relay.js', 'chat', '--url', url, ...flags], {});
}

const started = (out: string): boolean => out.includes(`started session ${SESSION}`) && out.includes('> ');

// Each test's fake relay and chat, stopped after it.
let relay: FakeRelay | undefined;
let chat: Child | undefined;
afterEach(async () => {
  if (chat && chat.child.exitCode === null && chat.child.signalCode === null) {
    chat.child.kill('SIGKILL');
    await chat.exited;
  }
  chat = undefined;
  await relay?.close();
  relay = undefined;
});

describe('guest-relay chat in a terminal', () => {
  it('prompts, lists its commands, refuses an unknown one unsent, and sends //text as /text', async () => {
    relay = await fakeRelay();
    chat = chatInPty(relay.url);
    await chat.waitFor(started, 'the session to start and the prompt');
    chat.write('/help\r');
    await chat.waitFor((out) => out.includes('/quit'), '/help');
    for (const name of ['/help', '/typing', '/end', '/quit', '//text'])
      expect(chat.screen()).toMatch(new RegExp(`^ +${name} +\\S`, 'm'));
    chat.write('/foo\r');
    await chat.waitFor((out) => out.includes('unknown command /foo; /help lists them'), 'the refusal');
    chat.write('//slash text\r');
    // The prompt is drawn again after what the chat printed, on the last line.
    await chat.waitFor((out) => /you: \/slash text\n> $/.test(out), 'the literal send, then the prompt');
    const sends = relay.frames.filter((frame) => frame.action === 'send').map((frame) => frame.text);
    expect(sends).toEqual(['/slash text']);
    chat.write('/quit\r');
    expect(await chat.exited).toBe(0);
    expect(relay.frames.some((frame) => frame.action === 'end')).toBe(false);
  }, 15_000);

  it('shows a card and a carousel with numbered buttons; a number sends a postback or shows a link', async () => {
    relay = await fakeRelay();
    chat = chatInPty(relay.url);
    await chat.waitFor((out) => started(out) && out.includes('Buy blue'), 'the greeting');
    const screen = chat.screen();
    // Multi-line text as it is.
    expect(screen).toContain('bot: Welcome!\nPick something below.');
    expect(screen).toMatch(
      /\[card\] Plans\n +Our two plans\n +1\) Basic plan\n +2\) Compare online \(link\)/,
    );
    expect(screen).toMatch(/\[card\] Red shirt\n +3\) Buy red\n.*\[card\] Blue shirt\n +4\) Buy blue/s);
    chat.write('2\r');
    await chat.waitFor((out) => out.includes('Compare online: https://example.invalid/compare'), 'the link');
    chat.write('4\r');
    await chat.waitFor((out) => /you: Buy blue/.test(out), 'the button response');
    const sends = relay.frames.filter((frame) => frame.action === 'send');
    expect(sends).toHaveLength(1);
    expect(sends[0]?.reply).toEqual({ type: 'button', text: 'Buy blue', payload: 'BUY_BLUE' });
    chat.write('/quit\r');
    expect(await chat.exited).toBe(0);
  }, 15_000);

  it('prints an error answering its own send once', async () => {
    relay = await fakeRelay();
    chat = chatInPty(relay.url);
    await chat.waitFor(started, 'the session to start');
    chat.write('refuse me\r');
    await chat.waitFor((out) => out.includes('refused by the fake relay'), 'the error');
    chat.write('after\r');
    await chat.waitFor((out) => /you: after/.test(out), 'the next send');
    expect(chat.screen().match(/refused by the fake relay/g)).toHaveLength(1);
    expect(chat.screen()).toContain('error text_invalid: That text is refused by the fake relay.');
    chat.write('/quit\r');
    expect(await chat.exited).toBe(0);
  }, 15_000);

  it('/end ends the session, says so, and exits 0', async () => {
    relay = await fakeRelay();
    chat = chatInPty(relay.url);
    await chat.waitFor(started, 'the session to start');
    chat.write('/end\r');
    expect(await chat.exited).toBe(0);
    expect(chat.screen()).toContain('session ended (guest)');
    expect(relay.frames.filter((frame) => frame.action === 'end')).toHaveLength(1);
  }, 15_000);
});

describe('guest-relay chat without a terminal', () => {
  it('prints no prompt, keeps quick replies numbered, and a number sends the quick reply', async () => {
    relay = await fakeRelay();
    chat = chatOnPipes(relay.url);
    await chat.waitFor((out) => out.includes('5) Talk to a person'), 'the greeting');
    chat.write('5\n');
    await chat.waitFor((out) => /you: Talk to a person/.test(out), 'the quick reply');
    expect(relay.frames.find((frame) => frame.action === 'send')?.reply).toEqual({
      type: 'quickReply',
      text: 'Talk to a person',
      payload: 'AGENT',
    });
    chat.write('/end\n');
    expect(await chat.exited).toBe(0);
    expect(chat.stdout()).not.toContain('> ');
    expect(chat.stdout()).not.toContain('\u001b[');
  }, 15_000);

  it('piped lines are all sent and answered before it leaves at the end of its input', async () => {
    relay = await fakeRelay();
    chat = chatOnPipes(relay.url);
    chat.write('hello\nsecond line\n');
    chat.child.stdin?.end();
    expect(await chat.exited).toBe(0);
    expect(relay.frames.filter((frame) => frame.action === 'send').map((frame) => frame.text)).toEqual([
      'hello',
      'second line',
    ]);
    expect(chat.stdout()).toContain('#3 you: second line');
    expect(chat.stderr()).toBe('');
  }, 15_000);

  it('prints a message that arrives twice (a retried post) once', async () => {
    const reply = {
      ...GREETING,
      sequenceId: 2,
      entryId: 'entry-2',
      direction: 'agent',
      text: 'Said once',
      content: [],
    };
    relay = await fakeRelay([reply, reply, { type: 'sessionEnded', reason: 'agent' }]);
    chat = chatOnPipes(relay.url);
    expect(await chat.exited).toBe(0);
    expect(relay.sent.filter((text) => text.includes('Said once'))).toHaveLength(2);
    expect(chat.stdout().split('Said once')).toHaveLength(2);
  }, 15_000);

  it('says why Genesys is failing, that it is back, and why the session ended', async () => {
    relay = await fakeRelay([
      {
        type: 'upstream',
        state: 'retrying',
        reason: 'refused',
        detail: 'ECONNREFUSED',
        message: 'The connection to Genesys failed (refused: ECONNREFUSED). Trying again in 2 s.',
        attempt: 1,
        retryAt: TIME,
      },
      {
        type: 'upstream',
        state: 'connected',
        message: 'Connected to Genesys again after 1 failed attempt(s).',
      },
      {
        type: 'sessionEnded',
        reason: 'error',
        code: 'upstream_rejected',
        message: 'Genesys refused the session: HTTP 404.',
      },
    ]);
    chat = chatOnPipes(relay.url);
    expect(await chat.exited).toBe(0);
    const output = chat.stdout();
    expect(output).toContain('Genesys retrying (refused: ECONNREFUSED): The connection to Genesys failed');
    expect(output).toContain('Connected to Genesys again');
    expect(output).toContain('session ended: upstream_rejected — Genesys refused the session: HTTP 404.');
  }, 15_000);
});

describe('guest-relay chat when something goes wrong', () => {
  it('a failed message says its code and what the stack said of it', async () => {
    relay = await fakeRelay([
      {
        type: 'status',
        sequenceId: 1,
        status: 'failed',
        failure: {
          code: 'upstream_unavailable',
          message: 'Genesys could not be reached; try again once it says connected.',
        },
      },
      { type: 'sessionEnded', reason: 'agent' },
    ]);
    chat = chatOnPipes(relay.url);
    expect(await chat.exited).toBe(0);
    expect(chat.stdout()).toContain(
      'message #1 failed: upstream_unavailable — Genesys could not be reached; try again once it says connected.',
    );
  }, 15_000);

  it('a connection the stack closes ends the chat with exit code 1, why, and how to resume', async () => {
    relay = await fakeRelay([], { code: 1001, reason: 'Going away' });
    chat = chatOnPipes(relay.url);
    expect(await chat.exited).toBe(1);
    expect(chat.stderr()).toContain(
      'The stack closed the connection (1001 Going away): the stack closes a connection after 10 minutes',
    );
    expect(chat.stderr()).toContain(`resume it with "guest-relay chat --session ${SESSION}"`);
  }, 15_000);

  it('--json: the same, and the pongs of its own keep-alive pings are not written', async () => {
    const mine = { type: 'pong', nonce: 'chat-keep-alive', time: TIME };
    const theirs = { type: 'pong', nonce: 'script-ping', time: TIME };
    relay = await fakeRelay([mine, theirs], { code: 1001, reason: 'Going away' });
    chat = chatOnPipes(relay.url, '--json');
    expect(await chat.exited).toBe(1);
    expect(chat.stdout()).toContain('"nonce":"script-ping"');
    expect(chat.stdout()).not.toContain('"nonce":"chat-keep-alive"');
    expect(chat.stderr()).toContain(`resume it with "guest-relay chat --session ${SESSION}"`);
  }, 15_000);

  it('Ctrl-C while the connection is opening ends it at once (exit 130)', async () => {
    // A server that accepts the connection and never answers the upgrade.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = silent.address() as { port: number };
      const opening = new Promise((resolve) => silent.once('request', resolve));
      chat = chatOnPipes(`ws://127.0.0.1:${port}/local`);
      await opening;
      chat.child.kill('SIGINT');
      expect(await chat.exited).toBe(130);
      expect(chat.stderr()).toContain('SIGINT: stopped');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  }, 15_000);
});

describe('guest-relay chat --json', () => {
  it('writes each event as received, sends each line as a frame, reports a bad line on stderr', async () => {
    relay = await fakeRelay();
    chat = chatOnPipes(relay.url, '--json');
    await chat.waitFor((out) => out.includes('"entry-1"'), 'the connect answer and the greeting');
    chat.write('{"action":"send","text":"from a script","clientMessageId":"script-1"}\n');
    chat.write('this is not json\n');
    chat.write('{"action":"end","clientMessageId":"script-2"}\n');
    expect(await chat.exited).toBe(0);
    // Exactly the relay's frames, one per line, in order, and nothing else on stdout.
    expect(chat.stdout()).toBe(relay.sent.map((text) => `${text}\n`).join(''));
    expect(relay.sent.map((text) => (JSON.parse(text) as { type: string }).type)).toEqual([
      'connect',
      'message',
      'message',
      'ack',
      'sessionEnded',
    ]);
    const sent = relay.frames.map((frame) => frame.action);
    expect(sent).toEqual(['connect', 'send', 'end']);
    expect(relay.frames[1]).toEqual({ action: 'send', text: 'from a script', clientMessageId: 'script-1' });
    const problems = chat
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { type: string; message: string });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.type).toBe('cliError');
    expect(problems[0]?.message).toMatch(/not JSON/);
  }, 15_000);
});
