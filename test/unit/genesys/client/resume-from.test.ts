/**
 * `resumeFrom`: a new GuestSession that takes a session over (failover) backfills the history on its
 * first SessionResponse with `newSession:false`, from `resumeFrom` minus the backfill slack (10 s).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GuestSession,
  type GuestSessionOptions,
  type MessageEvent,
} from '../../../../src/genesys/client/index.js';
import { resolveOptions } from '../../../../src/genesys/client/options.js';
import { GenesysError } from '../../../../src/genesys/errors.js';
import { baseOptions, FakeClock, FakeSocket, type FetchCall, fakeFetch, flush } from './fakes.js';

/** When the previous owner let go of the session (epoch ms, Genesys time). */
const RESUME_FROM = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(RESUME_FROM + ms).toISOString();

let clock: FakeClock;

beforeEach(() => {
  clock = new FakeClock();
  FakeSocket.reset();
});

afterEach(() => {
  FakeSocket.reset();
});

const agent = (id: string, ms: number, text = id) => ({
  id,
  type: 'Text',
  text,
  direction: 'Outbound',
  originatingEntity: 'Human',
  channel: { time: at(ms) },
});

/** A fetch serving one page of history, given oldest first (Genesys sends it newest first). */
function historyFetch(oldestFirst: object[]) {
  return fakeFetch((_call: FetchCall) => ({ json: { entities: [...oldestFirst].reverse(), pageCount: 1 } }));
}

function session(overrides: Partial<GuestSessionOptions> = {}) {
  const guest = new GuestSession(baseOptions(clock, overrides));
  const messages: MessageEvent[] = [];
  const errors: unknown[] = [];
  guest.on('message', (message) => messages.push(message));
  guest.on('error', (error) => errors.push(error));
  return { guest, messages, errors };
}

/** Starts the session and answers configureSession with the given SessionResponse body. */
async function connect(s: ReturnType<typeof session>, body: Record<string, unknown>) {
  const started = s.guest.start();
  const socket = FakeSocket.last();
  socket.open();
  socket.sessionResponse(body);
  const ready = await started;
  return { socket, ready };
}

function answerJwt(socket: FakeSocket): void {
  socket.receive({
    type: 'response',
    class: 'JwtResponse',
    code: 200,
    body: { jwt: 'the.jwt', exp: clock.now() / 1000 + 3600 },
    tracingId: socket.lastSent('getJwt').tracingId,
  });
}

const ids = (messages: readonly MessageEvent[]) => messages.map((m) => m.genesysId);

describe('resumeFrom option', () => {
  const expectInvalid = (options: GuestSessionOptions) => {
    try {
      resolveOptions(options);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GenesysError);
      expect(error).toMatchObject({ code: 'GENESYS_CONFIG_INVALID' });
      expect((error as Error).message).toContain('"resumeFrom"');
    }
  };

  it('is kept when valid, and absent by default', () => {
    expect(resolveOptions(baseOptions(clock, { resumeFrom: RESUME_FROM })).resumeFrom).toBe(RESUME_FROM);
    expect(resolveOptions(baseOptions(clock, { resumeFrom: 0 })).resumeFrom).toBe(0);
    expect(resolveOptions(baseOptions(clock)).resumeFrom).toBeUndefined();
  });

  it('is refused without a token', () => {
    const { token: _, ...options } = baseOptions(clock);
    expectInvalid({ ...options, resumeFrom: RESUME_FROM });
    expect(() => new GuestSession({ ...options, resumeFrom: RESUME_FROM })).toThrow(/"resumeFrom"/);
  });

  it('is refused when negative, NaN, infinite or not a number', () => {
    expectInvalid(baseOptions(clock, { resumeFrom: -1 }));
    expectInvalid(baseOptions(clock, { resumeFrom: Number.NaN }));
    expectInvalid(baseOptions(clock, { resumeFrom: Number.POSITIVE_INFINITY }));
    expectInvalid(baseOptions(clock, { resumeFrom: '1700000000000' as never }));
  });
});

