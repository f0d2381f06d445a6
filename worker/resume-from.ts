/**
 * Where a new owner's backfill of the Genesys history starts (`resumeFrom`, DESIGN §2 failover): the time
 * of the newest entry that proves the previous owner had numbered Genesys' pushes up to there.
 *
 * Only an entry numbered from the push stream proves it: agent, bot and system messages are numbered one
 * after the other, in the order Genesys pushed them. A guest entry does not: its send settles beside that
 * stream (its echo, or the history when the echo was lost), so an owner whose numbering fell behind, its
 * store writes slow and its lease about to go, could store a guest message said after agent messages it
 * never numbered. Starting from that guest message skipped them for good (`npm run chaos -- --sessions 120
 * --rounds 36`, docs/performance.md).
 */
import type { TranscriptEntry } from '../src/store/transcript.js';

export interface ResumeFromInput {
  /** The newest entries, newest first, as read backward from the end of the transcript. */
  readonly entries: readonly TranscriptEntry[];
  /** Whether `entries` reach back to the first entry (nothing older was left unread). */
  readonly complete: boolean;
  /** When the session was created (epoch ms). */
  readonly createdAt: number;
}

/** An agent, bot or system entry: numbered in the order Genesys pushed it. */
export function isNumberedFromPush(entry: TranscriptEntry): boolean {
  return entry.direction !== 'guest';
}

/** Epoch ms to backfill from; every entry newer than it is among `entries` (the owner knows them). */
export function resumeFromOf({ entries, complete, createdAt }: ResumeFromInput): number {
  const numbered = entries.find(isNumberedFromPush);
  if (numbered !== undefined) return timeOf(numbered, createdAt);
  // No pushed message among them: from the start if the whole transcript was read; otherwise from the
  // oldest entry read, since everything newer is known and will not be numbered twice.
  const oldest = entries.at(-1);
  return complete || oldest === undefined ? createdAt : timeOf(oldest, createdAt);
}

function timeOf(entry: TranscriptEntry, fallback: number): number {
  const time = Date.parse(entry.time);
  return Number.isFinite(time) ? time : fallback;
}
