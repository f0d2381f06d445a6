/**
 * `guest-relay chat`: an interactive guest in the terminal. Lines typed are sent (each waits for its
 * answer, so the transcript keeps the order they were typed in); agent and bot messages, rich content,
 * typing, status changes and the session's end are printed as they come. A number picks one of the
 * numbered choices of the latest message that offered some (quick replies, card and carousel buttons).
 * With `--json` it is a pipe for scripts instead: events out as JSON lines, frames in as JSON lines.
 */
import { randomUUID } from 'node:crypto';
import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';
import type { ContentItem, ServerEvent } from '../src/protocol/index.js';
import { CliError, type Colors, type Io } from './io.js';
import { type EventOf, RelayClient, RelayRefusal } from './relay-client.js';

export interface ChatOptions {
  readonly url: string;
  readonly token: string;
  readonly session?: string;
  readonly deploymentId?: string;
  /** Events out and frames in as JSON lines, nothing human on stdout (for scripts). */
  readonly json?: boolean;
}

/** The commands of the human mode, one line each; `/help` prints this list. */
export const COMMANDS: readonly (readonly [string, string])[] = [
  ['/help', 'list these commands'],
  ['/typing', 'tell the agent you are typing'],
  ['/end', 'end the session and leave'],
  ['/quit', 'leave without ending the session (resume it with --session)'],
  ['//text', 'send "/text" literally (a line that starts with one "/" is a command)'],
];

const HELP_LINES = [
  'Type a message and press Enter. A number picks one of the numbered choices of the latest message.',
  ...COMMANDS.map(([name, what]) => `  ${name.padEnd(8)} ${what}`),
];

/** How long `/end` waits for `sessionEnded` after the stack acknowledged it, before leaving anyway. */
const END_GRACE_MS = 10_000;

const PROMPT = '> ';

/**
 * How often chat pings the stack while nothing else is sent: API Gateway, and the local gateway with it,
 * close a connection after 10 minutes without a data frame (docs/gateway.md), and a guest waiting for an
 * agent may type nothing for longer than that.
 */
const KEEP_ALIVE_MS = 4 * 60_000;
/** The nonce of chat's own pings: their `pong`s are not shown (nor written in `--json` mode). */
const KEEP_ALIVE_NONCE = 'chat-keep-alive';

