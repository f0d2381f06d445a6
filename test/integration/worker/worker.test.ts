import { afterEach, describe, expect, it } from 'vitest';
import { is, type System, startSystem, waitUntil } from './harness.js';

describe('worker: one session end to end', () => {
  let system: System | undefined;
  afterEach(async () => {
    await system?.close();
    system = undefined;
  });

  it('starts the upstream session, sends a guest message, stores and fans out the agent reply', async () => {
    system = await startSystem();
    const worker = await system.spawnWorker('w-one');
    const guest = await system.guest();
    const sessionId = await guest.start();
    const active = await guest.waitFor(is('connect', (e) => e.status === 'active'));
    expect(active.constraints.attachments.enabled).toBe(true);
    guest.send('hello', 'c-1');
    const sent = await guest.waitFor(is('status', (e) => e.status === 'sent'));
    expect(sent.clientMessageId).toBe('c-1');
    const token = await system.tokenOf(sessionId);
    system.emulator.agent.say(token, { from: 'agent', nickname: 'Sam', text: 'Hi there' });
    const reply = await guest.waitFor(is('message', (e) => e.direction === 'agent'));
    expect(reply).toMatchObject({ text: 'Hi there', sequenceId: 2 });
    const transcript = await system.transcript(sessionId);
    expect(transcript.map((e) => [e.seq, e.direction, e.text, e.status])).toEqual([
      [1, 'guest', 'hello', 'sent'],
      [2, 'agent', 'Hi there', 'sent'],
    ]);
    await waitUntil(
      async () => (await worker.health()).sessions.includes(sessionId),
      5_000,
      'health lists it',
    );
    const texts = system.emulator.transcript(token).map((m) => m.text);
    expect(texts).toEqual(['hello', 'Hi there']);
  });

  it('receipts move the guest entry on; typing and presence reach the frontend without being stored', async () => {
    system = await startSystem();
    await system.spawnWorker('w-events');
    const guest = await system.guest();
    const sessionId = await guest.start();
    await guest.waitFor(is('connect', (e) => e.status === 'active'));
    await guest.send('are you there?', 'c-r');
    await guest.waitFor(is('status', (e) => e.clientMessageId === 'c-r' && e.status === 'sent'));
    const token = await system.tokenOf(sessionId);
    const [entry] = await system.transcript(sessionId);
    system.emulator.agent.receipt(token, entry?.genesysId as string, 'Delivered');
    system.emulator.agent.receipt(token, entry?.genesysId as string, 'Read');
    await guest.waitFor(is('readReceipt', (e) => e.sequenceId === 1 && e.status === 'read'));
    expect((await system.transcript(sessionId))[0]?.status).toBe('read');

    system.emulator.agent.typing(token, 3_000);
    const typing = await guest.waitFor(is('typing'));
    expect(typing).toMatchObject({ from: 'agent', state: 'on', durationMs: 3_000 });
    // A bot's typing before its reply is the bot's, not an agent's.
    system.emulator.agent.play(token, [{ typingMs: 400, text: 'A bot answer' }]);
    const botTyping = await guest.waitFor(is('typing', (e) => e.from === 'bot'));
    expect(botTyping).toMatchObject({ state: 'on', durationMs: 400 });
    await guest.waitFor(is('message', (e) => e.text === 'A bot answer' && e.direction === 'bot'));

    system.emulator.agent.disconnect(token, { readOnly: true });
    const presence = await guest.waitFor(is('presence', (e) => e.presence === 'disconnect'));
    expect(presence.readOnly).toBe(true);
    await waitUntil(
      async () => (await system?.relay.deps.sessions.get(sessionId))?.status === 'readOnly',
      5_000,
      'the session is read-only',
    );
    // Only the messages are in the transcript: typing, receipts and presence are not entries.
    expect((await system.transcript(sessionId)).map((e) => e.direction)).toEqual(['guest', 'bot']);
    // A send now is refused by the relay itself.
    guest.frame({ action: 'send', text: 'hello?', clientMessageId: 'c-late' });
    const refused = await guest.waitFor(is('error', (e) => e.clientMessageId === 'c-late'));
    expect(refused.code).toBe('session_read_only');
  });
});
