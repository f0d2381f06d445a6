import { afterEach, describe, expect, it } from 'vitest';
import { REORDER_FLUSH_MS } from '../../../src/genesys/emulator/index.js';
import {
  type Harness,
  type Json,
  postJson,
  startHarness,
  textMessage,
  upgradeStatus,
} from './emulator-harness.js';

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

const texts = (frames: { body: unknown }[]) => frames.map((f) => (f.body as Json).text);

describe('fault injection', () => {
  it("drops one session's sockets abnormally (1006) and leaves the others", async () => {
    harness = await startHarness();
    const a = await harness.guest('a');
    const b = await harness.guest('b');
    expect(harness.emulator.faults.dropSockets('a')).toBe(1);
    expect((await a.client.closed).code).toBe(1006);
    expect(b.client.ws.readyState).toBe(b.client.ws.OPEN);
    expect(harness.emulator.faults.dropSockets('nobody')).toBe(0);
  });

  it('drops every guest socket, with a close code when one is given', async () => {
    harness = await startHarness();
    const a = await harness.guest('a');
    const unconfigured = await harness.connect();
    const dropped = await postJson(`${harness.emulator.httpUrl}/emulator/faults/drop`, { code: 4321 });
    expect(dropped).toMatchObject({ status: 200, body: { dropped: 2 } });
    expect((await a.client.closed).code).toBe(4321);
    expect((await unconfigured.closed).code).toBe(4321);
  });

  it('refuses upgrades with HTTP 503 while refusing, and accepts them after', async () => {
    harness = await startHarness();
    harness.emulator.faults.refuseConnects(5000);
    expect(await upgradeStatus(harness.url)).toBe(503);
    harness.clock.advance(5000);
    const client = await harness.connect();
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('delays every Outbound push by the given time, while the transcript has them at once', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('slow');
    harness.emulator.faults.delayPushes(2000);
    harness.emulator.agent.say('slow', { text: 'late' });
    expect(harness.emulator.transcript('slow').map((m) => m.text)).toEqual(['late']);
    await client.expectNothing('slow');
    harness.clock.advance(2000);
    expect((await client.nextOfClass('StructuredMessage')).body).toMatchObject({
      text: 'late',
      direction: 'Outbound',
    });
  });

  it('delivers the next pushes in reverse order with their channel.time unchanged', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('mixed');
    harness.emulator.faults.reorderPushes(3);
    for (const text of ['one', 'two', 'three']) harness.emulator.agent.say('mixed', { text });
    const frames = [await client.next(), await client.next(), await client.next()];
    expect(texts(frames)).toEqual(['three', 'two', 'one']);
    const byTime = [...frames].sort((x, y) =>
      ((x.body as Json).channel.time as string).localeCompare((y.body as Json).channel.time),
    );
    expect(texts(byTime)).toEqual(['one', 'two', 'three']);
    harness.emulator.agent.say('mixed', { text: 'four' });
    expect(texts([await client.next()])).toEqual(['four']);
  });

  it('flushes a short reordered batch after REORDER_FLUSH_MS, and reset() flushes in the original order', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('short');
    harness.emulator.faults.reorderPushes(5);
    harness.emulator.agent.say('short', { text: 'a' });
    harness.emulator.agent.say('short', { text: 'b' });
    await client.expectNothing('short');
    harness.clock.advance(REORDER_FLUSH_MS);
    expect(texts([await client.next(), await client.next()])).toEqual(['b', 'a']);

    const other = await harness.guest('other');
    harness.emulator.faults.reorderPushes(5);
    harness.emulator.agent.say('other', { text: 'x' });
    harness.emulator.agent.say('other', { text: 'y' });
    harness.emulator.faults.reset();
    expect(texts([await other.client.next(), await other.client.next()])).toEqual(['x', 'y']);
  });

  it('delivers the next pushes twice each', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('dup');
    harness.emulator.faults.duplicatePushes(1);
    harness.emulator.agent.say('dup', { text: 'twice' });
    harness.emulator.agent.say('dup', { text: 'once' });
    const frames = [await client.next(), await client.next(), await client.next()];
    expect(texts(frames)).toEqual(['twice', 'twice', 'once']);
    expect(frames[0]).toEqual(frames[1]);
    await client.expectNothing('dup');
  });

  it('answers the next onMessage with a forced 429 and does not store it', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('limited');
    const state = await postJson(`${harness.emulator.httpUrl}/emulator/faults/429`, {
      count: 1,
      retryAfterSeconds: 7,
    });
    expect(state.body).toMatchObject({ forced429Left: 1, forced429RetryAfterSeconds: 7 });
    const refused = await client.request(textMessage('limited', 'no'), 'TooManyRequestsErrorMessage');
    expect(refused.body).toEqual({
      retryAfter: 7,
      errorCode: 4029,
      errorMessage: 'Message rate too high for this session',
    });
    await client.request(textMessage('limited', 'yes'), 'StructuredMessage');
    await client.request(textMessage('limited', 'yes again'), 'StructuredMessage');
    expect(harness.emulator.transcript('limited').map((m) => m.text)).toEqual(['yes', 'yes again']);
  });

  it('expires a session on demand: SessionExpiredEvent, then 4006', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('doomed');
    const response = await postJson(`${harness.emulator.httpUrl}/emulator/faults/expire`, {
      token: 'doomed',
    });
    expect(response.status).toBe(200);
    expect((await client.nextOfClass('SessionExpiredEvent')).body).toEqual({});
    expect((await client.request(textMessage('doomed', 'hello?'), 'string')).code).toBe(4006);
  });

  it('validates fault requests and answers 400 with every problem, 404 for an unknown session', async () => {
    harness = await startHarness();
    const base = `${harness.emulator.httpUrl}/emulator/faults`;
    const negative = await postJson(`${base}/delay`, { ms: -1 });
    expect(negative.status).toBe(400);
    expect(negative.body.error).toMatchObject({
      code: 'invalid_request',
      issues: [expect.stringContaining('ms')],
    });
    expect((await postJson(`${base}/reorder`, { count: 2, extra: true })).status).toBe(400);
    expect((await postJson(`${base}/drop`, { code: 1005 })).status).toBe(400);
    expect((await postJson(`${base}/refuse`, {})).status).toBe(400);
    expect((await postJson(`${base}/reject`, { count: 1, code: 200 })).status).toBe(400);
    const armed = await postJson(`${base}/reject`, { count: 2, code: 4020 });
    expect(armed.body).toMatchObject({ rejectMessagesLeft: 2, rejectMessagesCode: 4020 });
    const unknown = await postJson(`${base}/expire`, { token: 'ghost' });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'session_not_found' } } });
    const state = await postJson(`${base}/reset`, {});
    expect(state.body).toEqual({
      refusingConnectsForMs: 0,
      delayPushesMs: 0,
      reorderPushes: 0,
      duplicatePushesLeft: 0,
      forced429Left: 0,
      forced429RetryAfterSeconds: 1,
      rejectMessagesLeft: 0,
      rejectMessagesCode: 400,
    });
  });
});