/** Pings the stack every `everyMs`; returns the function that stops it. */
export function keepAlive(
  client: { send(frame: Record<string, unknown>): void },
  everyMs = KEEP_ALIVE_MS,
): () => void {
  const timer = setInterval(() => client.send({ action: 'ping', nonce: KEEP_ALIVE_NONCE }), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The error for a connection the stack closed while the session went on: why that happens, and how to
 * carry on (the session lives on the stack; `--session` resumes it).
 */
function connectionLost(closed: { code: number; reason: string }, sessionId: string | undefined): CliError {
  const why = `${closed.code}${closed.reason ? ` ${closed.reason}` : ''}`;
  const limits =
    closed.code === 1001
      ? ': the stack closes a connection after 10 minutes without traffic, after 2 hours in all, and when it stops'
      : '';
  const resume =
    sessionId === undefined
      ? ''
      : ` The session goes on: resume it with "guest-relay chat --session ${sessionId}" (same --url and token).`;
  return new CliError(`The stack closed the connection (${why})${limits}.${resume}`);
}

/** One numbered choice: a reply the guest can send, or a link to show. */
type Choice =
  | {
      readonly kind: 'reply';
      readonly type: 'quickReply' | 'button';
      readonly text: string;
      readonly payload: string;
    }
  | { readonly kind: 'link'; readonly text: string; readonly url: string };

type Card = Omit<Extract<ContentItem, { kind: 'card' }>, 'kind'>;

/**
 * The lines that show an agent or bot message, and its numbered choices in the order shown (one
 * numbering across quick replies, card buttons and carousel buttons, as a person reads them).
 */
function renderMessage(event: EventOf<'message'>, c: Colors): { lines: string[]; choices: Choice[] } {
  const who = event.sender?.nickname ?? event.sender?.name ?? event.direction;
  const lines = [`${c.dim(`#${event.sequenceId}`)} ${c.bold(c.cyan(`${who}:`))} ${event.text ?? ''}`];
  const choices: Choice[] = [];
  const numbered = (choice: Choice): string => {
    choices.push(choice);
    const label = choice.kind === 'link' ? `${choice.text} ${c.dim('(link)')}` : choice.text;
    return `${c.bold(String(choices.length))}) ${label}`;
  };
  const card = (item: Card, indent: string): void => {
    lines.push(`${indent}${c.bold(`[card] ${item.title}`)}`);
    if (item.description !== undefined && item.description !== '') {
      lines.push(...item.description.split('\n').map((line) => `${indent}${line}`));
    }
    for (const action of item.actions) {
      lines.push(
        `${indent}  ${numbered(
          action.type === 'link'
            ? { kind: 'link', text: action.text, url: action.url }
            : { kind: 'reply', type: 'button', text: action.text, payload: action.payload },
        )}`,
      );
    }
  };
  for (const item of event.content) {
    switch (item.kind) {
      case 'quickReply':
        lines.push(
          `   ${numbered({ kind: 'reply', type: 'quickReply', text: item.text, payload: item.payload })}`,
        );
        break;
      case 'card':
        card(item, '   ');
        break;
      case 'carousel':
        lines.push(`   ${c.dim(`[carousel of ${item.cards.length}]`)}`);
        for (const each of item.cards) card(each, '    ');
        break;
      case 'attachment':
        lines.push(`   ${c.dim(`[attachment ${item.filename ?? item.id}]`)}`);
        break;
      case 'datePicker':
        lines.push(
          `   ${c.dim(`[date picker${item.title ? ` ${item.title}` : ''}: answer it on the web page]`)}`,
        );
        break;
      case 'unknown':
        lines.push(`   ${c.dim(`[${item.contentType}]`)}`);
        break;
      default:
        break;
    }
  }
  return { lines, choices };
}

/** What a typed line means: a command, a message, or a pick. */
type Typed =
  | { readonly kind: 'command'; readonly name: '/help' | '/typing' | '/end' | '/quit' }
  | { readonly kind: 'unknown'; readonly word: string; readonly known: boolean }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'pick'; readonly index: number };

const KNOWN = new Set(['/help', '/typing', '/end', '/quit']);

function readTyped(line: string, choices: number): Typed {
  if (line.startsWith('//')) return { kind: 'text', text: line.slice(1) };
  if (line.startsWith('/')) {
    const word = line.split(/\s/, 1)[0] ?? line;
    if (KNOWN.has(word) && word === line) {
      return { kind: 'command', name: word as '/help' | '/typing' | '/end' | '/quit' };
    }
    return { kind: 'unknown', word, known: KNOWN.has(word) };
  }
  // A number past the choices is a message ("42" answering "how old are you?").
  if (/^\d+$/.test(line) && Number(line) >= 1 && Number(line) <= choices) {
    return { kind: 'pick', index: Number(line) - 1 };
  }
  return { kind: 'text', text: line };
}

export async function runChat(options: ChatOptions, io: Io): Promise<void> {
  if (io.input === undefined) throw new CliError('chat needs stdin.', 2);
  return options.json === true ? runJsonChat(options, io, io.input) : runHumanChat(options, io, io.input);
}

function connectFrame(options: ChatOptions): Record<string, unknown> & { clientMessageId: string } {
  return {
    action: 'connect',
    clientMessageId: randomUUID(),
    ...(options.session === undefined ? {} : { sessionId: options.session, afterSequenceId: 0 }),
    ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
  };
}

async function runHumanChat(options: ChatOptions, io: Io, input: NodeJS.ReadableStream): Promise<void> {
  const c = io.color;
  // A prompt only for a person at a terminal; piped stdin gets plain lines.
  const tty = (input as { isTTY?: boolean }).isTTY === true;
  const client = await RelayClient.open(options.url, options.token);
  let choices: Choice[] = [];
  /** clientMessageIds of this chat's own frames: the request that sent one prints its error. */
  const mine = new Set<string>();
  let lines: Interface | undefined;
  let ended = false;
  let onEnded = (): void => {};

  /** Lines printed so far: a typed line that printed nothing still needs its prompt drawn again. */
  let printed = 0;
  const print = (text: string): void => {
    printed += 1;
    if (lines === undefined || !tty) {
      io.out(`${text}\n`);
      return;
    }
    // Above the prompt: clear it, print, then draw it again with whatever was half typed.
    io.out(`\r\u001b[K${text}\n`);
    lines.prompt(true);
  };

  /** Agent and bot messages printed, by sequenceId: a post the relay retried can arrive twice. */
  const shownMessages = new Set<number>();
  client.on((event: ServerEvent) => {
    switch (event.type) {
      case 'message': {
        if (event.direction === 'guest' || shownMessages.has(event.sequenceId)) return;
        shownMessages.add(event.sequenceId);
        const shown = renderMessage(event, c);
        if (shown.choices.length > 0) choices = shown.choices;
        print(shown.lines.join('\n'));
        return;
      }
      case 'typing':
        if (event.state === 'on') print(c.dim(`${event.from} is typing…`));
        return;
      case 'status':
        if (event.status === 'failed') {
          const why = event.failure?.message ? ` — ${event.failure.message}` : '';
          print(c.red(`message #${event.sequenceId} failed: ${event.failure?.code ?? 'unknown'}${why}`));
        }
        return;
      case 'presence':
        if (event.presence === 'disconnect') {
          print(c.dim(`${event.from} left${event.readOnly ? ' (the conversation is read-only now)' : ''}`));
        }
        return;
      case 'upstream':
        if (event.state === 'connected') print(c.green(event.message));
        else
          print(
            c.red(`Genesys ${event.state} (${event.reason ?? '?'}: ${event.detail ?? ''}): ${event.message}`),
          );
        return;
      case 'sessionEnded':
        ended = true;
        print(
          event.reason === 'error'
            ? c.red(`session ended: ${event.code ?? 'error'}${event.message ? ` — ${event.message}` : ''}`)
            : c.dim(`session ended (${event.reason})`),
        );
        onEnded();
        return;
      case 'error':
        // An answer to one of our own requests is printed where the request fails, once.
        if (event.clientMessageId !== undefined && mine.has(event.clientMessageId)) return;
        print(c.red(`error ${event.code}: ${event.message}`));
        return;
      default:
        return;
    }
  });

  const request = <T extends ServerEvent>(
    frame: Record<string, unknown> & { clientMessageId: string },
    match: (event: ServerEvent) => event is T,
  ): Promise<T> => {
    mine.add(frame.clientMessageId);
    return client.request(frame, match);
  };

  const connect = await request(connectFrame(options), (e): e is EventOf<'connect'> => e.type === 'connect');
  print(
    c.green(
      `${connect.resumed ? 'resumed' : 'started'} session ${connect.sessionId} (${connect.status}${connect.queued ? ', queued: no worker yet' : ''})`,
    ),
  );
  print(c.dim('Type a message and press Enter; a number picks a numbered choice; /help lists the commands.'));

  const output = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      io.out(chunk.toString());
      callback();
    },
  });
  const rl = tty
    ? createInterface({ input, output, terminal: true, prompt: PROMPT })
    : createInterface({ input, terminal: false });
  lines = rl;
  const stopKeepAlive = keepAlive(client);
  /** The connection, when the stack closed it while the session went on. */
  let lost: { code: number; reason: string } | undefined;

  await new Promise<void>((resolve) => {
    let finished = false;
    let endTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(endTimer);
      stopKeepAlive();
      if (tty) io.out('\r\u001b[K');
      lines = undefined;
      rl.close();
      resolve();
    };
    onEnded = finish;
    if (ended) finish();
    void client.closed().then((closed) => {
      if (finished) return;
      lost = closed;
      finish();
    });
    void io.interrupted().then(finish);
    rl.on('SIGINT', finish);

    const handle = async (line: string): Promise<void> => {
      const typed = readTyped(line, choices.length);
      switch (typed.kind) {
        case 'command':
          switch (typed.name) {
            case '/quit':
              return finish();
            case '/help':
              return print(c.dim(HELP_LINES.join('\n')));
            case '/typing':
              client.send({ action: 'typing' });
              return;
            case '/end': {
              await request(
                { action: 'end', clientMessageId: randomUUID() },
                (e): e is EventOf<'ack'> => e.type === 'ack' && e.action === 'end',
              );
              if (finished) return;
              print(c.dim('ending the session…'));
              // The stack has stored the end; sessionEnded says it happened. Leave anyway if it is late.
              endTimer = setTimeout(() => {
                print(c.dim('session end requested (no sessionEnded yet); leaving'));
                finish();
              }, END_GRACE_MS);
              return;
            }
          }
          return;
        case 'unknown':
          return print(
            c.red(
              typed.known
                ? `${typed.word} takes nothing after it; /help lists the commands`
                : `unknown command ${typed.word}; /help lists them`,
            ),
          );
        case 'pick': {
          const choice = choices[typed.index];
          if (choice === undefined) return;
          if (choice.kind === 'link') return print(`${choice.text}: ${choice.url}`);
          return send(
            { reply: { type: choice.type, text: choice.text, payload: choice.payload } },
            choice.text,
          );
        }
        case 'text':
          return send({ text: typed.text }, typed.text);
      }
    };
    const send = async (body: Record<string, unknown>, shown: string): Promise<void> => {
      const frame = { action: 'send', ...body, clientMessageId: randomUUID() };
      const sent = await request(
        frame,
        (event: ServerEvent): event is EventOf<'message'> =>
          event.type === 'message' && event.clientMessageId === frame.clientMessageId,
      );
      print(`${c.dim(`#${sent.sequenceId}`)} ${c.bold('you:')} ${shown}`);
    };

    let queue = Promise.resolve();
    rl.on('line', (raw) => {
      const line = raw.trim();
      if (line.length === 0) {
        if (tty && !finished) rl.prompt();
        return;
      }
      let before = 0;
      queue = queue
        .then(() => {
          before = printed;
          return handle(line);
        })
        .catch((error: unknown) =>
          print(
            c.red(
              error instanceof RelayRefusal ? `error ${error.message}` : String((error as Error).message),
            ),
          ),
        )
        .then(() => {
          if (tty && !finished && printed === before) rl.prompt(true);
        });
    });
    // The end of input (piped lines, or Ctrl-D): what was typed is sent and answered first.
    rl.on('close', () => {
      void queue.then(finish);
    });
    if (tty && !finished) rl.prompt();
  });
  client.close();
  if (lost !== undefined) throw connectionLost(lost, connect.sessionId);
}

