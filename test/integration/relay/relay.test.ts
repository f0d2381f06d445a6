/**
 * The relay's public API end to end: real authorizer, real handlers, real stores on dynalite, real
 * management SDK, the gateway emulator for both APIs (see harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONSTRAINTS } from '../../../src/domain/constraints.js';
import type { ServerEvent } from '../../../src/protocol/index.js';
import { MAX_REPLAY } from '../../../src/relay/index.js';
import { PNG_1X1_BASE64, seedFrames } from '../../../support/seed-frames.js';
import {
  allowMedia,
  closedSocket,
  DEPLOYMENT_ID,
  MAX_PENDING,
  openSocket,
  type Relay,
  startRelay,
  storeUpstreamMessage,
  TEST_SECRET,
} from './harness.js';

type Of<T extends ServerEvent['type']> = Extract<ServerEvent, { type: T }>;

function expectType<T extends ServerEvent['type']>(event: ServerEvent, type: T): Of<T> {
  if (event.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(event)}`);
  return event as Of<T>;
}

function expectError(event: ServerEvent, code: string): Of<'error'> {
  const error = expectType(event, 'error');
  expect(error.code).toBe(code);
  expect(error.error).toBe(error.message);
  return error;
}

describe('relay: handshake', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  const status = async (token: string | undefined) => {
    const url =
      token === undefined ? relay.publicApi.url : `${relay.publicApi.url}?token=${encodeURIComponent(token)}`;
    try {
      (await openSocket(url)).terminate();
    } catch (error) {
      return (error as { status?: number }).status;
    }
    return 101;
  };

  it('refuses a missing token with 401 and expired, forged and wrong-audience tokens with 403', async () => {
    expect(await status(undefined)).toBe(401);
    const expired = await relay.token({ team: 'blue' }, { now: Date.now() - 3 * 3600_000, ttlSeconds: 60 });
    expect(await status(expired)).toBe(403);
    const forged = await relay.token({ team: 'blue' }, { secret: `${TEST_SECRET}-not-it` });
    expect(await status(forged)).toBe(403);
    const audience = await relay.token({ team: 'blue' }, { audience: 'someone-else' });
    expect(await status(audience)).toBe(403);
    expect(await relay.snapshot().then((s) => s.connections)).toEqual([]);
  });

  it('$connect stores the row with the claims; $disconnect deletes it', async () => {
    const client = await relay.client({ team: 'blue', role: 'guest', subject: 'visitor-1' });
    const row = await relay.deps.connections.get(client.connectionId);
    expect(row).toMatchObject({ connectionId: client.connectionId, team: 'blue', role: 'guest' });
    client.ws.close();
    await closedSocket(client.ws);
    await expect.poll(() => relay.deps.connections.get(client.connectionId)).toBeUndefined();
  });
});

describe('relay: with a live worker', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  it('ping needs no session', async () => {
    const client = await relay.client({ team: 'blue' });
    const pong = expectType(await client.request({ action: 'ping', nonce: 'n-1' }), 'pong');
    expect(pong.nonce).toBe('n-1');
    expect(Date.parse(pong.time)).not.toBeNaN();
  });

  it('every session action before connect is not_connected, and changes nothing', async () => {
    const client = await relay.client({ team: 'blue' });
    const before = await relay.snapshot();
    for (const frame of [
      { action: 'send', text: 'hi' },
      { action: 'typing' },
      { action: 'context', data: { a: 1 } },
      { action: 'upload', filename: 'a.png', contentType: 'image/png', size: 3 },
      { action: 'history' },
      { action: 'end' },
    ]) {
      expectError(await client.request(frame), 'not_connected');
    }
    await client.settle();
    expect(await relay.snapshot()).toEqual(before);
  });

  it('connect starts a session, stores a start command and rings a live worker to claim it', async () => {
    const worker = await relay.worker('w-start');
    const client = await relay.client({ team: 'blue' });
    const started = await client.start({ guestInfo: { name: 'Ada' }, metadata: { run: 7 } });
    expect(started).toMatchObject({
      resumed: false,
      lastSequenceId: 0,
      status: 'starting',
      deploymentId: DEPLOYMENT_ID,
    });
    expect(started.queued).toBeUndefined();
    expect(started.sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(started.constraints).toEqual(DEFAULT_CONSTRAINTS);
    // The claim names the frontend connection, so the new owner posts to it without a lookup.
    expect(await worker.doorbell()).toEqual({
      type: 'doorbell',
      sessionId: started.sessionId,
      reason: 'claim',
      connectionId: client.connectionId,
    });
    const session = await relay.deps.sessions.get(started.sessionId);
    expect(session).toMatchObject({
      team: 'blue',
      status: 'starting',
      guestInfo: { name: 'Ada' },
      metadata: { run: 7 },
    });
    expect(Object.values(session?.pending ?? {}).map((c) => c.type)).toEqual(['start']);
    // No Genesys guest token is stored: the worker derives it from a key no Lambda holds.
    expect(session?.guestToken).toBeUndefined();
    expect(session?.subject).toBeUndefined();
    expect((await relay.deps.connections.get(client.connectionId))?.sessionId).toBe(started.sessionId);
    await relay.deps.workers.remove('w-start');
  });

  it('send stores the message with its number in one command and rings the owner with it; a retry returns the first', async () => {
    const worker = await relay.worker('w-owner');
    const client = await relay.client({ team: 'blue' });
    const { sessionId } = await client.start();
    await worker.doorbell();
    await relay.deps.sessions.claim(sessionId, 'w-owner', {
      staleAfterMs: 15_000,
      controlConnectionId: worker.controlConnectionId,
    });

    const first = expectType(await client.request({ ...seedFrames.send, clientMessageId: 'm-1' }), 'message');
    expect(first).toMatchObject({
      sessionId,
      sequenceId: 1,
      direction: 'guest',
      status: 'pending',
      text: seedFrames.send.text,
      clientMessageId: 'm-1',
    });
    expect(first.queued).toBeUndefined();
    // The doorbell carries the command (the owner reads nothing back) and what else is pending.
    const command = {
      id: 'c#m-1',
      type: 'send',
      seq: 1,
      entryId: first.entryId,
      text: seedFrames.send.text,
      clientMessageId: 'm-1',
    };
    expect(await worker.doorbell()).toMatchObject({
      type: 'doorbell',
      sessionId,
      reason: 'command',
      epoch: 1,
      commands: [command],
      pending: ['start', 'c#m-1'],
    });
    const session = await relay.deps.sessions.get(sessionId);
    expect(session?.pending['c#m-1']).toMatchObject(command);
    expect(session?.lastSeq).toBe(1);
    // Not in the transcript table yet (the owner writes it), but every reader sees it.
    expect(await relay.deps.transcript.get(sessionId, 1)).toBeUndefined();
    expect(expectType(await client.request({ action: 'history' }), 'history').entries).toMatchObject([
      { sequenceId: 1, status: 'pending', clientMessageId: 'm-1' },
    ]);

    const before = await relay.snapshot();
    const again = expectType(await client.request({ ...seedFrames.send, clientMessageId: 'm-1' }), 'message');
    expect(again.sequenceId).toBe(1);
    expect(again.entryId).toBe(first.entryId);
    await worker.doorbell();
    const after = await relay.snapshot();
    expect(after.transcript).toEqual(before.transcript);

    // The same key with another payload: conflict, nothing stored.
    expectError(
      await client.request({ action: 'send', text: 'something else', clientMessageId: 'm-1' }),
      'conflict',
    );
    await client.settle();
    expect((await relay.snapshot()).transcript).toEqual(before.transcript);

    // The seed frame, unchanged (no clientMessageId).
    const seed = expectType(await client.request(seedFrames.send), 'message');
    expect(seed.sequenceId).toBe(2);
    await worker.doorbell();

    // A reply and an attachment id go into content.
    const reply = expectType(
      await client.request({ action: 'send', reply: { type: 'quickReply', text: 'Yes', payload: 'YES' } }),
      'message',
    );
    expect(reply.content).toEqual([
      { kind: 'buttonResponse', type: 'quickReply', text: 'Yes', payload: 'YES' },
    ]);
    await worker.doorbell();

    // typing: an ack and a typing doorbell to the live owner, nothing stored.
    const beforeTyping = await relay.snapshot();
    expect(await client.request({ action: 'typing' })).toEqual({ type: 'ack', action: 'typing', sessionId });
    expect(await worker.doorbell()).toEqual({ type: 'doorbell', sessionId, reason: 'typing', epoch: 1 });
    expect(await relay.snapshot()).toEqual(beforeTyping);
    await client.settle();
  });

  it('context merges (RFC 7396), replaces, and refuses an update over the budget without changing anything', async () => {
    const client = await relay.client({ team: 'blue' });
    const { sessionId } = await client.start();

    const seed = expectType(await client.request(seedFrames.context), 'context');
    expect(seed).toMatchObject({
      sessionId,
      state: 'pending',
      maxBytes: 2048,
      attributes: { uiState: 'checkout', cartValue: '149.99', preferredLanguage: 'en' },
    });
    const merged = expectType(
      await client.request({
        action: 'context',
        data: { uiState: null, cart: { items: [{ sku: 'A1' }] } },
        flush: true,
        clientMessageId: 'c-2',
      }),
      'context',
    );
    expect(merged.attributes).toEqual({
      cartValue: '149.99',
      preferredLanguage: 'en',
      'cart.items.0.sku': 'A1',
    });
    expect(merged.clientMessageId).toBe('c-2');
    const stored = await relay.deps.sessions.get(sessionId);
    expect(stored?.context).toEqual(merged.attributes);
    expect(stored?.contextBytes).toBe(merged.bytes);
    expect(
      Object.values(stored?.pending ?? {})
        .filter((c) => c.type === 'context')
        .map((c) => c.flush ?? false),
    ).toEqual([false, true]);

    const before = await relay.snapshot();
    const tooLarge = expectError(
      await client.request({ action: 'context', data: { big: 'x'.repeat(2100) } }),
      'context_too_large',
    );
    expect(tooLarge.details).toMatchObject({ maxBytes: 2048 });
    // Within the frame's own budget, but over it once merged with what is stored.
    expectError(
      await client.request({ action: 'context', data: { big: 'x'.repeat(2000) } }),
      'context_too_large',
    );
    expectError(await client.request({ action: 'context', data: { 'a.b': 1 } }), 'context_invalid');
    await client.settle();
    expect(await relay.snapshot()).toEqual(before);

    const replaced = expectType(
      await client.request({ action: 'context', data: { only: true }, mode: 'replace' }),
      'context',
    );
    expect(replaced.attributes).toEqual({ only: 'true' });
  });

  it('history pages forward, backward and newest, ascending', async () => {
    const client = await relay.client({ team: 'blue' });
    const { sessionId } = await client.start();
    for (let i = 1; i <= 7; i++) await storeUpstreamMessage(relay.deps, sessionId, { text: `a${i}` });
    const seqs = (event: ServerEvent) => expectType(event, 'history').entries.map((e) => e.sequenceId);

    const newest = expectType(await client.request({ action: 'history', limit: 3 }), 'history');
    expect(newest.entries.map((e) => e.sequenceId)).toEqual([5, 6, 7]);
    expect(newest.hasMore).toBe(true);
    expect(seqs(await client.request({ action: 'history', beforeSequenceId: 5, limit: 3 }))).toEqual([
      2, 3, 4,
    ]);
    const forward = expectType(await client.request({ action: 'history', afterSequenceId: 5 }), 'history');
    expect(forward.entries.map((e) => e.sequenceId)).toEqual([6, 7]);
    expect(forward.hasMore).toBe(false);
    expect(
      seqs(await client.request({ action: 'history', afterSequenceId: 1, beforeSequenceId: 4 })),
    ).toEqual([2, 3]);
  });

  it('resume replays exactly what was missed after afterSequenceId, then goes live', async () => {
    const first = await relay.client({ team: 'blue' });
    const { sessionId } = await first.start();
    for (let i = 1; i <= 5; i++)
      await storeUpstreamMessage(relay.deps, sessionId, {
        direction: i % 2 ? 'agent' : 'bot',
        text: `m${i}`,
      });

    const second = await relay.client({ team: 'blue' });
    const resumed = expectType(
      await second.request({ action: 'connect', sessionId, afterSequenceId: 2 }),
      'connect',
    );
    expect(resumed).toMatchObject({ sessionId, resumed: true, lastSequenceId: 5 });
    const replay = [await second.next(), await second.next(), await second.next()].map((e) =>
      expectType(e, 'message'),
    );
    expect(replay.map((e) => [e.sequenceId, e.text, e.replay])).toEqual([
      [3, 'm3', true],
      [4, 'm4', true],
      [5, 'm5', true],
    ]);
    await second.settle();
    expect((await relay.deps.connections.get(second.connectionId))?.sessionId).toBe(sessionId);

    // Nothing missed, nothing replayed; without afterSequenceId, no replay either.
    const third = await relay.client({ team: 'blue' });
    expectType(await third.request({ action: 'connect', sessionId, afterSequenceId: 5 }), 'connect');
    await third.settle();
    expectType(await third.request({ action: 'connect', sessionId }), 'connect');
    await third.settle();
  });

  it('caps the replay at MAX_REPLAY entries; the rest is read with history', async () => {
    const first = await relay.client({ team: 'blue' });
    const { sessionId } = await first.start();
    for (let i = 1; i <= MAX_REPLAY + 5; i++)
      await storeUpstreamMessage(relay.deps, sessionId, { text: `r${i}` });
    const second = await relay.client({ team: 'blue' });
    const resumed = expectType(
      await second.request({ action: 'connect', sessionId, afterSequenceId: 0 }),
      'connect',
    );
    expect(resumed.lastSequenceId).toBe(MAX_REPLAY + 5);
    const replayed: number[] = [];
    for (let i = 0; i < MAX_REPLAY; i++) replayed.push(expectType(await second.next(), 'message').sequenceId);
    expect(replayed).toEqual(Array.from({ length: MAX_REPLAY }, (_, i) => i + 1));
    await second.settle();
    const rest = expectType(
      await second.request({ action: 'history', afterSequenceId: MAX_REPLAY }),
      'history',
    );
    expect(rest.entries.map((e) => e.sequenceId)).toEqual([501, 502, 503, 504, 505]);
  }, 60_000);

  it('end stores one end command and acks; an ended session refuses actions and resumes', async () => {
    const client = await relay.client({ team: 'blue' });
    const { sessionId } = await client.start();
    expect(await client.request({ action: 'end', clientMessageId: 'e-1' })).toMatchObject({
      type: 'ack',
      action: 'end',
      sessionId,
      clientMessageId: 'e-1',
    });
    expect(await client.request({ action: 'end' })).toMatchObject({ type: 'ack', action: 'end' });
    const pending = Object.values((await relay.deps.sessions.get(sessionId))?.pending ?? {});
    expect(pending.filter((c) => c.type === 'end')).toHaveLength(1);

    await relay.deps.sessions.end(sessionId, 'guest'); // what the worker does
    const other = await relay.client({ team: 'blue' });
    const before = await relay.snapshot();
    for (const frame of [
      { action: 'send', text: 'hi' },
      { action: 'context', data: { a: 1 } },
      { action: 'typing' },
      { action: 'end' },
    ]) {
      expectError(await client.request(frame), 'session_ended');
    }
    expectType(await client.request({ action: 'history' }), 'history');
    expectError(await other.request({ action: 'connect', sessionId }), 'session_ended');
    await client.settle();
    expect(await relay.snapshot()).toEqual(before);
  });

  it('a read-only session refuses writes with session_read_only but can be read and ended', async () => {
    const client = await relay.client({ team: 'blue' });
    const { sessionId } = await client.start();
    await relay.deps.sessions.updateStatus(sessionId, 'readOnly');
    const before = await relay.snapshot();
    for (const frame of [
      { action: 'send', text: 'hi' },
      { action: 'context', data: { a: 1 } },
      { action: 'typing' },
      { action: 'upload', filename: 'a.png', contentType: 'image/png', size: 1 },
    ]) {
      expectError(await client.request(frame), 'session_read_only');
    }
    expectType(await client.request({ action: 'history' }), 'history');
    await client.settle();
    expect(await relay.snapshot()).toEqual(before);
    expect(await client.request({ action: 'end' })).toMatchObject({ type: 'ack', action: 'end' });
  });
});

describe('relay: bad frames', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  it('answers each bad frame with exactly one error event and changes nothing stored', async () => {
    const client = await relay.client({ team: 'blue' });
    const { sessionId } = await client.start();
    await storeUpstreamMessage(relay.deps, sessionId, { text: 'hello' });
    const deep = `{"action":"send","text":"x","reply":${'['.repeat(40)}${']'.repeat(40)}}`;
    const cases: [string, string][] = [
      ['not json', 'invalid_json'],
      ['[1,2]', 'invalid_frame'],
      ['{"text":"no action"}', 'invalid_frame'],
      ['{"action":"dance"}', 'unknown_action'],
      ['{"action":"send","text":"hi","clientMessageID":"typo"}', 'unknown_field'],
      ['{"action":"history","limit":1000}', 'invalid_field'],
      ['{"action":"send","text":""}', 'invalid_field'],
      ['{"action":"connect","afterSequenceId":3}', 'invalid_field'],
      [deep, 'too_deep'],
      ['{"action":"context","data":{"__proto__":{"x":1}}}', 'forbidden_key'],
      [
        '{"action":"send","text":"hi","reply":{"type":"button","text":"a","payload":"b","toSequenceId":1e400}}',
        'invalid_number',
      ],
      [JSON.stringify({ action: 'send', text: 'x'.repeat(4001) }), 'text_too_long'],
      ['{"action":"send","text":"\\ud800"}', 'text_invalid'],
      ['{"action":"send","text":"hi","sessionId":"AAAAAAAAAAAAAAAAAAAAAA"}', 'session_not_found'],
      ['{"action":"context","data":{"":1}}', 'context_invalid'],
      [
        JSON.stringify({ action: 'upload', filename: 'a.png', contentType: 'image/png', size: 10 }),
        'attachment_type_not_allowed',
      ],
    ];
    const before = await relay.snapshot();
    for (const [frame, code] of cases) {
      const error = expectError(await client.request(frame), code);
      expect(error.retryable).toBe(false);
      await client.settle();
    }
    expect(await relay.snapshot()).toEqual(before);
  });

  it('checks uploads against the session constraints (attachment_* codes) and accepts the seed upload frames', async () => {
    const worker = await relay.worker('w-up');
    const client = await relay.client({ team: 'blue' });
    const { sessionId } = await client.start();
    await worker.doorbell();
    await allowMedia(relay, sessionId);
    const before = await relay.snapshot();
    const cases: [Record<string, unknown>, string][] = [
      [{ filename: 'a/b.png', contentType: 'image/png', size: 10 }, 'attachment_name_invalid'],
      [{ filename: 'run.exe', contentType: 'image/png', size: 10 }, 'attachment_extension_blocked'],
      [{ filename: 'a.pdf', contentType: 'application/pdf', size: 10 }, 'attachment_type_not_allowed'],
      [{ filename: 'a.png', contentType: 'image/png', size: 0 }, 'attachment_empty'],
      [{ filename: 'a.png', contentType: 'image/png', size: 2048 }, 'attachment_too_large'],
    ];
    for (const [fields, code] of cases) {
      expectError(await client.request({ action: 'upload', ...fields }), code);
    }
    await client.settle();
    expect(await relay.snapshot()).toEqual(before);

    const slot = expectType(
      await client.request({
        action: 'upload',
        filename: 'a.png',
        contentType: 'image/png',
        size: 68,
        uploadId: 'u-1',
      }),
      'ack',
    );
    expect(slot).toMatchObject({ action: 'upload', sessionId, uploadId: 'u-1' });
    expect(await worker.doorbell()).toMatchObject({ sessionId, reason: 'claim' });
    const seed = expectType(await client.request(seedFrames.uploadBase64), 'ack');
    await worker.doorbell();
    const buffer = expectType(await client.request(seedFrames.uploadNodeBuffer), 'ack');
    await worker.doorbell();
    const pending = (await relay.deps.sessions.get(sessionId))?.pending ?? {};
    const upload = (id: string) => {
      const command = pending[id];
      return command?.type === 'upload' ? command.upload : undefined;
    };
    expect(upload('upload#u-1')).toEqual({
      uploadId: 'u-1',
      filename: 'a.png',
      contentType: 'image/png',
      size: 68,
      // The only connection the owner will tell the presigned URL.
      connectionId: client.connectionId,
    });
    expect(upload(`upload#${seed.uploadId}`)).toMatchObject({
      filename: 'receipt.png',
      inline: true,
      size: Buffer.from(PNG_1X1_BASE64, 'base64').length,
    });
    expect(await relay.deps.sessions.getUpload(sessionId, seed.uploadId as string)).toEqual({
      uploadId: seed.uploadId,
      send: true,
      caption: 'Here is my receipt',
      data: PNG_1X1_BASE64,
    });
    expect(await relay.deps.sessions.getUpload(sessionId, buffer.uploadId as string)).toMatchObject({
      data: Buffer.from('hello').toString('base64'),
      caption: 'a note',
    });
  });

  it('answers rate_limited with retryAfterMs when the session queue is full, storing nothing', async () => {
    const client = await relay.client({ team: 'blue' });
    await client.start(); // the start command is pending: one of MAX_PENDING
    for (let i = 1; i < MAX_PENDING; i++)
      expectType(await client.request({ action: 'send', text: `m${i}` }), 'message');
    const before = await relay.snapshot();
    const limited = expectError(
      await client.request({ action: 'send', text: 'one too many', clientMessageId: 'x-1' }),
      'rate_limited',
    );
    expect(limited.retryable).toBe(true);
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    expect(limited.clientMessageId).toBe('x-1');
    expectError(await client.request({ action: 'context', data: { a: 1 } }), 'rate_limited');
    expectError(
      await client.request({ action: 'upload', filename: 'a.png', contentType: 'image/png', size: 1 }),
      'attachment_type_not_allowed',
    );
    await client.settle();
    expect(await relay.snapshot()).toEqual(before);
  });
});

describe('relay: teams and roles', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  it('a connection of team A cannot resume, read or write a session of team B', async () => {
    const owner = await relay.client({ team: 'blue' });
    const { sessionId } = await owner.start();
    await storeUpstreamMessage(relay.deps, sessionId, { text: 'secret' });
    const intruder = await relay.client({ team: 'red' });
    const before = await relay.snapshot();

    const resume = expectError(
      await intruder.request({ action: 'connect', sessionId, afterSequenceId: 0 }),
      'session_not_found',
    );
    // The same answer as for a session that does not exist.
    const missing = expectError(
      await intruder.request({ action: 'connect', sessionId: 'BBBBBBBBBBBBBBBBBBBBBB' }),
      'session_not_found',
    );
    expect(resume.message).toBe(missing.message);
    for (const frame of [
      { action: 'send', text: 'hi', sessionId },
      { action: 'typing', sessionId },
      { action: 'context', data: { a: 1 }, sessionId },
      { action: 'upload', filename: 'a.png', contentType: 'image/png', size: 1, sessionId },
      { action: 'end', sessionId },
    ]) {
      expectError(await intruder.request(frame), 'not_connected');
    }
    // history reads a session by its id (ended ones too), with no connect: another team's is not found,
    // in the same words as one that does not exist.
    expect(
      expectError(await intruder.request({ action: 'history', sessionId }), 'session_not_found').message,
    ).toBe(missing.message);
    // With a session of its own, naming team B's session is session_not_found.
    await intruder.start();
    const withOwn = await relay.snapshot();
    for (const frame of [
      { action: 'send', text: 'hi', sessionId },
      { action: 'typing', sessionId },
      { action: 'context', data: { a: 1 }, sessionId },
      { action: 'upload', filename: 'a.png', contentType: 'image/png', size: 1, sessionId },
      { action: 'history', sessionId },
      { action: 'end', sessionId },
    ]) {
      expectError(await intruder.request(frame), 'session_not_found');
    }
    await intruder.settle();
    expect(await relay.snapshot()).toEqual(withOwn);
    expect(withOwn.transcript).toEqual(before.transcript);
    expect((withOwn.sessions ?? []).filter((item) => (item as { pk: string }).pk === sessionId)).toEqual(
      (before.sessions ?? []).filter((item) => (item as { pk: string }).pk === sessionId),
    );
  });

  it('agent-console may resume, read history and ping; everything else is forbidden', async () => {
    const guest = await relay.client({ team: 'blue' });
    const { sessionId } = await guest.start();
    const agent = await relay.client({ team: 'blue', role: 'agent-console' });
    const before = await relay.snapshot();
    expectError(await agent.request({ action: 'connect' }), 'forbidden');
    await agent.settle();
    expect(await relay.snapshot()).toEqual(before);
    expect(expectType(await agent.request({ action: 'connect', sessionId }), 'connect').resumed).toBe(true);
    expectType(await agent.request({ action: 'history' }), 'history');
    const attached = await relay.snapshot();
    for (const frame of [
      { action: 'send', text: 'hi' },
      { action: 'typing' },
      { action: 'context', data: { a: 1 } },
      { action: 'upload', filename: 'a.png', contentType: 'image/png', size: 1 },
      { action: 'end' },
    ]) {
      expectError(await agent.request(frame), 'forbidden');
    }
    await agent.settle();
    expect(await relay.snapshot()).toEqual(attached);

    const admin = await relay.client({ team: 'blue', role: 'admin' });
    expectType(await admin.request({ action: 'connect', sessionId }), 'connect');
    expectType(await admin.request({ action: 'send', text: 'from admin' }), 'message');
  });
});

describe('relay: doorbell and delivery', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  it('with no live worker the answer says queued and the command is stored', async () => {
    const client = await relay.client({ team: 'blue' });
    const started = await client.start();
    expect(started.queued).toBe(true);
    const sent = expectType(await client.request({ action: 'send', text: 'anyone?' }), 'message');
    expect(sent.queued).toBe(true);
    expect(expectType(await client.request({ action: 'context', data: { a: 1 } }), 'context').queued).toBe(
      true,
    );
    expect(expectType(await client.request({ action: 'end' }), 'ack').queued).toBe(true);
    const pending = Object.values((await relay.deps.sessions.get(started.sessionId))?.pending ?? {});
    expect(pending.map((c) => c.type).sort()).toEqual(['context', 'end', 'send', 'start']);
    expect(pending.find((c) => c.type === 'send')).toMatchObject({ text: 'anyone?', seq: 1 });
    const history = expectType(await client.request({ action: 'history' }), 'history');
    expect(history.entries).toMatchObject([{ sequenceId: 1, text: 'anyone?', status: 'pending' }]);
  });

  it('a stale worker is not rung; a 410 from a control connection moves on to the next live worker', async () => {
    const gone = await relay.worker('w-a-gone', 0);
    const next = await relay.worker('w-b-next', 5);
    gone.ws.close();
    await closedSocket(gone.ws);
    // Its heartbeat still names the closed control connection (fresh for another few seconds).
    await relay.deps.workers.heartbeat({
      workerId: 'w-a-gone',
      controlConnectionId: gone.controlConnectionId,
      load: 0,
    });
    const client = await relay.client({ team: 'blue' });
    const { sessionId, queued } = await client.start();
    expect(queued).toBeUndefined();
    expect(await next.doorbell()).toEqual({
      type: 'doorbell',
      sessionId,
      reason: 'claim',
      connectionId: client.connectionId,
    });

    // The owner's control connection is gone: the doorbell goes to another live worker to claim.
    await relay.deps.sessions.claim(sessionId, 'w-a-gone', { staleAfterMs: 15_000 });
    expectType(await client.request({ action: 'send', text: 'hi' }), 'message');
    expect(await next.doorbell()).toEqual({ type: 'doorbell', sessionId, reason: 'claim' });
    await relay.deps.workers.remove('w-a-gone');
    await relay.deps.workers.remove('w-b-next');
  });

  it('posting to a vanished connection removes its row', async () => {
    const client = await relay.client({ team: 'blue' });
    const { sessionId } = await client.start();
    const id = client.connectionId;
    // The socket drops and its $disconnect never comes (best effort on AWS): the row stays behind.
    await relay.deps.connections.put({
      connectionId: 'Gone1234567=',
      team: 'blue',
      role: 'guest',
      connectedAt: Date.now(),
    });
    await relay.deps.connections.attach('Gone1234567=', sessionId);
    expect(await relay.deps.publicGateway.post('Gone1234567=', '{"type":"pong"}')).toEqual({ gone: true });
    expect(await relay.deps.connections.get('Gone1234567=')).toBeUndefined();
    expect(await relay.deps.connections.get(id)).toBeDefined();
  });
});

describe('relay: logs', () => {
  it('never contain an access token (any JWT)', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
    const relay = await startRelay({ logLevel: 'DEBUG' });
    try {
      const client = await relay.client({ team: 'blue' });
      const { sessionId } = await client.start();
      expectType(await client.request({ action: 'send', text: 'hi' }), 'message');
      expectError(await client.request('not json'), 'invalid_json');
      expect((await relay.deps.sessions.get(sessionId))?.status).toBeDefined();
      const logs = lines.join('');
      expect(logs).toContain('route handled');
      expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\./);
    } finally {
      spy.mockRestore();
      await relay.close();
    }
  });
});
