import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReconnectPacer } from '../../../../src/domain/reconnect-pacer.js';
import { GuestSession, type GuestSessionOptions } from '../../../../src/genesys/client/index.js';
import { GenesysError, GenesysRequestError } from '../../../../src/genesys/errors.js';
import { baseOptions, FakeClock, FakeSocket, fakeFetch, flush, MemoryLogger } from './fakes.js';

const T0 = '2026-01-01T00:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

let clock: FakeClock;

beforeEach(() => {
  clock = new FakeClock();
  FakeSocket.reset();
});

afterEach(() => {
  FakeSocket.reset();
});

function session(overrides: Partial<GuestSessionOptions> = {}) {
  const guest = new GuestSession(baseOptions(clock, overrides));
  const events: { name: string; payload: unknown }[] = [];
  for (const name of [
    'state',
    'ready',
    'message',
    'echo',
    'typing',
    'presence',
    'receipt',
    'upload',
    'reconnecting',
    'expired',
    'closed',
    'error',
  ] as const) {
    guest.on(name, (payload) => events.push({ name, payload }));
  }
  const of = (name: string) => events.filter((event) => event.name === name).map((event) => event.payload);
  return { guest, events, of };
}

/** Starts a session and plays Genesys up to ready. */
async function ready(overrides: Partial<GuestSessionOptions> = {}, body: Record<string, unknown> = {}) {
  const s = session(overrides);
  const started = s.guest.start();
  const socket = FakeSocket.last();
  socket.open();
  socket.sessionResponse(body);
  await started;
  return { ...s, socket };
}

