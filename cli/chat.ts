/**
 * `guest-relay chat`: an interactive guest in the terminal. Lines typed are sent (each waits for its
 * answer, so the transcript keeps the order they were typed in); agent and bot messages, typing, status
 * changes and the session's end are printed as they come. A number answers the last quick replies.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { ServerEvent } from '../src/protocol/index.js';
import { CliError, type Io } from './io.js';
import { type EventOf, isType, RelayClient } from './relay-client.js';

export interface ChatOptions {
  readonly url: string;
  readonly token: string;
  readonly session?: string;
  readonly deploymentId?: string;
}

const HELP = 'Type a message and press Enter. A number picks a quick reply. /typing, /end, /quit, /help.';

export async function runChat(options: ChatOptions, io: Io): Promise<void> {
  if (io.input === undefined) throw new CliError('chat needs a terminal (stdin).', 2);
  const c = io.color;
  const client = await RelayClient.open(options.url, options.token);
  let quickReplies: { text: string; payload: string }[] = [];
  const print = (line: string): void => io.out(`${line}\n`);

  client.on((event: ServerEvent) => {
    switch (event.type) {
      case 'message': {
        if (event.direction === 'guest') return;
        const who = event.sender?.nickname ?? event.sender?.name ?? event.direction;
        const replies = event.content.flatMap((item) => (item.kind === 'quickReply' ? [item] : []));
        print(`${c.dim(`#${event.sequenceId}`)} ${c.bold(c.cyan(`${who}:`))} ${event.text ?? ''}`);
        if (replies.length > 0) {
          quickReplies = replies.map((r) => ({ text: r.text, payload: r.payload }));
          print(quickReplies.map((r, i) => `   ${c.bold(String(i + 1))}) ${r.text}`).join('\n'));
        }
        for (const item of event.content) {
          if (item.kind === 'attachment') print(`   ${c.dim(`[attachment ${item.filename ?? item.id}]`)}`);
          if (item.kind === 'card') print(`   ${c.dim(`[card] ${item.title}`)}`);
        }
        return;
      }
      case 'typing':
        if (event.state === 'on') print(c.dim(`${event.from} is typing…`));
        return;
      case 'status':
        if (event.status === 'failed') {
          print(c.red(`message #${event.sequenceId} failed: ${event.failure?.code ?? 'unknown'}`));
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
        print(
          event.reason === 'error'
            ? c.red(`session ended: ${event.code ?? 'error'}${event.message ? ` — ${event.message}` : ''}`)
            : c.dim(`session ended (${event.reason})`),
        );
        return;
      case 'error':
        print(c.red(`error ${event.code}: ${event.message}`));
        return;
      default:
        return;
    }
  });

  const connect = await client.request(
    {
      action: 'connect',
      clientMessageId: randomUUID(),
      ...(options.session === undefined ? {} : { sessionId: options.session, afterSequenceId: 0 }),
      ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
    },
    isType('connect'),
  );
  print(
    c.green(
      `${connect.resumed ? 'resumed' : 'started'} session ${connect.sessionId} (${connect.status}${connect.queued ? ', queued: no worker yet' : ''})`,
    ),
  );
  print(c.dim(HELP));

  const lines = createInterface({ input: io.input, terminal: false });
  const done = new Promise<void>((resolve) => {
    const finish = (): void => {
      lines.close();
      resolve();
    };
    void client.closed().then(({ code }) => {
      print(c.dim(`connection closed (${code})`));
      finish();
    });
    void io.interrupted.then(finish);
    lines.on('close', finish);
    let queue = Promise.resolve();
    lines.on('line', (raw) => {
      const line = raw.trim();
      if (line.length === 0) return;
      queue = queue
        .then(() => handle(line))
        .catch((error: unknown) => print(c.red(String((error as Error).message))));
    });
    const handle = async (line: string): Promise<void> => {
      if (line === '/quit') return finish();
      if (line === '/help') return print(c.dim(HELP));
      if (line === '/typing') {
        client.send({ action: 'typing' });
        return;
      }
      if (line === '/end') {
        await client.request({ action: 'end', clientMessageId: randomUUID() }, isType('ack'));
        return;
      }
      const pick = /^\d+$/.test(line) ? quickReplies[Number(line) - 1] : undefined;
      const frame =
        pick === undefined
          ? { action: 'send', text: line, clientMessageId: randomUUID() }
          : {
              action: 'send',
              reply: { type: 'quickReply', text: pick.text, payload: pick.payload },
              clientMessageId: randomUUID(),
            };
      const sent = await client.request(
        frame,
        (event: ServerEvent): event is EventOf<'message'> =>
          event.type === 'message' && event.clientMessageId === frame.clientMessageId,
      );
      print(`${c.dim(`#${sent.sequenceId}`)} ${c.bold('you:')} ${pick?.text ?? line}`);
    };
  });
  await done;
  client.close();
}
