/**
 * `history` reads a page through readTranscript (src/commands/reader.ts). A bound past the transcript's
 * end is an empty page, never an internal_error: no bound past 2^53 - 1 may reach the store, whose
 * DynamoDB marshaller refuses such a number with a plain Error. Real dynalite, no mocks.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTranscript } from '../../../src/commands/reader.js';
import { DEFAULT_CONSTRAINTS } from '../../../src/domain/constraints.js';
import { MAX_SEQUENCE_ID } from '../../../src/protocol/index.js';
import {
  createStoreContext,
  type EmbeddedDynamo,
  provisionTables,
  type SessionRecord,
  startDynalite,
  TranscriptStore,
  tableNames,
} from '../../../src/store/index.js';

let db: EmbeddedDynamo;
let client: DynamoDBClient;
let transcript: TranscriptStore;

beforeAll(async () => {
  db = await startDynalite();
  client = new DynamoDBClient({
    endpoint: db.endpoint,
    requestHandler: db.requestHandler,
    region: 'us-east-1',
    // Local engine: any credentials do.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const tables = tableNames('history-bounds-');
  await provisionTables(client, tables);
  transcript = new TranscriptStore(createStoreContext({ client, tables, now: () => Date.now() }));
});

afterAll(async () => {
  client?.destroy();
  await db?.close();
});

/** A session item as `sessionFor` hands it over; `lastSeq` absent: a session from before the allocator. */
function session(sessionId: string, lastSeq?: number): SessionRecord {
  return {
    sessionId,
    team: 'team-a',
    status: 'active',
    deploymentId: 'dep-1',
    constraints: DEFAULT_CONSTRAINTS,
    context: {},
    contextBytes: 0,
    contextRev: 0,
    epoch: 0,
    pending: {},
    pendingBytes: 0,
    ...(lastSeq === undefined ? {} : { lastSeq }),
  } as SessionRecord;
}

async function store(sessionId: string, count: number): Promise<void> {
  for (let seq = 1; seq <= count; seq++) {
    await transcript.put({
      sessionId,
      seq,
      entryId: `${sessionId}-${seq}`,
      direction: 'agent',
      text: `entry ${seq}`,
      content: [],
      status: 'sent',
      time: new Date(0).toISOString(),
      storedAt: 0,
    });
  }
}

describe('readTranscript bounds (history)', () => {
  it.each([
    ['with its allocator', 3],
    ['from before the allocator', undefined],
  ])('answers an after past the end with an empty page, for a session %s', async (_, lastSeq) => {
    const id = `s-${lastSeq ?? 'legacy'}`;
    await store(id, 3);
    for (const after of [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 3, 4, MAX_SEQUENCE_ID]) {
      const page = await readTranscript(transcript, session(id, lastSeq), {
        limit: 50,
        direction: 'forward',
        after,
      });
      expect(page, `after ${after}`).toEqual({ entries: [] });
    }
  });

  it('still pages normally inside the range, forward and backward', async () => {
    const id = 's-pages';
    await store(id, 5);
    const seqs = async (query: Parameters<typeof readTranscript>[2], lastSeq?: number) =>
      (await readTranscript(transcript, session(id, lastSeq), query)).entries.map((entry) => entry.seq);
    expect(await seqs({ limit: 50, direction: 'forward', after: 2 })).toEqual([3, 4, 5]);
    expect(await seqs({ limit: 50, direction: 'forward', after: 2 }, 5)).toEqual([3, 4, 5]);
    expect(await seqs({ limit: 2, direction: 'backward', before: MAX_SEQUENCE_ID })).toEqual([5, 4]);
    expect(await seqs({ limit: 50, direction: 'forward', after: 1, before: 3 })).toEqual([2]);
    expect(await seqs({ limit: 50, direction: 'forward', after: 2, before: 3 })).toEqual([]);
  });
});
