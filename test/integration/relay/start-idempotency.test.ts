import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Relay, startRelay } from './harness.js';

let relay: Relay;

beforeEach(async () => {
  relay = await startRelay();
});

afterEach(async () => {
  await relay.close();
});

async function sessionItems(): Promise<Record<string, unknown>[]> {
  const snapshot = await relay.snapshot();
  return (snapshot.sessions as Record<string, unknown>[]).filter((item) => item.sk === 'session');
}

describe('connect (start) with a clientMessageId', () => {
  it('gives a retried start the session the first attempt made, and creates only one', async () => {
    const first = await relay.client({ team: 'team-a' });
    const started = await first.start({ clientMessageId: 'start-1' });
    const sent = await first.request({ action: 'send', text: 'hello' });
    expect(sent).toMatchObject({ type: 'message', sequenceId: 1 });

    // The frontend lost the answer and retries on a new connection.
    const retry = await relay.client({ team: 'team-a' });
    const again = await retry.start({ clientMessageId: 'start-1' });
    expect(again).toMatchObject({
      type: 'connect',
      sessionId: started.sessionId,
      resumed: false,
      lastSequenceId: 1,
    });
    expect(await sessionItems()).toHaveLength(1);

    // The retried connection is attached to that session.
    const history = await retry.request({ action: 'history' });
    expect(history).toMatchObject({ type: 'history', sessionId: started.sessionId });
  });

  it('keeps teams apart: the same clientMessageId in another team starts another session', async () => {
    const a = await (await relay.client({ team: 'team-a' })).start({ clientMessageId: 'same' });
    const b = await (await relay.client({ team: 'team-b' })).start({ clientMessageId: 'same' });
    expect(b.sessionId).not.toBe(a.sessionId);
    expect(await sessionItems()).toHaveLength(2);
  });

  it('starts a new session each time without a clientMessageId', async () => {
    const guest = await relay.client({ team: 'team-a' });
    const one = await guest.start();
    const two = await guest.start();
    expect(two.sessionId).not.toBe(one.sessionId);
  });
});