describe('resumeFrom backfill', () => {
  it('backfills the history on the first connect when Genesys resumes the session', async () => {
    const fetch = historyFetch([agent('a-1', 2_000, 'first'), agent('a-2', 4_000, 'second')]);
    const s = session({ fetch, resumeFrom: RESUME_FROM });
    const { socket, ready } = await connect(s, { newSession: false });
    // A takeover is not a reconnect of this instance.
    expect(ready).toMatchObject({ newSession: false, resumed: false });
    expect(socket.lastSent()).toMatchObject({ action: 'getJwt' });
    answerJwt(socket);
    await flush();
    expect(fetch.calls).toHaveLength(1);
    expect(fetch.calls[0]?.url).toContain('pageNumber=1');
    expect(fetch.calls[0]?.init.headers).toMatchObject({ Authorization: 'bearer the.jwt' });
    clock.advance(300);
    expect(ids(s.messages)).toEqual(['a-1', 'a-2']);
    expect(s.messages.map((m) => m.text)).toEqual(['first', 'second']);
    for (const message of s.messages) expect(message).toMatchObject({ fromHistory: true });
    expect(s.errors).toEqual([]);
    await s.guest.close();
  });

  it('reads nothing without resumeFrom', async () => {
    const fetch = historyFetch([agent('a-1', 2_000)]);
    const s = session({ fetch });
    const { socket } = await connect(s, { newSession: false });
    await flush();
    clock.advance(300);
    expect(socket.actions()).toEqual(['configureSession']);
    expect(fetch.calls).toHaveLength(0);
    expect(s.messages).toEqual([]);
    await s.guest.close();
  });

  it('reads nothing when Genesys opens a new session', async () => {
    const fetch = historyFetch([agent('a-1', 2_000)]);
    const s = session({ fetch, resumeFrom: RESUME_FROM });
    const { socket, ready } = await connect(s, { newSession: true });
    expect(ready).toMatchObject({ newSession: true });
    await flush();
    clock.advance(300);
    expect(socket.actions()).toEqual(['configureSession']);
    expect(fetch.calls).toHaveLength(0);
    expect(s.messages).toEqual([]);
    await s.guest.close();
  });

  it('leaves out messages older than resumeFrom minus the 10 s slack', async () => {
    const fetch = historyFetch([
      agent('old', -60_000),
      agent('just-old', -10_001),
      agent('in-slack', -9_000),
      agent('after', 1_000),
    ]);
    const s = session({ fetch, resumeFrom: RESUME_FROM });
    const { socket } = await connect(s, { newSession: false });
    answerJwt(socket);
    await flush();
    clock.advance(300);
    expect(ids(s.messages)).toEqual(['in-slack', 'after']);
    await s.guest.close();
  });

  it('emits once a message pushed live that the history holds too, in order with the rest', async () => {
    const fetch = historyFetch([agent('a-1', 1_000), agent('a-2', 2_000), agent('a-3', 3_000)]);
    const s = session({ fetch, resumeFrom: RESUME_FROM });
    const { socket } = await connect(s, { newSession: false });
    // Pushed live while history is read: the window holds it until the backfill is in.
    socket.outbound('a-2', at(2_000), 'a-2');
    socket.outbound('a-4', at(4_000), 'a-4');
    answerJwt(socket);
    await flush();
    clock.advance(300);
    // And pushed again (a duplicate push) after it came out.
    socket.outbound('a-2', at(2_000), 'a-2');
    clock.advance(300);
    expect(ids(s.messages)).toEqual(['a-1', 'a-2', 'a-3', 'a-4']);
    expect(s.messages.map((m) => m.fromHistory === true)).toEqual([true, false, true, false]);
    await s.guest.close();
  });

  it('settles a maybe-sent message from the same history read', async () => {
    const fetch = historyFetch([
      {
        id: 'g-sent',
        type: 'Text',
        text: 'sent by the old owner',
        direction: 'Inbound',
        channel: { time: at(500) },
        metadata: { id: 'entry-1' },
      },
      agent('a-1', 1_000),
    ]);
    const s = session({ fetch, resumeFrom: RESUME_FROM });
    const sent = s.guest.send({ text: 'sent by the old owner', tracingId: 'entry-1', maybeSent: true });
    const { socket } = await connect(s, { newSession: false });
    answerJwt(socket);
    await expect(sent).resolves.toEqual({
      tracingId: 'entry-1',
      genesysId: 'g-sent',
      time: at(500),
      fromHistory: true,
    });
    expect(fetch.calls).toHaveLength(1);
    clock.advance(300);
    expect(ids(s.messages)).toEqual(['a-1']);
    expect(socket.actions().filter((action) => action === 'onMessage')).toHaveLength(0);
    await s.guest.close();
  });

  it('backfills later reconnects as before, from the newest push seen', async () => {
    let page: object[] = [agent('a-1', 1_000)];
    const fetch = fakeFetch(() => ({ json: { entities: [...page].reverse(), pageCount: 1 } }));
    const s = session({ fetch, resumeFrom: RESUME_FROM });
    const { socket } = await connect(s, { newSession: false });
    answerJwt(socket);
    await flush();
    socket.outbound('a-2', at(60_000), 'live');
    clock.advance(300);
    expect(ids(s.messages)).toEqual(['a-1', 'a-2']);

    page = [agent('a-1', 1_000), agent('a-2', 60_000), agent('a-3', 61_000)];
    socket.drop(1006);
    clock.advance(250);
    const second = FakeSocket.last();
    second.open();
    second.sessionResponse({ newSession: false });
    // The JWT is cached: history is read at once.
    await flush();
    expect(fetch.calls).toHaveLength(2);
    clock.advance(300);
    // a-1 is older than the new horizon (a-2 minus 10 s); a-2 was emitted already.
    expect(ids(s.messages)).toEqual(['a-1', 'a-2', 'a-3']);
    expect(s.messages[2]).toMatchObject({ fromHistory: true });
    await s.guest.close();
  });
});
