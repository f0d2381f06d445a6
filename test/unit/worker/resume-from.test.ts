/**
 * Where a new owner's backfill starts after a takeover. What breaks if this is wrong: agent messages the
 * previous owner received but never numbered are skipped for good (a guest message stored after them
 * moved the start past them), or messages already stored are numbered a second time.
 */
import { describe, expect, it } from 'vitest';
import { BACKFILL_SLACK_MS } from '../../../src/genesys/client/index.js';
import type { TranscriptEntry } from '../../../src/store/transcript.js';
import { type BackwardPage, lastActivity, resumeFromOf } from '../../../worker/resume-from.js';

const CREATED = Date.parse('2026-12-06T10:00:00.000Z');

function entry(
  seq: number,
  direction: TranscriptEntry['direction'],
  second: number,
  status = 'sent',
): TranscriptEntry {
  return {
    sessionId: 's',
    seq,
    entryId: `e${seq}`,
    direction,
    content: [],
    status,
    time: new Date(CREATED + second * 1000).toISOString(),
    storedAt: CREATED + second * 1000,
  } as TranscriptEntry;
}

describe('resumeFromOf', () => {
  it('starts at the newest agent message, not at a guest message sent after it', () => {
    // Newest first: the guest's #5 was echoed at 50 s, but the owner had numbered pushes only up to 30 s.
    const entries = [
      entry(5, 'guest', 50),
      entry(4, 'guest', 40, 'pending'),
      entry(3, 'agent', 30),
      entry(2, 'guest', 20),
    ];
    expect(resumeFromOf({ entries, complete: false, createdAt: CREATED })).toBe(CREATED + 30_000);
  });

  it('counts bot and system messages as numbered from the pushes too', () => {
    expect(
      resumeFromOf({
        entries: [entry(2, 'guest', 9), entry(1, 'bot', 5)],
        complete: true,
        createdAt: CREATED,
      }),
    ).toBe(CREATED + 5_000);
    expect(resumeFromOf({ entries: [entry(1, 'system', 7)], complete: true, createdAt: CREATED })).toBe(
      CREATED + 7_000,
    );
  });

  it('backfills from the session start when the whole transcript holds guest messages only', () => {
    const entries = [entry(2, 'guest', 20), entry(1, 'guest', 10)];
    expect(resumeFromOf({ entries, complete: true, createdAt: CREATED })).toBe(CREATED);
    expect(resumeFromOf({ entries: [], complete: true, createdAt: CREATED })).toBe(CREATED);
  });

  it('moves the horizon up to the oldest entry read when older ones were left unread, so none is numbered twice', () => {
    // No pushed entry among them: the backfill reaches back to the oldest entry read, not 10 s beyond it.
    const entries = [entry(300, 'guest', 300), entry(101, 'guest', 101)];
    expect(resumeFromOf({ entries, complete: false, createdAt: CREATED })).toBe(
      CREATED + 101_000 + BACKFILL_SLACK_MS,
    );
    // A pushed entry whose slack reaches past what was read: the same.
    const short = [entry(9, 'agent', 50), entry(8, 'agent', 49)];
    expect(resumeFromOf({ entries: short, complete: false, createdAt: CREATED })).toBe(
      CREATED + 49_000 + BACKFILL_SLACK_MS,
    );
    // Read past the slack, or to the first entry: the newest pushed entry's time.
    expect(
      resumeFromOf({ entries: [...short, entry(7, 'guest', 30)], complete: false, createdAt: CREATED }),
    ).toBe(CREATED + 50_000);
    expect(resumeFromOf({ entries: short, complete: true, createdAt: CREATED })).toBe(CREATED + 50_000);
  });

  it('falls back to the session start for an entry whose time does not parse', () => {
    const broken = { ...entry(3, 'agent', 30), time: 'not a time' };
    expect(resumeFromOf({ entries: [broken], complete: false, createdAt: CREATED })).toBe(CREATED);
  });
});

