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
});
