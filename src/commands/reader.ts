/**
 * Gap-free reads of a session's transcript. An entry exists in one of two places: written to the
 * transcript table, or still on the session item as the numbered command that carries it (a guest send
 * not yet settled, an upstream message not yet written). The owner writes an entry before it removes the
 * command. So a reader that reads the session item first and the table second finds every number up to
 * the item's `lastSeq` in one place or the other; numbers given out after that read are left for the
 * next read (the page stops at `lastSeq`), and none is ever missing from the middle.
 */
import type { SessionRecord } from '../store/sessions.js';
import type { Page, PageQuery, TranscriptEntry, TranscriptStore } from '../store/transcript.js';
import type { NumberedCommand } from './types.js';
import { isNumbered } from './types.js';

/** The entries a session item carries that the transcript table may not have yet, oldest first. */
export function unwrittenEntries(session: SessionRecord): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  for (const command of Object.values(session.pending)) {
    if (!isNumbered(command)) continue;
    const entry = entryOf(session.sessionId, command);
    if (entry !== undefined) entries.push(entry);
  }
  return entries.sort((a, b) => a.seq - b.seq);
}

/** The transcript entry a numbered command stands for (undefined: a legacy send, already written). */
export function entryOf(sessionId: string, command: NumberedCommand): TranscriptEntry | undefined {
  if (command.type === 'send') {
    if (command.legacy === true) return undefined;
    return {
      sessionId,
      seq: command.seq,
      entryId: command.entryId,
      direction: 'guest',
      content: command.content,
      status: 'pending',
      time: new Date(command.createdAt).toISOString(),
      storedAt: command.createdAt,
      ...(command.text === undefined ? {} : { text: command.text }),
      ...(command.clientMessageId === undefined ? {} : { clientMessageId: command.clientMessageId }),
    };
  }
  return {
    sessionId,
    seq: command.seq,
    entryId: command.entryId,
    direction: command.direction,
    content: command.content,
    status: 'sent',
    time: command.time,
    storedAt: command.createdAt,
    ...(command.text === undefined ? {} : { text: command.text }),
    ...(command.sender === undefined ? {} : { sender: command.sender }),
    ...(command.genesysId === undefined ? {} : { genesysId: command.genesysId }),
  };
}

/**
 * A page of the transcript as of `session` (read before this call): the table's entries merged with the
 * item's unwritten ones, up to the item's `lastSeq`. Same query and cursor rules as TranscriptStore.page.
 */
export async function readTranscript(
  transcript: TranscriptStore,
  session: SessionRecord,
  query: PageQuery,
): Promise<Page> {
  const { sessionId } = session;
  const { direction, limit } = query;
  const forward = direction === 'forward';
  let after = query.after ?? 0;
  let before = query.before ?? Number.POSITIVE_INFINITY;
  if (query.cursor !== undefined) {
    const seq = transcript.cursorSeq(sessionId, direction, query.cursor);
    if (forward) after = Math.max(after, seq);
    else before = Math.min(before, seq);
  }
  // Numbers given out after the session was read may be unwritten and not in our copy: stop before them.
  if (session.lastSeq !== undefined) before = Math.min(before, session.lastSeq + 1);
  // Every bound the store sees stays a safe integer: it queries from `after + 1`, and the DynamoDB
  // marshaller refuses a number past 2^53 - 1 with a plain Error (an internal_error for the client).
  before = Math.min(before, Number.MAX_SAFE_INTEGER);
  // Nothing lies strictly between the bounds (an `after` past the transcript's end, say): no query.
  if (after >= before - 1) return { entries: [] };
  const stored = await transcript.page(sessionId, { limit, direction, after, before });
  const bySeq = new Map<number, TranscriptEntry>();
  for (const entry of unwrittenEntries(session)) {
    if (entry.seq > after && entry.seq < before) bySeq.set(entry.seq, entry);
  }
  // A written entry is the newer state (its status moved on from pending).
  for (const entry of stored.entries) bySeq.set(entry.seq, entry);
  let candidates = [...bySeq.values()].sort((a, b) => (forward ? a.seq - b.seq : b.seq - a.seq));
  const edge = stored.entries.at(-1)?.seq;
  if (stored.cursor !== undefined && edge !== undefined) {
    // The table has more beyond its page: unwritten entries past it cannot be placed yet.
    candidates = candidates.filter((entry) => (forward ? entry.seq <= edge : entry.seq >= edge));
  }
  const entries = candidates.slice(0, limit);
  const last = entries.at(-1);
  const more = candidates.length > limit || stored.cursor !== undefined;
  if (!more || last === undefined) return { entries };
  return { entries, cursor: transcript.cursorAt(sessionId, direction, last.seq) };
}

/** Every entry of the session, oldest first, gap-free as of `session` (tests, exports, checks). */
export async function readWholeTranscript(
  transcript: TranscriptStore,
  session: SessionRecord,
): Promise<TranscriptEntry[]> {
  const entries: TranscriptEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await readTranscript(transcript, session, {
      limit: 100,
      direction: 'forward',
      ...(cursor === undefined ? {} : { cursor }),
    });
    entries.push(...page.entries);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return entries;
}