/** A frame as received: its text, and what `request` and the chat need to know of it. */
interface RawEvent {
  readonly type: string;
  readonly text: string;
  readonly sessionId?: string;
  /** The answer to one of chat's own keep-alive pings. */
  readonly keepAlive: boolean;
}

/**
 * `--json`: every frame the relay sends goes to stdout as received, one per line; every stdin line is a
 * JSON frame to send. The chat sends `connect` itself (with --session / --deployment-id), so its answer
 * is the first line. It ends when the session ends, on Ctrl-C, or when the stack closes the connection
 * (exit code 1, saying why and how to resume); the end of stdin alone does not end it, so the answers to
 * a piped batch of frames are not lost. Chat's own keep-alive pings and their pongs are not written.
 */
async function runJsonChat(options: ChatOptions, io: Io, input: NodeJS.ReadableStream): Promise<void> {
  const client = await RelayClient.open<RawEvent>(options.url, options.token, {
    read: (text) => {
      try {
        const value = JSON.parse(text) as { type?: unknown; sessionId?: unknown; nonce?: unknown };
        const type = typeof value?.type === 'string' ? value.type : '';
        return {
          type,
          text,
          ...(typeof value?.sessionId === 'string' ? { sessionId: value.sessionId } : {}),
          keepAlive: type === 'pong' && value.nonce === KEEP_ALIVE_NONCE,
        };
      } catch {
        return { type: '', text, keepAlive: false };
      }
    },
    fail: (message) => new CliError(message),
  });
  const cliError = (message: string): void => io.err(`${JSON.stringify({ type: 'cliError', message })}\n`);
  const rl = createInterface({ input, terminal: false });
  const stopKeepAlive = keepAlive(client);
  let sessionId: string | undefined;
  let lost: { code: number; reason: string } | undefined;
  await new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      stopKeepAlive();
      rl.close();
      resolve();
    };
    client.on((event) => {
      if (event.keepAlive) return;
      if (event.type === 'connect' && event.sessionId !== undefined) sessionId = event.sessionId;
      io.out(`${event.text}\n`);
      if (event.type === 'sessionEnded') finish();
    });
    void client.closed().then((closed) => {
      if (finished) return;
      lost = closed;
      finish();
    });
    void io.interrupted().then(finish);
    rl.on('line', (line) => {
      if (line.trim().length === 0) return;
      let frame: unknown;
      try {
        frame = JSON.parse(line);
      } catch (error) {
        return cliError(`not JSON, not sent: ${(error as Error).message}`);
      }
      if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
        return cliError('not a JSON object, not sent');
      }
      client.sendText(line);
    });
    client.send(connectFrame(options));
  });
  client.close();
  if (lost !== undefined) throw connectionLost(lost, sessionId);
}
