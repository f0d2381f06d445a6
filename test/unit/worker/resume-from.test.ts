/**
 * Where a new owner's backfill starts after a takeover. What breaks if this is wrong: agent messages the
 * previous owner received but never numbered are skipped for good (a guest message stored after them
 * moved the start past them), or messages already stored are numbered a second time.
 */
import { describe, expect, it } from 'vitest';
import type { TranscriptEntry } from '../../../src/store/transcript.js';
import { resumeFromOf } from '../../../worker/resume-from.js';

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

  it('stops at the oldest entry read when older ones were left unread, so none is numbered twice', () => {
    const entries = [entry(300, 'guest', 300), entry(101, 'guest', 101)];
    expect(resumeFromOf({ entries, complete: false, createdAt: CREATED })).toBe(CREATED + 101_000);
  });

  it('falls back to the session start for an entry whose time does not parse', () => {
    const broken = { ...entry(3, 'agent', 30), time: 'not a time' };
    expect(resumeFromOf({ entries: [broken], complete: false, createdAt: CREATED })).toBe(CREATED);
  });
});