describe('GuestSession start', () => {
  it('connects with the deploymentId, configures on open and becomes ready with constraints', async () => {
    const s = session({ origin: 'https://site.example', application: 'guest-relay-0.1.0' });
    const started = s.guest.start();
    const socket = FakeSocket.last();
    expect(socket.url).toBe(
      'wss://webmessaging.example.test/v1?deploymentId=dep-1&application=guest-relay-0.1.0',
    );
    expect(socket.options.origin).toBe('https://site.example');
    // ws' default would be 100 MiB: the cap of src/genesys/client/limits.ts goes with every socket.
    expect(socket.options.maxPayload).toBe(256 * 1024);
    expect(s.guest.state).toBe('connecting');
    socket.open();
    expect(socket.lastSent()).toMatchObject({
      action: 'configureSession',
      token: 'secret-token-abcd',
      deploymentId: 'dep-1',
    });
    socket.sessionResponse({
      maxCustomDataBytes: 1000,
      allowedMedia: { inbound: { fileTypes: [{ type: 'image/png' }], maxFileSizeKB: 100 } },
      durationSeconds: 600,
    });
    const readyEvent = await started;
    expect(readyEvent).toMatchObject({ newSession: true, readOnly: false, resumed: false });
    expect(readyEvent.constraints.maxCustomDataBytes).toBe(1000);
    expect(s.guest.constraints?.attachments.fileTypes).toEqual(['image/png']);
    expect(s.guest.expiresAt).toBe(clock.now() + 600_000);
    expect(s.of('state')).toEqual([
      { from: 'idle', to: 'connecting' },
      { from: 'connecting', to: 'configuring' },
      { from: 'configuring', to: 'ready' },
    ]);
  });

  it('enters readOnly when the SessionResponse says so', async () => {
    const { guest } = await ready({}, { readOnly: true, newSession: false });
    expect(guest.state).toBe('readOnly');
    await expect(guest.send({ text: 'hi' })).rejects.toMatchObject({ code: 'GENESYS_READ_ONLY' });
  });

  it('fails for good when Genesys refuses configureSession', async () => {
    const s = session();
    const started = s.guest.start();
    const socket = FakeSocket.last();
    socket.open();
    socket.receive({ type: 'response', class: 'string', code: 403, body: 'HTTP authorization error' });
    await expect(started).rejects.toMatchObject({ genesysCode: 403 });
    expect(s.guest.state).toBe('closed');
    expect(s.of('closed')).toEqual([{ reason: 'rejected', error: expect.any(GenesysRequestError) }]);
    await flush();
    expect(FakeSocket.instances).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('does not reconnect when the upgrade is refused with HTTP 4xx', async () => {
    const s = session();
    s.guest.start().catch(() => {});
    FakeSocket.last().drop(1006, 'Unexpected server response: 403');
    expect(s.guest.state).toBe('closed');
    expect(s.of('closed')).toEqual([
      { reason: 'rejected', error: expect.objectContaining({ genesysCode: 403 }) },
    ]);
    expect(clock.pending).toBe(0);
  });

  it('reconnects when the upgrade fails with HTTP 5xx', async () => {
    const s = session();
    s.guest.start().catch(() => {});
    FakeSocket.last().drop(1006, 'Unexpected server response: 503');
    expect(s.guest.state).toBe('reconnecting');
    expect(s.of('reconnecting')).toMatchObject([{ cause: 'HTTP 503', reason: 'http', detail: 'HTTP 503' }]);
    clock.advance(250);
    expect(FakeSocket.instances).toHaveLength(2);
    await s.guest.close();
  });

  it('reads what Genesys said when it refuses the upgrade, and ends the attempt itself', async () => {
    const s = session();
    s.guest.start().catch(() => {});
    const socket = FakeSocket.last();
    const response = socket.refuseUpgrade(
      404,
      JSON.stringify({ error: { code: 'Not Found', message: 'Unknown deploymentId "d-1".' } }),
    );
    await flush();
    // With a listener, `ws` leaves the socket connecting: the client terminates it.
    expect(socket.terminated).toBe(true);
    expect(response.destroyed).toBe(true);
    await flush();
    expect(s.guest.state).toBe('closed');
    const [closed] = s.of('closed') as { error?: GenesysError }[];
    expect(closed?.error).toMatchObject({ code: 'GENESYS_REQUEST_REJECTED', genesysCode: 404 });
    expect(closed?.error?.message).toBe('Genesys refused the socket (HTTP 404: Unknown deploymentId "d-1".)');
    expect(clock.pending).toBe(0);
  });

  it('a refused upgrade with a 5xx reconnects, with the words in the detail and the status as the cause', async () => {
    const s = session();
    s.guest.start().catch(() => {});
    FakeSocket.last().refuseUpgrade(503, 'Service Unavailable\n  try later', 'text/plain');
    await flush();
    await flush();
    expect(s.guest.state).toBe('reconnecting');
    expect(s.of('reconnecting')).toMatchObject([
      { cause: 'HTTP 503', reason: 'http', detail: 'HTTP 503: Service Unavailable try later' },
    ]);
    await s.guest.close();
  });

  it('gives up an attempt that does not open in time and tries again', async () => {
    const s = session({ connectTimeoutMs: 1000 });
    s.guest.start().catch(() => {});
    clock.advance(1000);
    expect(FakeSocket.instances[0]?.terminated).toBe(true);
    expect(s.guest.state).toBe('reconnecting');
    expect(s.of('reconnecting')).toEqual([
      { attempt: 0, delayMs: 250, cause: 'connect timeout', reason: 'timeout', detail: 'connect timeout' },
    ]);
    clock.advance(250);
    expect(FakeSocket.instances).toHaveLength(2);
    await s.guest.close();
  });
});

describe('GuestSession send', () => {
  it('resolves with the Inbound echo that carries its tracingId', async () => {
    const { guest, socket, of } = await ready();
    const sent = guest.send({ text: 'Hello', tracingId: 'tr-1' });
    const frame = socket.lastSent('onMessage');
    expect(frame).toMatchObject({
      tracingId: 'tr-1',
      message: { type: 'Text', text: 'Hello', metadata: { id: 'tr-1' } },
    });
    socket.echo(frame, 'g-1', at(0));
    await expect(sent).resolves.toEqual({ tracingId: 'tr-1', genesysId: 'g-1', time: at(0) });
    expect(of('echo')).toMatchObject([{ genesysId: 'g-1', own: true, tracingId: 'tr-1', text: 'Hello' }]);
    expect(guest.queued).toBe(0);
  });

  it('paces sends at 2 per second, one in flight at a time', async () => {
    const { guest, socket } = await ready();
    const results = [1, 2, 3].map((n) => guest.send({ text: `m${n}`, tracingId: `t${n}` }));
    expect(socket.actions().filter((a) => a === 'onMessage')).toHaveLength(1);
    socket.echo(socket.lastSent('onMessage'), 'g1', at(0));
    await flush();
    // Acknowledged, but the bucket holds the next one until 500 ms after the first.
    expect(socket.actions().filter((a) => a === 'onMessage')).toHaveLength(1);
    clock.advance(499);
    expect(socket.actions().filter((a) => a === 'onMessage')).toHaveLength(1);
    clock.advance(1);
    expect(socket.lastSent('onMessage').tracingId).toBe('t2');
    socket.echo(socket.lastSent('onMessage'), 'g2', at(500));
    clock.advance(500);
    expect(socket.lastSent('onMessage').tracingId).toBe('t3');
    socket.echo(socket.lastSent('onMessage'), 'g3', at(1000));
    expect((await Promise.all(results)).map((r) => r.genesysId)).toEqual(['g1', 'g2', 'g3']);
  });

  it('widens each interval by pacingMarginMs', async () => {
    const { guest, socket } = await ready({ pacingMarginMs: 20 });
    const first = guest.send({ text: 'a' });
    socket.echo(socket.lastSent('onMessage'), 'g1', at(0));
    await first;
    const second = guest.send({ text: 'b' });
    clock.advance(519);
    expect(socket.actions().filter((a) => a === 'onMessage')).toHaveLength(1);
    clock.advance(1);
    expect(socket.actions().filter((a) => a === 'onMessage')).toHaveLength(2);
    socket.echo(socket.lastSent('onMessage'), 'g2', at(520));
    await second;
  });

  it('refuses a send past maxQueue at once', async () => {
    const { guest } = await ready({ maxQueue: 2 });
    const kept = [guest.send({ text: 'a' }), guest.send({ text: 'b' })];
    await expect(guest.send({ text: 'c' })).rejects.toMatchObject({ code: 'GENESYS_QUEUE_FULL' });
    await guest.close();
    await Promise.allSettled(kept);
  });

  it('returns the same promise for a tracingId already outstanding', async () => {
    const { guest, socket } = await ready();
    const first = guest.send({ text: 'a', tracingId: 'same' });
    expect(guest.send({ text: 'a', tracingId: 'same' })).toBe(first);
    socket.echo(socket.lastSent('onMessage'), 'g', at(0));
    await first;
    expect(socket.actions().filter((a) => a === 'onMessage')).toHaveLength(1);
  });

  it('rejects with the typed error of a 4011 naming its tracingId', async () => {
    const { guest, socket } = await ready();
    const sent = guest.send({ text: 'x'.repeat(5000), tracingId: 'long' });
    socket.receive({
      type: 'response',
      class: 'string',
      code: 4011,
      body: 'message too long',
      tracingId: 'long',
    });
    const error = await sent.catch((e) => e);
    expect(error).toBeInstanceOf(GenesysRequestError);
    expect(error).toMatchObject({ code: 'GENESYS_REQUEST_REJECTED', genesysCode: 4011 });
  });

  it('gives an error without tracingId to the oldest send in flight', async () => {
    const { guest, socket } = await ready({ maxInFlight: 2 });
    const a = guest.send({ text: 'a', tracingId: 'a' });
    socket.echo(socket.lastSent('onMessage'), 'ga', at(0));
    await a;
    clock.advance(500);
    const b = guest.send({ text: 'b', tracingId: 'b' });
    clock.advance(500);
    const c = guest.send({ text: 'c', tracingId: 'c' });
    clock.advance(500);
    expect(socket.sent.filter((f) => f.action === 'onMessage').map((f) => f.tracingId)).toEqual([
      'a',
      'b',
      'c',
    ]);
    socket.receive({ type: 'response', class: 'string', code: 4013, body: 'too large' });
    await expect(b).rejects.toMatchObject({ genesysCode: 4013 });
    socket.echo(socket.lastSent('onMessage'), 'gc', at(1000));
    await expect(c).resolves.toMatchObject({ genesysId: 'gc' });
  });

  it('after a 429 waits retryAfter and resends the same message first', async () => {
    const { guest, socket } = await ready();
    const a = guest.send({ text: 'a', tracingId: 'a' });
    const b = guest.send({ text: 'b', tracingId: 'b' });
    socket.receive({
      type: 'response',
      class: 'TooManyRequestsErrorMessage',
      code: 429,
      body: { retryAfter: 3, errorCode: 4029, errorMessage: 'Message rate too high for this session' },
    });
    clock.advance(2999);
    expect(socket.sent.filter((f) => f.action === 'onMessage').map((f) => f.tracingId)).toEqual(['a']);
    clock.advance(1);
    expect(socket.sent.filter((f) => f.action === 'onMessage').map((f) => f.tracingId)).toEqual(['a', 'a']);
    expect(socket.sent.filter((f) => f.action === 'onMessage')[1]).toEqual(
      socket.sent.filter((f) => f.action === 'onMessage')[0],
    );
    socket.echo(socket.lastSent('onMessage'), 'ga', at(3000));
    clock.advance(500);
    socket.echo(socket.lastSent('onMessage'), 'gb', at(3500));
    await expect(Promise.all([a, b])).resolves.toMatchObject([{ genesysId: 'ga' }, { genesysId: 'gb' }]);
  });

  it('queues sends before start and while reconnecting', async () => {
    const s = session();
    const early = s.guest.send({ text: 'early', tracingId: 'early' });
    s.guest.start();
    const socket = FakeSocket.last();
    socket.open();
    expect(socket.actions()).toEqual(['configureSession']);
    socket.sessionResponse();
    expect(socket.lastSent().tracingId).toBe('early');
    socket.echo(socket.lastSent(), 'g', at(0));
    await expect(early).resolves.toMatchObject({ genesysId: 'g' });
  });
});

describe('GuestSession typing', () => {
  it('sends at most one notice per interval and absorbs the rest', async () => {
    const { guest, socket } = await ready();
    expect(guest.typing()).toBe(true);
    expect(socket.lastSent()).toMatchObject({
      action: 'onMessage',
      message: { type: 'Event', events: [{ eventType: 'Typing', typing: { type: 'On' } }] },
    });
    expect(guest.typing()).toBe(false);
    clock.advance(4999);
    expect(guest.typing()).toBe(false);
    clock.advance(1);
    expect(guest.typing()).toBe(true);
  });

  it('stays quiet while a message is waiting or in flight', async () => {
    const { guest, socket } = await ready();
    const sent = guest.send({ text: 'a' });
    expect(guest.typing()).toBe(false);
    socket.echo(socket.lastSent('onMessage'), 'g', at(0));
    await sent;
    clock.advance(500);
    expect(guest.typing()).toBe(true);
  });

  it('ignores a 429 about a typing notice but honours its retryAfter', async () => {
    const { guest, socket } = await ready();
    guest.typing();
    const tracingId = socket.lastSent().tracingId;
    socket.receive({
      type: 'response',
      class: 'TooManyRequestsErrorMessage',
      code: 429,
      body: { retryAfter: 2 },
      tracingId,
    });
    const sent = guest.send({ text: 'a', tracingId: 'a' });
    clock.advance(1999);
    expect(socket.sent.filter((f) => f.tracingId === 'a')).toHaveLength(0);
    clock.advance(1);
    expect(socket.sent.filter((f) => f.tracingId === 'a')).toHaveLength(1);
    socket.echo(socket.lastSent(), 'g', at(0));
    await sent;
  });
});

describe('GuestSession custom attributes', () => {
  it('carries pending attributes on the next message only', async () => {
    const { guest, socket } = await ready();
    guest.setCustomAttributes({ page: 'cart' });
    guest.setCustomAttributes({ value: '149.99' });
    const first = guest.send({ text: 'a', customAttributes: { page: 'checkout' } });
    expect(socket.lastSent().message).toMatchObject({
      channel: { metadata: { customAttributes: { page: 'checkout', value: '149.99' } } },
    });
    socket.echo(socket.lastSent(), 'g1', at(0));
    await first;
    clock.advance(500);
    const second = guest.send({ text: 'b' });
    expect((socket.lastSent().message as Record<string, unknown>).channel).toBeUndefined();
    socket.echo(socket.lastSent(), 'g2', at(500));
    await second;
  });

  it('keeps attributes for the next message when the one carrying them is refused', async () => {
    const { guest, socket } = await ready();
    guest.setCustomAttributes({ a: '1' });
    const refused = guest.send({ text: 'x', tracingId: 'x' });
    socket.receive({ type: 'response', class: 'string', code: 4011, body: 'too long', tracingId: 'x' });
    await expect(refused).rejects.toBeInstanceOf(GenesysError);
    clock.advance(500);
    const next = guest.send({ text: 'y' });
    expect(socket.lastSent().message).toMatchObject({
      channel: { metadata: { customAttributes: { a: '1' } } },
    });
    socket.echo(socket.lastSent(), 'g', at(0));
    await next;
  });

  it('flushes attributes on a Presence Join and resolves with its echo', async () => {
    const { guest, socket } = await ready();
    await expect(guest.flushCustomAttributes()).resolves.toBeUndefined();
    guest.setCustomAttributes({ IsAutomatedTest: 'true' });
    const flushed = guest.flushCustomAttributes();
    const frame = socket.lastSent();
    expect(frame).toMatchObject({
      action: 'onMessage',
      message: {
        type: 'Event',
        events: [{ eventType: 'Presence', presence: { type: 'Join' } }],
        channel: { metadata: { customAttributes: { IsAutomatedTest: 'true' } } },
      },
    });
    socket.echo(frame, 'join-1', at(0));
    await expect(flushed).resolves.toMatchObject({ genesysId: 'join-1' });
  });
});

describe('GuestSession pushes', () => {
  it('releases Outbound pushes in channel.time order after the window, once each', async () => {
    const { socket, of } = await ready();
    socket.outbound('b', at(200), 'second');
    socket.outbound('a', at(100), 'first');
    socket.outbound('b', at(200), 'second');
    socket.outbound('c', at(300), 'third', {
      originatingEntity: 'Human',
      channel: { time: at(300), from: { nickname: 'Alex' } },
    });
    clock.advance(299);
    expect(of('message')).toEqual([]);
    clock.advance(1);
    expect(of('message').map((m) => (m as { text: string }).text)).toEqual(['first', 'second', 'third']);
    expect(of('message')[2]).toMatchObject({ author: 'agent', sender: { nickname: 'Alex' }, genesysId: 'c' });
    expect(clock.pending).toBe(1); // the keep-alive only
  });

  it('with a window of 0, emits each push as it arrives, without waiting for a timer', async () => {
    const { socket, of } = await ready({ reorderWindowMs: 0 });
    socket.outbound('a', at(100), 'first');
    expect(of('message').map((m) => (m as { text: string }).text)).toEqual(['first']);
    socket.outbound('a', at(100), 'first');
    socket.outbound('b', at(50), 'second, earlier');
    expect(of('message').map((m) => (m as { text: string }).text)).toEqual(['first', 'second, earlier']);
    expect(clock.pending).toBe(1); // the keep-alive only
  });

  it('emits typing with its duration, presence, and receipts keyed apart from their message', async () => {
    const { socket, of } = await ready();
    socket.receive({
      type: 'message',
      class: 'StructuredMessage',
      code: 200,
      body: {
        id: 'ty',
        type: 'Event',
        direction: 'Outbound',
        originatingEntity: 'Human',
        channel: { time: at(0) },
        events: [{ eventType: 'Typing', typing: { type: 'On', duration: 4000 } }],
      },
    });
    for (const status of ['Delivered', 'Read']) {
      socket.receive({
        type: 'message',
        class: 'StructuredMessage',
        code: 200,
        body: { id: 'g1', type: 'Receipt', status, direction: 'Outbound', channel: { time: at(10) } },
      });
    }
    clock.advance(300);
    expect(of('typing')).toEqual([{ author: 'agent', durationMs: 4000 }]);
    expect(of('receipt')).toEqual([
      { messageId: 'g1', status: 'Delivered' },
      { messageId: 'g1', status: 'Read' },
    ]);
  });

  it('becomes read-only on a Disconnect with metadata.readOnly and refuses sends', async () => {
    const { guest, socket, of } = await ready();
    socket.receive({
      type: 'message',
      class: 'StructuredMessage',
      code: 200,
      body: {
        id: 'd1',
        type: 'Event',
        direction: 'Outbound',
        channel: { time: at(0) },
        events: [{ eventType: 'Presence', presence: { type: 'Disconnect' } }],
        metadata: { readOnly: 'true' },
      },
    });
    clock.advance(300);
    expect(of('presence')).toMatchObject([{ type: 'disconnect', readOnly: true, author: 'system' }]);
    expect(guest.state).toBe('readOnly');
    await expect(guest.send({ text: 'still there?' })).rejects.toMatchObject({ code: 'GENESYS_READ_ONLY' });
  });

  it('starts a new conversation from read-only: closeSession, then configureSession startNew', async () => {
    const { guest, socket } = await ready({}, { readOnly: true, newSession: false });
    const renewed = guest.startNew();
    expect(guest.state).toBe('configuring');
    expect(socket.lastSent()).toMatchObject({ action: 'closeSession', closeAllConnections: true });
    socket.receive({ type: 'message', class: 'ConnectionClosedEvent', code: 200, body: {} });
    socket.sessionResponse({ connected: false, readOnly: true });
    expect(socket.lastSent()).toMatchObject({
      action: 'configureSession',
      startNew: true,
      token: 'secret-token-abcd',
    });
    socket.sessionResponse({ newSession: true, readOnly: false });
    await expect(renewed).resolves.toMatchObject({ newSession: true, readOnly: false, resumed: false });
    expect(guest.state).toBe('ready');
  });

  it('refuses startNew when not read-only', async () => {
    const { guest } = await ready();
    await expect(guest.startNew()).rejects.toMatchObject({ code: 'GENESYS_INVALID_STATE' });
  });
});

describe('GuestSession reconnect', () => {
  it('reconnects after an abnormal close with backoff and resumes with the same token', async () => {
    const { guest, socket, of } = await ready();
    socket.drop(1006);
    expect(guest.state).toBe('reconnecting');
    expect(of('reconnecting')).toEqual([
      { attempt: 0, delayMs: 250, cause: 'close 1006', reason: 'closed', detail: 'close 1006' },
    ]);
    clock.advance(250);
    const second = FakeSocket.last();
    expect(second).not.toBe(socket);
    second.open();
    expect(second.lastSent()).toMatchObject({ action: 'configureSession', token: 'secret-token-abcd' });
    expect(second.lastSent().startNew).toBeUndefined();
    second.sessionResponse({ newSession: false });
    expect(of('ready').at(-1)).toMatchObject({ resumed: true, newSession: false });
    expect(second.lastSent()).toMatchObject({ action: 'getJwt' });
    await guest.close();
  });

  it('waits for the later of its backoff delay and the slot a shared reconnect pacer gives', async () => {
    const asked: number[] = [];
    // A pacer with a crowd ahead: the next free slot is 2 s from now.
    const reconnectPacer = {
      reserve: (now: number) => {
        asked.push(now);
        return now + 2_000;
      },
    };
    const { guest, socket, of } = await ready({ reconnectPacer });
    socket.drop(1006);
    expect(asked).toEqual([clock.now()]);
    expect(of('reconnecting')).toEqual([
      { attempt: 0, delayMs: 2_000, cause: 'close 1006', reason: 'closed', detail: 'close 1006' },
    ]);
    clock.advance(1_999);
    expect(FakeSocket.last()).toBe(socket);
    clock.advance(1);
    expect(FakeSocket.last()).not.toBe(socket);
    await guest.close();
  });

  it('is not held up by another session of the pacer that is in a long backoff', async () => {
    const reconnectPacer = new ReconnectPacer({ ratePerSecond: 10, burst: 1 });
    const a = await ready({ reconnectPacer });
    // a's reconnects keep failing: its backoff grows to 2 s (random 0.5 × 4 s).
    a.socket.drop(1006);
    for (const delay of [250, 500, 1_000]) {
      clock.advance(delay);
      FakeSocket.last().drop(1006);
    }
    expect(a.of('reconnecting').at(-1)).toMatchObject({ delayMs: 2_000 });
    const b = await ready({ reconnectPacer, token: 'other-token-wxyz' });
    b.socket.drop(1006);
    expect(b.of('reconnecting')).toEqual([
      { attempt: 0, delayMs: 250, cause: 'close 1006', reason: 'closed', detail: 'close 1006' },
    ]);
    await a.guest.close();
    await b.guest.close();
  });

  it('reconnects when the server closes normally, since Genesys may close at any time', async () => {
    const { guest, socket } = await ready();
    socket.drop(1000);
    expect(guest.state).toBe('reconnecting');
    await guest.close();
  });

  it('treats a missing pong as a dead socket', async () => {
    const { guest, socket } = await ready();
    clock.advance(15_000);
    expect(socket.pings).toBe(1);
    clock.advance(10_000);
    expect(socket.terminated).toBe(true);
    expect(guest.state).toBe('reconnecting');
    await guest.close();
  });

  it('settles a send whose echo was lost from history instead of sending it again', async () => {
    const fetch = fakeFetch(() => ({
      json: {
        entities: [
          { id: 'agent-2', type: 'Text', text: 'missed', direction: 'Outbound', channel: { time: at(2000) } },
          {
            id: 'g-lost',
            type: 'Text',
            text: 'lost echo',
            direction: 'Inbound',
            channel: { time: at(1500) },
            metadata: { id: 'lost' },
          },
          { id: 'agent-1', type: 'Text', text: 'seen', direction: 'Outbound', channel: { time: at(1000) } },
        ],
        pageCount: 1,
      },
    }));
    const { guest, socket, of } = await ready({ fetch, origin: 'https://site.example' });
    socket.outbound('agent-1', at(1000), 'seen');
    clock.advance(300);
    const lost = guest.send({ text: 'lost echo', tracingId: 'lost' });
    socket.drop(1006);
    clock.advance(250);
    const second = FakeSocket.last();
    second.open();
    second.sessionResponse({ newSession: false });
    // While history is read, pushes wait and the queue is paused.
    second.outbound('agent-3', at(3000), 'live');
    const jwtRequest = second.lastSent('getJwt');
    second.receive({
      type: 'response',
      class: 'JwtResponse',
      code: 200,
      body: { jwt: 'the.jwt', exp: clock.now() / 1000 + 3600 },
      tracingId: jwtRequest.tracingId,
    });
    await expect(lost).resolves.toEqual({
      tracingId: 'lost',
      genesysId: 'g-lost',
      time: at(1500),
      fromHistory: true,
    });
    expect(fetch.calls[0]?.init.headers).toMatchObject({
      Authorization: 'bearer the.jwt',
      Origin: 'https://site.example',
    });
    clock.advance(300);
    expect(of('message').map((m) => (m as { genesysId: string }).genesysId)).toEqual([
      'agent-1',
      'agent-2',
      'agent-3',
    ]);
    expect(of('message')[1]).toMatchObject({ fromHistory: true });
    expect(second.actions().filter((a) => a === 'onMessage')).toHaveLength(0);
    await guest.close();
  });

  it('sends again, with the same tracingId, a send that history does not know', async () => {
    const { guest, socket } = await ready();
    const pending = guest.send({ text: 'again', tracingId: 'again' });
    socket.drop(1011);
    clock.advance(250);
    const second = FakeSocket.last();
    second.open();
    second.sessionResponse({ newSession: false });
    second.receive({
      type: 'response',
      class: 'JwtResponse',
      code: 200,
      body: { jwt: 'j', exp: clock.now() / 1000 + 3600 },
      tracingId: second.lastSent('getJwt').tracingId,
    });
    await flush();
    // History has no trace of it; it goes again once the pacer allows (500 ms after its first dispatch).
    expect(second.lastSent().action).toBe('getJwt');
    clock.advance(250);
    expect(second.lastSent()).toMatchObject({ action: 'onMessage', tracingId: 'again' });
    second.echo(second.lastSent(), 'g', at(0));
    await expect(pending).resolves.toMatchObject({ genesysId: 'g' });
    await guest.close();
  });

  it('resets the backoff only after the connection stayed up for minUptime', async () => {
    const { guest, socket, of } = await ready({ backoff: { baseMs: 1000, minUptimeMs: 5000 } });
    socket.drop(1006);
    clock.advance(500);
    FakeSocket.last().open();
    FakeSocket.last().sessionResponse({ newSession: false });
    FakeSocket.last().drop(1006);
    clock.advance(1000);
    FakeSocket.last().open();
    FakeSocket.last().sessionResponse({ newSession: false });
    clock.advance(5000);
    FakeSocket.last().pong();
    FakeSocket.last().drop(1006);
    expect(of('reconnecting').map((r) => (r as { attempt: number }).attempt)).toEqual([0, 1, 0]);
    await guest.close();
  });
});

describe('GuestSession failure paths', () => {
  it('treats a missing echo as a suspect socket, and gives the send up after three timeouts', async () => {
    const { guest, socket } = await ready({ ackTimeoutMs: 1000 });
    const sent = guest.send({ text: 'into the void', tracingId: 'void' });
    clock.advance(1000);
    expect(socket.terminated).toBe(true);
    expect(guest.state).toBe('reconnecting');
    for (let attempt = 2; attempt <= 3; attempt++) {
      clock.advance(1000);
      const next = FakeSocket.last();
      next.open();
      next.sessionResponse({ newSession: false });
      if (attempt === 2) {
        next.receive({
          type: 'response',
          class: 'JwtResponse',
          code: 200,
          body: { jwt: 'j', exp: clock.now() / 1000 + 3600 },
          tracingId: next.lastSent('getJwt').tracingId,
        });
      } else {
        expect(next.actions()).not.toContain('getJwt'); // the JWT is cached until shortly before exp
      }
      await flush();
      clock.advance(500);
      expect(next.lastSent()).toMatchObject({ action: 'onMessage', tracingId: 'void' });
      clock.advance(1000);
    }
    await expect(sent).rejects.toMatchObject({ code: 'GENESYS_TIMEOUT' });
    await guest.close();
  });

  it('sends unknown sends again when history cannot be read, and says so', async () => {
    const fetch = fakeFetch(() => ({ status: 500 }));
    const { guest, socket, of } = await ready({ fetch });
    const sent = guest.send({ text: 'a', tracingId: 'a' });
    socket.drop(1006);
    clock.advance(250);
    const next = FakeSocket.last();
    next.open();
    next.sessionResponse({ newSession: false });
    next.receive({
      type: 'response',
      class: 'JwtResponse',
      code: 200,
      body: { jwt: 'j', exp: clock.now() / 1000 + 3600 },
      tracingId: next.lastSent('getJwt').tracingId,
    });
    await flush();
    expect(of('error')).toMatchObject([{ error: { code: 'GENESYS_HTTP_ERROR', genesysCode: 500 } }]);
    clock.advance(500);
    expect(next.lastSent()).toMatchObject({ action: 'onMessage', tracingId: 'a' });
    next.echo(next.lastSent(), 'g', at(0));
    await sent;
    await guest.close();
  });

  it('sends maybe-sent messages without a history check when Genesys opens a new session', async () => {
    const fetch = fakeFetch(() => ({ json: { entities: [] } }));
    const s = session({ fetch });
    const sent = s.guest.send({ text: 'a', tracingId: 'a', maybeSent: true });
    s.guest.start();
    const socket = FakeSocket.last();
    socket.open();
    socket.sessionResponse({ newSession: true });
    expect(socket.lastSent()).toMatchObject({ action: 'onMessage', tracingId: 'a' });
    socket.echo(socket.lastSent(), 'g', at(0));
    await expect(sent).resolves.toMatchObject({ genesysId: 'g' });
    expect(fetch.calls).toHaveLength(0);
  });

  it('reports an error frame that matches nothing, and never pins it on another send', async () => {
    const { guest, socket, of } = await ready();
    const sent = guest.send({ text: 'innocent', tracingId: 'innocent' });
    socket.receive({
      type: 'response',
      class: 'string',
      code: 4020,
      body: 'Missing parameter',
      tracingId: 'nobody',
    });
    expect(of('error')).toMatchObject([
      { context: 'error frame for an unknown tracingId', error: { genesysCode: 4020 } },
    ]);
    // Without a tracingId it goes to the one send in flight…
    socket.receive({ type: 'response', class: 'string', code: 4020, body: 'Missing parameter' });
    await expect(sent).rejects.toMatchObject({ genesysCode: 4020 });
    expect(of('error')).toHaveLength(1);
    // …and with nothing in flight it is reported.
    socket.receive({ type: 'response', class: 'string', code: 4020, body: 'Missing parameter' });
    expect(of('error')[1]).toMatchObject({ context: 'unmatched error frame' });
  });

  it('survives a listener that throws', async () => {
    const logger = new MemoryLogger();
    const { guest, socket } = await ready({ logger });
    guest.on('message', () => {
      throw new Error('listener bug');
    });
    socket.outbound('a', at(0), 'one');
    socket.outbound('b', at(1), 'two');
    clock.advance(300);
    expect(logger.lines.filter((line) => line.includes('listener threw'))).toHaveLength(2);
    expect(guest.state).toBe('ready');
  });

  it('does not emit the echo of its own typing notice', async () => {
    const { guest, socket, of } = await ready();
    guest.typing();
    socket.receive({
      type: 'message',
      class: 'StructuredMessage',
      code: 200,
      body: {
        id: 'te',
        type: 'Event',
        direction: 'Inbound',
        events: [{ eventType: 'Typing', typing: { type: 'On' } }],
      },
      tracingId: socket.lastSent().tracingId,
    });
    expect(of('echo')).toEqual([]);
  });

  it('refuses start() once closed', async () => {
    const s = session();
    await s.guest.close();
    await expect(s.guest.start()).rejects.toMatchObject({ code: 'GENESYS_CLOSED' });
    await expect(s.guest.send({ text: 'x' })).rejects.toMatchObject({ code: 'GENESYS_CLOSED' });
    expect(FakeSocket.instances).toHaveLength(0);
  });
});

describe('GuestSession end of life', () => {
  it('close() sends nothing, closes with 1000, rejects what is outstanding and never reconnects', async () => {
    const { guest, socket, of } = await ready();
    guest.send({ text: 'a' }).catch(() => {});
    const queued = guest.send({ text: 'b' });
    const sentBefore = socket.sent.length;
    const closed = guest.close();
    await expect(queued).rejects.toMatchObject({ code: 'GENESYS_CLOSED' });
    await closed;
    expect(socket.sent.length).toBe(sentBefore);
    expect(socket.closedWith).toBe(1000);
    expect(guest.state).toBe('closed');
    expect(of('closed')).toEqual([{ reason: 'closed' }]);
    clock.advance(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('close() while reconnecting cancels the reconnect', async () => {
    const { guest, socket } = await ready();
    socket.drop(1006);
    await guest.close();
    clock.advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('end() sends closeSession, then closes', async () => {
    const { guest, socket } = await ready();
    const ended = guest.end();
    expect(socket.lastSent()).toMatchObject({ action: 'closeSession', closeAllConnections: true });
    expect(socket.closedWith).toBeUndefined();
    socket.sessionResponse({ connected: false });
    await ended;
    expect(socket.closedWith).toBe(1000);
    expect(guest.state).toBe('closed');
    expect(clock.pending).toBe(0);
  });

  it('expires on SessionExpiredEvent without reconnecting', async () => {
    const { guest, socket, of } = await ready();
    const pending = guest.send({ text: 'a' });
    socket.receive({ type: 'response', class: 'SessionExpiredEvent', code: 200, body: {} });
    await expect(pending).rejects.toMatchObject({ code: 'GENESYS_SESSION_EXPIRED' });
    expect(guest.state).toBe('expired');
    expect(of('expired')).toEqual([{}]);
    expect(of('closed')).toEqual([{ reason: 'expired' }]);
    await flush();
    clock.advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('expires on a 4006 answer and on close code 4006', async () => {
    const first = await ready();
    first.socket.receive({ type: 'response', class: 'string', code: 4006, body: 'session has expired' });
    expect(first.guest.state).toBe('expired');
    const second = await ready();
    second.socket.drop(4006);
    expect(second.guest.state).toBe('expired');
  });

  it('closes for good on ConnectionClosedEvent: a session limit, or a sign-in elsewhere', async () => {
    const first = await ready();
    first.socket.receive({ type: 'message', class: 'ConnectionClosedEvent', code: 200, body: {} });
    expect(first.guest.state).toBe('closed');
    expect(first.of('closed')).toMatchObject([{ reason: 'sessionLimit' }]);
    const second = await ready();
    second.socket.receive({
      type: 'message',
      class: 'ConnectionClosedEvent',
      code: 200,
      body: { reason: 'signedIn' },
    });
    expect(second.of('closed')).toMatchObject([{ reason: 'signedIn' }]);
    await flush();
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('releases held pushes before it finishes', async () => {
    const { guest, socket, of } = await ready();
    socket.outbound('a', at(0), 'bye');
    await guest.close();
    expect(of('message')).toMatchObject([{ text: 'bye' }]);
  });

  it('never writes the token to the log', async () => {
    const logger = new MemoryLogger();
    const { guest, socket } = await ready({ logger });
    socket.drop(1006);
    clock.advance(250);
    FakeSocket.last().open();
    FakeSocket.last().receive({ type: 'response', class: 'string', code: 400, body: 'Request failed.' });
    await guest.close();
    expect(logger.lines.length).toBeGreaterThan(3);
    expect(logger.lines.join('\n')).not.toContain('secret-token-abcd');
    expect(logger.lines.join('\n')).toContain('…abcd');
  });
});

describe('GuestSession footprint', () => {
  it('holds one timer per idle ready session and none once closed, for a thousand sessions', async () => {
    const guests = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const guest = new GuestSession(baseOptions(clock, { token: `token-${i}` }));
        const started = guest.start();
        const socket = FakeSocket.last();
        socket.open();
        socket.sessionResponse();
        await started;
        return guest;
      }),
    );
    expect(clock.pending).toBe(1000);
    clock.advance(15_000);
    for (const socket of FakeSocket.instances) socket.pong();
    expect(clock.pending).toBe(1000);
    await Promise.all(guests.map((guest) => guest.close()));
    expect(clock.pending).toBe(0);
    expect(FakeSocket.instances.every((socket) => socket.closedWith === 1000)).toBe(true);
  });
});

describe('GuestSession attachments', () => {
  it('uploads: slot, PUT with every header and Content-Type, then the UploadSuccessEvent', async () => {
    const fetch = fakeFetch(() => ({ status: 200 }));
    const { guest, socket, of } = await ready({ fetch, uploadHosts: ['up.example'] });
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const uploaded = guest.upload({ fileName: 'a.png', fileType: 'image/png', bytes });
    const request = socket.lastSent();
    expect(request).toMatchObject({
      action: 'onAttachment',
      fileName: 'a.png',
      fileType: 'image/png',
      fileSize: 4,
    });
    socket.receive({
      type: 'response',
      class: 'PresignedUrlResponse',
      code: 200,
      body: {
        attachmentId: request.attachmentId,
        url: 'https://up.example/x',
        headers: { 'x-amz-tagging': 'k=v' },
      },
      tracingId: request.tracingId,
    });
    await flush();
    expect(fetch.calls[0]).toMatchObject({
      url: 'https://up.example/x',
      init: { method: 'PUT', headers: { 'x-amz-tagging': 'k=v', 'Content-Type': 'image/png' } },
    });
    socket.receive({
      type: 'message',
      class: 'UploadSuccessEvent',
      code: 200,
      body: { attachmentId: request.attachmentId, downloadUrl: 'https://down.example/x' },
    });
    await expect(uploaded).resolves.toEqual({
      attachmentId: request.attachmentId,
      downloadUrl: 'https://down.example/x',
    });
    expect(of('upload')).toMatchObject([{ status: 'uploaded', attachmentId: request.attachmentId }]);
  });

  it('fails typed on a GenerateUrlError', async () => {
    const { guest, socket } = await ready();
    const slot = guest.requestUploadSlot({
      fileName: 'a.exe',
      fileType: 'application/x-msdownload',
      fileSize: 10,
    });
    const request = socket.lastSent();
    socket.receive({
      type: 'message',
      class: 'GenerateUrlError',
      code: 200,
      body: { attachmentId: request.attachmentId, errorCode: 4001, errorMessage: 'File type invalid' },
    });
    await expect(slot).rejects.toMatchObject({ code: 'GENESYS_UPLOAD_FAILED', genesysCode: 4001 });
  });

  it('fails typed on a string error 4002 without tracingId', async () => {
    const { guest, socket } = await ready();
    const slot = guest.requestUploadSlot({ fileName: 'big.png', fileType: 'image/png', fileSize: 1e9 });
    socket.receive({ type: 'response', class: 'string', code: 4002, body: 'file size invalid' });
    await expect(slot).rejects.toMatchObject({ code: 'GENESYS_UPLOAD_FAILED', genesysCode: 4002 });
  });

  it('remembers an UploadSuccessEvent that comes before awaitUpload', async () => {
    const { guest, socket } = await ready();
    const slotPromise = guest.requestUploadSlot({ fileName: 'a.txt', fileType: 'text/plain', fileSize: 1 });
    const request = socket.lastSent();
    socket.receive({
      type: 'response',
      class: 'PresignedUrlResponse',
      code: 200,
      body: { attachmentId: request.attachmentId, url: 'https://up/x', headers: {} },
      tracingId: request.tracingId,
    });
    const slot = await slotPromise;
    socket.receive({
      type: 'message',
      class: 'UploadSuccessEvent',
      code: 200,
      body: { attachmentId: slot.attachmentId },
    });
    await expect(guest.awaitUpload(slot.attachmentId)).resolves.toEqual({ attachmentId: slot.attachmentId });
  });

  it('gets and deletes attachments', async () => {
    const { guest, socket } = await ready();
    const got = guest.getAttachment('a1');
    socket.receive({
      type: 'response',
      class: 'PresignedUrlResponse',
      code: 200,
      body: { attachmentId: 'a1', url: 'https://down/a1', headers: {}, fileSize: 9 },
      tracingId: socket.lastSent().tracingId,
    });
    await expect(got).resolves.toEqual({ attachmentId: 'a1', url: 'https://down/a1', fileSize: 9 });
    const deleted = guest.deleteAttachment('a1');
    expect(socket.lastSent()).toMatchObject({ action: 'deleteAttachment', attachmentId: 'a1' });
    socket.receive({
      type: 'message',
      class: 'AttachmentDeletedResponse',
      code: 200,
      body: { attachmentId: 'a1' },
    });
    await expect(deleted).resolves.toBeUndefined();
  });

  it('refuses requests while not connected, as retryable', async () => {
    const { guest, socket } = await ready();
    socket.drop(1006);
    await expect(guest.getAttachment('a1')).rejects.toMatchObject({ code: 'GENESYS_CONNECTION_LOST' });
    await guest.close();
  });
});

describe('GuestSession keep-alive echo', () => {
  it('echoes an idle session and refreshes the expiry from the reply', async () => {
    const { guest, socket } = await ready({}, { expirationDate: 1 });
    for (let i = 0; i < 2; i++) {
      clock.advance(15_000);
      socket.pong();
    }
    const echo = socket.lastSent('echo');
    expect(echo).toMatchObject({ message: { type: 'Text', text: 'ping' } });
    socket.receive({
      type: 'response',
      class: 'StructuredMessage',
      code: 200,
      body: {
        id: 'e',
        type: 'Text',
        text: 'ping',
        direction: 'Inbound',
        metadata: { durationSeconds: '600', expirationDate: '1800000000' },
      },
      tracingId: echo.tracingId,
    });
    expect(guest.expiresAt).toBe(1_800_000_000_000);
    await guest.close();
  });
});
