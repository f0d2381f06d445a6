import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/domain/clock.js';
import type { BotBehaviour, BotScript } from '../../../src/genesys/emulator/index.js';
import {
  type Frame,
  type GuestClient,
  type Harness,
  type Json,
  startHarness,
  textMessage,
} from './emulator-harness.js';

/** One rule, no delays and no typing: whatever the guest sees late is the bot's response time. */
const PONG: BotScript = {
  name: 'pong',
  greeting: [{ text: 'hello' }],
  rules: [{ match: { regex: '.' }, replies: [{ text: 'pong' }, { text: 'pong again' }] }],
};

const isBotMessage = (frame: Frame): boolean => {
  const body = frame.body as Json;
  return body?.direction === 'Outbound' && body.type !== 'Event';
};

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

async function start(bot: BotBehaviour, realClock = false): Promise<GuestClient> {
  harness = await startHarness({
    script: PONG,
    bot,
    limits: { messagesPerSecond: Number.POSITIVE_INFINITY },
    ...(realClock ? { clock: systemClock } : {}),
  });
  return (await harness.guest('t')).client;
}

/** Sends a guest text and waits for its echo (the emulator has stored it and decided the bot's turn). */
async function say(client: GuestClient, text: string): Promise<void> {
  client.send(textMessage('t', text));
  await client.next((f) => (f.body as Json)?.direction === 'Inbound' && (f.body as Json).text === text);
}

describe('the emulator bot with a response time and an error rate', () => {
  it('answers a guest message no sooner than a fixed 150 ms (system clock)', async () => {
    const client = await start({ responseTime: { kind: 'fixed', ms: 150 } }, true);
    const sent = performance.now();
    client.send(textMessage('t', 'ping'));
    const reply = await client.next(isBotMessage, 'the bot reply');
    const elapsed = performance.now() - sent;
    // Node's timers count whole milliseconds from the start of the loop turn: allow that 1 ms.
    expect(elapsed).toBeGreaterThanOrEqual(149);
    expect((reply.body as Json).text).toBe('hello');
    expect(harness.emulator.botStats()).toEqual({ answered: 1, dropped: 0 });
  });

  it('holds the first reply exactly the response time, then plays the rest as written', async () => {
    const client = await start({ responseTime: { kind: 'fixed', ms: 150 } });
    await say(client, 'first');
    harness.clock.advance(149);
    await client.expectNothing('t', isBotMessage);
    harness.clock.advance(1);
    const texts = async (): Promise<string[]> => {
      await client.sync('t');
      return client
        .drain()
        .filter(isBotMessage)
        .map((f) => (f.body as Json).text);
    };
    expect(await texts()).toEqual(['hello', 'pong', 'pong again']);
    await say(client, 'second');
    harness.clock.advance(150);
    expect(await texts()).toEqual(['pong', 'pong again']);
  });

  it('leaves a message unanswered with errorRate 1, and counts it', async () => {
    const client = await start({ errorRate: 1, responseTime: { kind: 'fixed', ms: 10 } });
    await say(client, 'anyone there?');
    harness.clock.advance(1000);
    await client.expectNothing('t', isBotMessage);
    expect(harness.emulator.botStats()).toEqual({ answered: 0, dropped: 1 });
  });

  it('still greets on Presence Join with errorRate 1', async () => {
    const client = await start({ errorRate: 1, responseTime: { kind: 'fixed', ms: 5000 } });
    client.send({
      action: 'onMessage',
      token: 't',
      message: { type: 'Event', events: [{ eventType: 'Presence', presence: { type: 'Join' } }] },
    });
    expect(((await client.next(isBotMessage, 'the greeting')).body as Json).text).toBe('hello');
    expect(harness.emulator.botStats()).toEqual({ answered: 0, dropped: 0 });
  });

  it('answers every message with errorRate 0', async () => {
    const client = await start({ errorRate: 0, responseTime: { kind: 'uniform', minMs: 0, maxMs: 50 } });
    for (let i = 1; i <= 20; i += 1) await say(client, `message ${i}`);
    harness.clock.advance(20 * 50);
    await client.sync('t');
    const texts = client
      .drain()
      .filter(isBotMessage)
      .map((f) => (f.body as Json).text);
    expect(texts.filter((t: string) => t === 'pong')).toHaveLength(20);
    expect(harness.emulator.botStats()).toEqual({ answered: 20, dropped: 0 });
  });

  it('reports its bot behaviour and counters at GET /emulator', async () => {
    await start({ errorRate: 1, seed: 9 });
    const body = (await (await fetch(`${harness.emulator.httpUrl}/emulator`)).json()) as Json;
    expect(body.bot).toEqual({ responseTime: null, errorRate: 1, seed: 9, answered: 0, dropped: 0 });
  });
});
