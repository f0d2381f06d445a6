import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EmulatorError, ScriptValidationError } from '../../../src/genesys/emulator/index.js';
import {
  type Harness,
  httpJson,
  type Json,
  postJson,
  startHarness,
  textMessage,
} from './emulator-harness.js';

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

const sessionUrl = (token: string, rest = '') =>
  `${harness.emulator.httpUrl}/emulator/sessions/${encodeURIComponent(token)}${rest}`;

describe('agent console in code', () => {
  it('says as a human agent with channel.from, and as a bot by default', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('g');
    const human = harness.emulator.agent.say('g', { from: 'agent', nickname: 'Sam', text: 'Hi, Sam here' });
    expect(human).toMatchObject({
      type: 'Text',
      direction: 'Outbound',
      originatingEntity: 'Human',
      channel: { type: 'Private', from: { nickname: 'Sam' } },
    });
    expect(human.id).toMatch(/^[0-9a-f]{32}$/);
    expect((await client.nextOfClass('StructuredMessage')).body).toEqual(human);
    const bot = harness.emulator.agent.say('g', {
      text: 'beep',
      quickReplies: [{ text: 'Yes', payload: 'y' }],
    });
    expect(bot).toMatchObject({
      type: 'Structured',
      originatingEntity: 'Bot',
      content: [{ contentType: 'QuickReply', quickReply: { text: 'Yes', payload: 'y' } }],
    });
    expect(harness.emulator.transcript('g')).toEqual([human, bot]);
  });

  it('sends a file the emulator serves itself when a reply names no url', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('f');
    const message = harness.emulator.agent.say('f', {
      attachment: { filename: 'logo.png', mime: 'image/png', mediaType: 'Image' },
    });
    await client.nextOfClass('StructuredMessage');
    const attachment = message.content?.[0]?.attachment;
    expect(attachment).toMatchObject({ filename: 'logo.png', mime: 'image/png', mediaType: 'Image' });
    const download = await fetch(attachment?.url ?? '');
    expect(download.status).toBe(200);
    expect(
      Buffer.from(await download.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });

  it('shows typing, sends receipts for guest messages, and refuses unknown ones', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('r');
    client.send(textMessage('r', 'hello', { metadata: { id: 'mine-1' } }));
    const echo = (await client.nextOfClass('StructuredMessage')).body as Json;
    harness.emulator.agent.typing('r', 3000);
    expect((await client.nextOfClass('StructuredMessage')).body).toMatchObject({
      type: 'Event',
      direction: 'Outbound',
      events: [{ eventType: 'Typing', typing: { type: 'On', duration: 3000 } }],
    });
    harness.emulator.agent.receipt('r', echo.id, 'Delivered');
    harness.emulator.agent.receipt('r', 'mine-1', 'Read');
    const receipts = [await client.next(), await client.next()].map((f) => f.body as Json);
    expect(receipts).toMatchObject([
      { id: echo.id, type: 'Receipt', status: 'Delivered', direction: 'Outbound' },
      { id: echo.id, type: 'Receipt', status: 'Read', direction: 'Outbound' },
    ]);
    expect(() => harness.emulator.agent.receipt('r', 'nope', 'Read')).toThrow(EmulatorError);
    expect(harness.emulator.transcript('r')).toHaveLength(1);
  });

  it('refuses unknown sessions, invalid replies and messages to a read-only conversation', async () => {
    harness = await startHarness();
    await harness.guest('x');
    const { agent } = harness.emulator;
    expect(() => agent.say('ghost', { text: 'hi' })).toThrow(
      expect.objectContaining({ code: 'session_not_found' }),
    );
    expect(() => agent.say('x', { text: 'hi', colour: 'red' } as never)).toThrow(ScriptValidationError);
    agent.disconnect('x');
    expect(() => agent.say('x', { text: 'after' })).toThrow(
      expect.objectContaining({ code: 'conversation_ended' }),
    );
  });
});

