/**
 * Failover on the real emulator (127.0.0.1, port 0) with the real `ws` and the global fetch: a new
 * GuestSession that takes a session over with `resumeFrom` gets what the agent said while nobody held
 * the socket, from the REST history.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { systemClock } from '../../../src/domain/clock.js';
import {
  GuestSession,
  type GuestSessionOptions,
  genesysEndpoint,
  type MessageEvent,
} from '../../../src/genesys/client/index.js';
import { type GenesysEmulator, startGenesysEmulator } from '../../../src/genesys/emulator/index.js';

let emulator: GenesysEmulator;
const guests: GuestSession[] = [];

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const waitFor = (predicate: () => boolean, timeout = 10_000) =>
  vi.waitFor(
    () => {
      if (!predicate()) throw new Error('not yet');
    },
    { timeout, interval: 10 },
  );

function guestOn(overrides: Partial<GuestSessionOptions> = {}) {
  const guest = new GuestSession({
    deploymentId: emulator.deploymentId,
    endpoint: genesysEndpoint({ wsUrl: emulator.wsUrl, apiUrl: emulator.httpUrl }),
    WebSocket,
    fetch: globalThis.fetch,
    clock: systemClock,
    backoff: { baseMs: 50, capMs: 200, minUptimeMs: 1000 },
    ...overrides,
  });
  guests.push(guest);
  const messages: MessageEvent[] = [];
  const errors: unknown[] = [];
  guest.on('message', (message) => messages.push(message));
  guest.on('error', (error) => errors.push(error));
  return { guest, messages, errors };
}

beforeEach(async () => {
  emulator = await startGenesysEmulator({ script: null });
});

afterEach(async () => {
  await Promise.all(guests.splice(0).map((guest) => guest.close()));
  await emulator.close();
});

describe('guest session client failover with resumeFrom', () => {
  it('a new owner gets what the agent said while nobody held the session, once each, in order', async () => {
    const first = guestOn();
    await first.guest.start();
    const token = first.guest.token;
    await first.guest.close();
    await waitFor(() => emulator.sessions()[0]?.connectedSockets === 0);
    const closedAt = Date.now();

    const said = [
      emulator.agent.say(token, { from: 'agent', text: 'are you still there?' }),
      emulator.agent.say(token, { from: 'agent', text: 'I found your order' }),
    ];

    const second = guestOn({ token, resumeFrom: closedAt });
    const ready = await second.guest.start();
    expect(ready).toMatchObject({ newSession: false, resumed: false });
    await waitFor(() => second.messages.length === 2);
    await delay(400); // a duplicate would come out of the reorder window by now

    expect(second.messages.map((m) => m.text)).toEqual(['are you still there?', 'I found your order']);
    expect(second.messages.map((m) => m.genesysId)).toEqual(said.map((m) => m.id));
    for (const message of second.messages) expect(message).toMatchObject({ fromHistory: true });
    expect(second.messages.some((m) => m.late)).toBe(false);
    expect(second.errors).toEqual([]);
    expect(first.messages).toEqual([]);
    expect(emulator.sessions().map((s) => s.token)).toEqual([token]);
  });
});