/** A transcript read backward in pages of `size`, as readTranscript pages it; counts the pages read. */
function pagesOf(all: readonly TranscriptEntry[], size: number) {
  const newestFirst = [...all].sort((a, b) => b.seq - a.seq);
  const reader = {
    pagesRead: 0,
    read: async (cursor: string | undefined): Promise<BackwardPage> => {
      reader.pagesRead++;
      const start = cursor === undefined ? 0 : Number(cursor);
      const end = start + size;
      return {
        entries: newestFirst.slice(start, end),
        ...(end < newestFirst.length ? { cursor: String(end) } : {}),
      };
    },
  };
  return reader;
}

describe('lastActivity', () => {
  const options = { createdAt: CREATED, searchPages: 4, maxPages: 20 };

  it('reads past the page that holds the newest push until the whole slack before it is known', async () => {
    // A bot answering in bursts: 150 agent messages 100 ms apart, so the 10 s before the newest one hold
    // 100 of them, two pages of 50. Stopping at the first page left 50 stored messages unknown, and the
    // backfill, which reaches 10 s back, numbered them again.
    const all = Array.from({ length: 150 }, (_, i) => entry(i + 1, 'agent', 100 + i / 10));
    const pages = pagesOf(all, 50);
    const activity = await lastActivity(pages.read, options);
    const newest = CREATED + (100 + 149 / 10) * 1000;
    expect(activity.resumeFrom).toBe(newest);
    expect(activity.covered).toBe(true);
    const horizon = activity.resumeFrom - BACKFILL_SLACK_MS;
    const needed = all.filter((e) => Date.parse(e.time) >= horizon).map((e) => e.seq);
    expect(needed.length).toBeGreaterThan(50);
    const known = new Set(activity.entries.map((e) => e.seq));
    expect(needed.filter((seq) => !known.has(seq))).toEqual([]);
    expect(pages.pagesRead).toBe(3);
  });

  it('reads one page when the slack fits in it, and stops at the first entry', async () => {
    const sparse = Array.from({ length: 120 }, (_, i) => entry(i + 1, i % 2 === 0 ? 'guest' : 'agent', i));
    const one = pagesOf(sparse, 50);
    expect((await lastActivity(one.read, options)).covered).toBe(true);
    expect(one.pagesRead).toBe(1);
    const short = pagesOf(sparse.slice(0, 10), 50);
    const activity = await lastActivity(short.read, options);
    expect(activity).toMatchObject({ covered: true, resumeFrom: CREATED + 9_000 });
    expect(short.pagesRead).toBe(1);
  });

  it('cut short by maxPages: the backfill starts at the oldest entry read, not before it', async () => {
    const dense = Array.from({ length: 2_000 }, (_, i) => entry(i + 1, 'bot', 100 + i / 1000));
    const pages = pagesOf(dense, 50);
    const activity = await lastActivity(pages.read, options);
    expect(pages.pagesRead).toBe(20);
    expect(activity.covered).toBe(false);
    const oldest = activity.entries.at(-1);
    if (oldest === undefined) throw new Error('nothing read');
    expect(activity.resumeFrom - BACKFILL_SLACK_MS).toBe(Date.parse(oldest.time));
  });

  it('a long tail of guest messages: searches searchPages for a push, then starts at the oldest entry read', async () => {
    const guestOnly = [
      entry(1, 'agent', 1),
      ...Array.from({ length: 400 }, (_, i) => entry(i + 2, 'guest', 10 + i)),
    ];
    const pages = pagesOf(guestOnly, 50);
    const activity = await lastActivity(pages.read, options);
    expect(pages.pagesRead).toBe(4);
    expect(activity.entries).toHaveLength(200);
    expect(activity.resumeFrom - BACKFILL_SLACK_MS).toBe(CREATED + (10 + 200) * 1000);
  });
});
