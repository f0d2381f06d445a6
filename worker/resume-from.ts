/**
 * Where a new owner's backfill of the Genesys history starts (`resumeFrom`, DESIGN §2 failover), and
 * which stored entries it must know so that the backfill numbers none of them again.
 *
 * The Genesys client backfills from `resumeFrom - BACKFILL_SLACK_MS` (pushes in transit when a socket
 * died can be that much older than the newest one seen), and the owner numbers every push it gets from
 * there whose Genesys id it does not know. So two rules:
 *
 * - **Start at the newest entry numbered from the push stream.** Agent, bot and system messages are
 *   numbered one after the other, in the order Genesys pushed them. A guest entry proves nothing: its send
 *   settles beside that stream (its echo, or the history when the echo was lost), so an owner whose
 *   numbering fell behind, its store writes slow and its lease about to go, could store a guest message
 *   said after agent messages it never numbered. Starting from that guest message skipped them for good
 *   (`npm run chaos -- --sessions 120 --rounds 36`, docs/performance.md).
 * - **Know every entry from the backfill's horizon on.** The transcript is read backward until an entry
 *   older than the horizon (`resumeFrom - BACKFILL_SLACK_MS`) is read, or its start. Stopping at the page
 *   that held the newest push, as the first version did, left unknown the entries of the slack beyond that
 *   page: with more than a page of entries in the 10 s before the newest push (a bot answering in bursts,
 *   a load run), those older than the page were numbered again: nothing else remembers them (the session
 *   item keeps a record's id only when a drain settled it, src/commands/executor.ts, and then only for the
 *   settle horizon). When the reading is cut short (`maxPages`), `resumeFrom` moves up so
 *   that the horizon is the oldest entry read: a push older than that many entries and still in transit is
 *   the price, not a second copy of what is stored.
 */
import { BACKFILL_SLACK_MS } from '../src/genesys/client/index.js';
import type { TranscriptEntry } from '../src/store/transcript.js';

export interface ResumeFromInput {
  /** The newest entries, newest first, as read backward from the end of the transcript. */
  readonly entries: readonly TranscriptEntry[];
  /** Whether `entries` reach back to the first entry (nothing older was left unread). */
  readonly complete: boolean;
  /** When the session was created (epoch ms). */
  readonly createdAt: number;
  /** How far before `resumeFrom` the backfill reaches. Default BACKFILL_SLACK_MS (the client's). */
  readonly slackMs?: number;
}

/** An agent, bot or system entry: numbered in the order Genesys pushed it. */
export function isNumberedFromPush(entry: TranscriptEntry): boolean {
  return entry.direction !== 'guest';
}

/**
 * Epoch ms to backfill from: the newest pushed entry's time, or the session's start when none was read
 * and nothing is unread; moved up, when older entries were left unread, so that the backfill's horizon
 * (`resumeFrom - slackMs`) is no older than the oldest entry read.
 */
export function resumeFromOf({
  entries,
  complete,
  createdAt,
  slackMs = BACKFILL_SLACK_MS,
}: ResumeFromInput): number {
  const { pushedAt, oldestAt } = timesOf(entries, createdAt);
  const from = pushedAt ?? createdAt;
  // An oldest entry without a readable time moves nothing: the backfill reaches as far as it did.
  if (complete || oldestAt === undefined) return from;
  return Math.max(from, oldestAt + slackMs);
}

/** Whether the entries read (newest first) hold every entry from the backfill's horizon on. */
export function coversHorizon({
  entries,
  complete,
  createdAt,
  slackMs = BACKFILL_SLACK_MS,
}: ResumeFromInput): boolean {
  if (complete) return true;
  const { pushedAt, oldestAt } = timesOf(entries, createdAt);
  if (pushedAt === undefined || oldestAt === undefined) return false;
  return oldestAt < pushedAt - slackMs;
}

/**
 * The newest pushed entry's time (the session's start when it does not parse), and the oldest entry's
 * (none when it does not parse), among entries read newest first.
 */
function timesOf(
  entries: readonly TranscriptEntry[],
  createdAt: number,
): { pushedAt: number | undefined; oldestAt: number | undefined } {
  const pushed = entries.find(isNumberedFromPush);
  const oldest = entries.at(-1);
  return {
    pushedAt: pushed === undefined ? undefined : (timeOf(pushed) ?? createdAt),
    oldestAt: oldest === undefined ? undefined : timeOf(oldest),
  };
}

/** One page of the transcript read backward; no `cursor`: nothing older. */
export interface BackwardPage {
  readonly entries: readonly TranscriptEntry[];
  readonly cursor?: string | undefined;
}

export interface LastActivityOptions {
  readonly createdAt: number;
  /**
   * Pages read while no pushed entry has been found (a long guest-only tail). Beyond it the backfill
   * starts from the oldest entry read (its horizon moved up to it).
   */
  readonly searchPages: number;
  /** Pages read at most in all, finding the newest pushed entry and then its slack. */
  readonly maxPages: number;
  readonly slackMs?: number;
}

/**
 * Reads the transcript backward (`readPage`, newest first) until the backfill's horizon is covered (see
 * the file header), and returns where the backfill starts and every entry read (their Genesys ids are
 * not numbered again).
 */
export async function lastActivity(
  readPage: (cursor: string | undefined) => Promise<BackwardPage>,
  options: LastActivityOptions,
): Promise<{ resumeFrom: number; entries: TranscriptEntry[]; covered: boolean }> {
  const entries: TranscriptEntry[] = [];
  let cursor: string | undefined;
  let complete = false;
  for (let pages = 0; pages < options.maxPages; pages++) {
    const page = await readPage(cursor);
    entries.push(...page.entries);
    cursor = page.cursor;
    if (cursor === undefined) complete = true;
    const input = { entries, complete, ...options };
    if (coversHorizon(input)) break;
    if (pages + 1 >= options.searchPages && !entries.some(isNumberedFromPush)) break;
  }
  const input = { entries, complete, ...options };
  return { resumeFrom: resumeFromOf(input), entries, covered: coversHorizon(input) };
}

function timeOf(entry: TranscriptEntry): number | undefined {
  const time = Date.parse(entry.time);
  return Number.isFinite(time) ? time : undefined;
}
