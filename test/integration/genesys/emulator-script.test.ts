import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRIPT,
  ScriptValidationError,
  startGenesysEmulator,
} from '../../../src/genesys/emulator/index.js';
import {
  type Frame,
  type GuestClient,
  type Harness,
  type Json,
  startHarness,
  textMessage,
} from './emulator-harness.js';

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

/** Sends a guest text, lets the bot play out (10 s of emulator time), and returns the Outbound frames it pushed. */
async function say(client: GuestClient, token: string, text: string, payload?: string): Promise<Json[]> {
  const content = payload
    ? { content: [{ contentType: 'ButtonResponse', buttonResponse: { text, payload, type: 'QuickReply' } }] }
    : {};
  client.send(textMessage(token, text, content));
  await client.next((f) => (f.body as Json)?.direction === 'Inbound', 'the echo');
  harness.clock.advance(10_000);
  await client.sync(token);
  return client.drain().map((f: Frame) => f.body as Json);
}

const messages = (bodies: Json[]) => bodies.filter((b) => b.type !== 'Event');
const typingDurations = (bodies: Json[]) =>
  bodies.filter((b) => b.events?.[0]?.eventType === 'Typing').map((b) => b.events[0].typing.duration);

describe('the default script', () => {
  async function start(): Promise<GuestClient> {
    harness = await startHarness({ script: DEFAULT_SCRIPT });
    return (await harness.guest('bot')).client;
  }

  it('greets the first message with typing and the menu as quick replies', async () => {
    const client = await start();
    const bodies = await say(client, 'bot', 'hello');
    expect(typingDurations(bodies)).toEqual([800]);
    const [greeting] = messages(bodies);
    expect(greeting).toMatchObject({ type: 'Structured', originatingEntity: 'Bot', direction: 'Outbound' });
    expect(greeting.content.map((c: Json) => c.quickReply.payload)).toEqual([
      'card',
      'carousel',
      'file',
      'agent',
      'bye',
    ]);
    expect(messages(await say(client, 'bot', 'what?'))[0].text).toMatch(/did not get that/);
  });

  it('greets on Presence Join (autostart) and not again on the first text', async () => {
    const client = await start();
    client.send({
      action: 'onMessage',
      token: 'bot',
      message: { type: 'Event', events: [{ eventType: 'Presence', presence: { type: 'Join' } }] },
    });
    await client.next((f) => (f.body as Json)?.direction === 'Inbound');
    harness.clock.advance(10_000);
    expect((await client.next((f) => (f.body as Json)?.type === 'Structured')).body).toMatchObject({
      text: expect.stringContaining('emulator'),
    });
    const reply = messages(await say(client, 'bot', 'menu'));
    expect(reply).toHaveLength(1);
    expect(reply[0].text).toBe('Here is what I can do:');
  });

  it('answers card, carousel and their buttons', async () => {
    const client = await start();
    await say(client, 'bot', 'hi');
    const [card] = messages(await say(client, 'bot', 'Show a card', 'card'));
    expect(card.text).toBe('Order #1042');
    expect(card.content[0]).toMatchObject({
      contentType: 'Card',
      card: {
        title: 'Order #1042',
        actions: [{ type: 'Postback', payload: 'order-1042' }, { type: 'Link' }],
      },
    });
    expect(messages(await say(client, 'bot', 'Track', 'order-1042'))[0].text).toMatch(/Order #1042/);
    const [carousel] = messages(await say(client, 'bot', 'carousel'));
    expect(carousel.content[0].carousel.cards.map((c: Json) => c.title)).toEqual(['Basic', 'Plus', 'Pro']);
    expect(messages(await say(client, 'bot', 'Choose Plus', 'plan'))[0].text).toMatch(/Good choice/);
  });

  it('sends files the emulator serves', async () => {
    const client = await start();
    await say(client, 'bot', 'hi');
    const files = messages(await say(client, 'bot', 'send me a file please'));
    expect(files.map((m) => m.text)).toEqual(['Here is your invoice.', 'invoice-1042.pdf', 'logo.png']);
    expect(files.map((m) => m.content?.[0]?.attachment?.filename)).toEqual([
      undefined,
      'invoice-1042.pdf',
      'logo.png',
    ]);
    const pdf = await fetch(files[1].content[0].attachment.url);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
  });

  it('hands over to a human agent named Alex after a delay', async () => {
    const client = await start();
    await say(client, 'bot', 'hi');
    const bodies = await say(client, 'bot', 'can I talk to a person?');
    expect(typingDurations(bodies)).toEqual([500, 1200]);
    const [bot, human] = messages(bodies);
    expect(bot).toMatchObject({ originatingEntity: 'Bot' });
    expect(human).toMatchObject({ originatingEntity: 'Human', channel: { from: { nickname: 'Alex' } } });
    expect(Date.parse(human.channel.time) - Date.parse(bot.channel.time)).toBeGreaterThanOrEqual(1500 + 1200);
  });

  it('types slowly on "slow"', async () => {
    const client = await start();
    await say(client, 'bot', 'hi');
    const bodies = await say(client, 'bot', 'slow');
    expect(typingDurations(bodies)).toEqual([3000]);
    const [first, second] = messages(bodies);
    expect(Date.parse(second.channel.time) - Date.parse(first.channel.time)).toBeGreaterThanOrEqual(2000);
  });

  it('sends a string text in every Outbound message of every trigger', async () => {
    const client = await start();
    const triggers: [string, string?][] = [
      ['hello'],
      ['menu'],
      ['Show a card', 'card'],
      ['Track', 'order-1042'],
      ['carousel'],
      ['Choose Pro', 'plan'],
      ['file'],
      ['agent'],
      ['slow'],
      ['what?'],
      ['bye'],
    ];
    const sent: Json[] = [];
    for (const [text, payload] of triggers) sent.push(...messages(await say(client, 'bot', text, payload)));
    const contentTypes = new Set(sent.flatMap((m) => (m.content ?? []).map((c: Json) => c.contentType)));
    expect([...contentTypes].sort()).toEqual(['Attachment', 'Card', 'Carousel', 'QuickReply']);
    const textless = sent.filter((m) => m.direction !== 'Outbound' || typeof m.text !== 'string');
    expect(textless).toEqual([]);
  });

  it('says goodbye and disconnects, leaving the session read-only', async () => {
    const client = await start();
    await say(client, 'bot', 'hi');
    const bodies = await say(client, 'bot', 'bye');
    expect(messages(bodies)[0].text).toMatch(/Goodbye/);
    expect(bodies.at(-1)).toMatchObject({
      events: [{ eventType: 'Presence', presence: { type: 'Disconnect' } }],
      metadata: { readOnly: 'true' },
    });
    expect(harness.emulator.sessions()[0]?.readOnly).toBe(true);
  });
});

describe('custom scripts', () => {
  it('plays the first matching rule, in order, and nothing without a fallback', async () => {
    harness = await startHarness({
      script: {
        name: 'orders',
        rules: [
          { match: { payload: 'yes' }, replies: [{ text: 'Confirmed.' }] },
          {
            match: { contains: 'ORDER', regex: '\\d+' },
            replies: [{ text: 'Checking…' }, { delayMs: 100, text: 'Found it.' }],
          },
        ],
      },
    });
    const { client } = await harness.guest('c');
    expect(messages(await say(client, 'c', 'where is my order?'))).toEqual([]);
    expect(messages(await say(client, 'c', 'order 42')).map((m) => m.text)).toEqual([
      'Checking…',
      'Found it.',
    ]);
    expect(messages(await say(client, 'c', 'Yes', 'yes')).map((m) => m.text)).toEqual(['Confirmed.']);
  });

  it('refuses an invalid script at start, naming every problem', async () => {
    const invalid = {
      name: 'broken',
      rules: [{ match: { regex: '(' }, replies: [] }],
    };
    await expect(startGenesysEmulator({ script: invalid as never })).rejects.toThrow(ScriptValidationError);
    await expect(startGenesysEmulator({ script: invalid as never })).rejects.toThrow(
      /rules\[0\]\.match\.regex/,
    );
  });
});
