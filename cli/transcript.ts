/** `guest-relay transcript`: every entry of a session, as JSON or Markdown, on stdout. */
import type { ServerEvent } from '../src/protocol/index.js';
import { entryText, guestStatus } from './entry-text.js';
import type { Io } from './io.js';
import { type EventOf, isType, RelayClient, RelayRefusal } from './relay-client.js';

type Entry = EventOf<'history'>['entries'][number];

export interface TranscriptOptions {
  readonly url: string;
  readonly token: string;
  readonly session: string;
  readonly format: 'json' | 'md';
}

/**
 * Every entry of the session, oldest first. `history` names the session, so it is read without being
 * resumed: an ended session, which `connect` would refuse, is read as well (docs/relay.md). A stack from
 * before history read sessions by id answers `not_connected`; the session is then resumed first.
 */
export async function readTranscript(client: RelayClient, sessionId: string): Promise<Entry[]> {
  const page = (after: number) =>
    client.request(
      { action: 'history', sessionId, afterSequenceId: after, limit: 100 },
      (event: ServerEvent): event is EventOf<'history'> => event.type === 'history',
    );
  const firstPage = async (): Promise<EventOf<'history'>> => {
    try {
      return await page(0);
    } catch (error) {
      if (!(error instanceof RelayRefusal) || error.code !== 'not_connected') throw error;
      await client.request({ action: 'connect', sessionId }, isType('connect'));
      return page(0);
    }
  };
  const entries: Entry[] = [];
  let current = await firstPage();
  for (;;) {
    entries.push(...current.entries);
    const last = current.entries.at(-1);
    if (!current.hasMore || last === undefined) return entries;
    current = await page(last.sequenceId);
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
