/** `guest-relay transcript`: every entry of a session, as JSON or Markdown, on stdout. */
import type { ServerEvent } from '../src/protocol/index.js';
import { entryText, guestStatus } from './entry-text.js';
import type { Io } from './io.js';
import { type EventOf, isType, RelayClient } from './relay-client.js';

type Entry = EventOf<'history'>['entries'][number];

export interface TranscriptOptions {
  readonly url: string;
  readonly token: string;
  readonly session: string;
  readonly format: 'json' | 'md';
}

export async function readTranscript(client: RelayClient, sessionId: string): Promise<Entry[]> {
  await client.request({ action: 'connect', sessionId }, isType('connect'));
  const entries: Entry[] = [];
  let after = 0;
  for (;;) {
    const page = await client.request(
      { action: 'history', sessionId, afterSequenceId: after, limit: 100 },
      (event: ServerEvent): event is EventOf<'history'> => event.type === 'history',
    );
    entries.push(...page.entries);
    const last = page.entries.at(-1);
    if (!page.hasMore || last === undefined) return entries;
    after = last.sequenceId;
  }
}

export function toMarkdown(sessionId: string, entries: readonly Entry[]): string {
  const lines = [`# Transcript of session ${sessionId}`, '', `${entries.length} entries.`, ''];
  for (const entry of entries) {
    const who =
      entry.direction === 'guest'
        ? 'Guest'
        : (entry.sender?.nickname ?? entry.sender?.name ?? entry.direction);
    const text = entryText(entry);
    const state = guestStatus(entry);
    const status = state ? ` _(${state})_` : '';
    lines.push(`${entry.sequenceId}. **${who}** (${entry.time}): ${text}${status}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runTranscript(options: TranscriptOptions, io: Io): Promise<void> {
  const client = await RelayClient.open(options.url, options.token);
  try {
    const entries = await readTranscript(client, options.session);
    io.out(
      options.format === 'md'
        ? toMarkdown(options.session, entries)
        : `${JSON.stringify({ sessionId: options.session, entries }, null, 2)}\n`,
    );
  } finally {
    client.close();
  }
}