describe('agent console over HTTP', () => {
  it('lists sessions and transcripts, with URL-encoded tokens', async () => {
    harness = await startHarness();
    const token = 'team/a b';
    const { client } = await harness.guest(token);
    await client.request(textMessage(token, 'hi'), 'StructuredMessage');
    const sessions = await httpJson(`${harness.emulator.httpUrl}/emulator/sessions`);
    expect(sessions.body.sessions).toMatchObject([{ token, connectedSockets: 1, messageCount: 1 }]);
    const transcript = await httpJson(sessionUrl(token, '/transcript'));
    expect(transcript.body).toMatchObject({ token, messages: [{ text: 'hi', direction: 'Inbound' }] });
    expect((await httpJson(sessionUrl('ghost', '/transcript'))).status).toBe(404);
  });

  it('posts agent messages now, or played with typing and delay', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('h');
    const now = await postJson(sessionUrl('h', '/messages'), {
      from: 'agent',
      text: 'Your card:',
      card: { title: 'Order', actions: [{ type: 'Link', text: 'Open', url: 'https://example.com/o' }] },
    });
    expect(now.status).toBe(201);
    expect(now.body.message).toMatchObject({ type: 'Structured', originatingEntity: 'Human' });
    expect((await client.nextOfClass('StructuredMessage')).body).toEqual(now.body.message);

    const later = await postJson(sessionUrl('h', '/messages'), {
      typingMs: 1500,
      delayMs: 500,
      text: 'thought about it',
    });
    expect(later).toMatchObject({ status: 202, body: { queued: true } });
    harness.clock.advance(500);
    expect((await client.next()).body).toMatchObject({ events: [{ typing: { duration: 1500 } }] });
    harness.clock.advance(1500);
    expect((await client.next()).body).toMatchObject({ text: 'thought about it' });
  });

  it('posts typing, receipts and disconnects, validating every body', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('p');
    const echo = (await client.request(textMessage('p', 'hello'), 'StructuredMessage')).body as Json;
    expect((await postJson(sessionUrl('p', '/typing'), {})).status).toBe(200);
    expect((await client.next()).body).toMatchObject({ events: [{ typing: { duration: 5000 } }] });
    expect(
      (await postJson(sessionUrl('p', '/receipts'), { messageId: echo.id, status: 'Read' })).status,
    ).toBe(200);
    expect((await client.next()).body).toMatchObject({ type: 'Receipt', id: echo.id, status: 'Read' });
    const bad = await postJson(sessionUrl('p', '/receipts'), { messageId: echo.id, status: 'Seen' });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    const badReply = await postJson(sessionUrl('p', '/messages'), { text: 'x', card: { actions: [] } });
    expect(badReply.body.error.issues).toEqual(
      expect.arrayContaining([expect.stringContaining('card.title')]),
    );
    expect((await postJson(sessionUrl('p', '/disconnect'), { readOnly: false })).status).toBe(200);
    const disconnect = (await client.next()).body as Json;
    expect(disconnect.events).toEqual([{ eventType: 'Presence', presence: { type: 'Disconnect' } }]);
    expect(disconnect.metadata.readOnly).toBeUndefined();
    expect(harness.emulator.sessions()[0]?.readOnly).toBe(false);
    const notJson = await httpJson(sessionUrl('p', '/typing'), { method: 'POST', body: '{nope' });
    expect(notJson).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    expect((await httpJson(sessionUrl('p', '/typing'))).status).toBe(405);
  });

  it('streams every session event on /emulator/console', async () => {
    harness = await startHarness();
    const consoleWs = new WebSocket(`${harness.emulator.httpUrl.replace('http', 'ws')}/emulator/console`);
    const events: Json[] = [];
    const waiters: (() => void)[] = [];
    consoleWs.on('message', (data) => {
      events.push(JSON.parse(data.toString()));
      for (const wake of waiters.splice(0)) wake();
    });
    const until = async (predicate: (e: Json) => boolean) => {
      const deadline = Date.now() + 2000;
      while (!events.some(predicate)) {
        if (Date.now() > deadline) throw new Error(`no such console event in ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return events.find(predicate);
    };
    expect(await until((e) => e.type === 'hello')).toMatchObject({
      deploymentId: harness.emulator.deploymentId,
      sessions: [],
    });
    const { client } = await harness.guest('live');
    client.send(textMessage('live', 'watch me'));
    expect(await until((e) => e.type === 'fromGuest' && e.request.action === 'onMessage')).toMatchObject({
      token: 'live',
      request: { message: { text: 'watch me' } },
    });
    expect(await until((e) => e.type === 'toGuest' && e.frame.body?.text === 'watch me')).toMatchObject({
      token: 'live',
    });
    expect(await until((e) => e.type === 'session' && e.session.messageCount === 1)).toMatchObject({
      session: { token: 'live' },
    });
    consoleWs.close();
  });
});
