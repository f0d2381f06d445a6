/**
 * Acceptance tests of the guest session client against the real Genesys emulator on 127.0.0.1 (port 0),
 * with the real `ws` and the global fetch. Pacing is real time: a fake clock cannot pace a real server.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { systemClock } from '../../../src/domain/clock.js';
import {
  GuestSession,
  type GuestSessionEvents,
  type GuestSessionOptions,
  genesysEndpoint,
  type MessageEvent,
} from '../../../src/genesys/client/index.js';
import { type GenesysEmulator, startGenesysEmulator } from '../../../src/genesys/emulator/index.js';
import type { StructuredMessage } from '../../../src/genesys/responses.js';
import type { Log } from '../../../src/logging/log.js';

let emulator: GenesysEmulator;
let logLines: string[];
const guests: GuestSession[] = [];

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const waitFor = (predicate: () => boolean, timeout = 10_000) =>
  vi.waitFor(
    () => {
      if (!predicate()) throw new Error('not yet');
    },
    { timeout, interval: 10 },
  );

const logger: Log = {
  debug: (message, fields) => logLines.push(`debug ${message} ${JSON.stringify(fields)}`),
  info: (message, fields) => logLines.push(`info ${message} ${JSON.stringify(fields)}`),
  warn: (message, fields) => logLines.push(`warn ${message} ${JSON.stringify(fields)}`),
  error: (message, fields) => logLines.push(`error ${message} ${JSON.stringify(fields)}`),
};

/** A guest on the emulator, with every event recorded and every socket it opens counted. */
function guestOn(target: GenesysEmulator, overrides: Partial<GuestSessionOptions> = {}) {
  const sockets: string[] = [];
  class CountingWebSocket extends WebSocket {
    constructor(url: string, options: { headers: Record<string, string>; origin?: string }) {
      super(url, options);
      sockets.push(url);
    }
  }
  const guest = new GuestSession({
    deploymentId: target.deploymentId,
    endpoint: genesysEndpoint({ wsUrl: target.wsUrl, apiUrl: target.httpUrl }),
    WebSocket: CountingWebSocket,
    fetch: globalThis.fetch,
    clock: systemClock,
    logger,
    backoff: { baseMs: 50, capMs: 200, minUptimeMs: 1000 },
    ...overrides,
  });
  guests.push(guest);
  const events: { [K in keyof GuestSessionEvents]?: GuestSessionEvents[K][] } = {};
  const record = <K extends keyof GuestSessionEvents>(name: K) =>
    guest.on(name, (payload) => {
      const list = (events[name] ?? []) as GuestSessionEvents[K][];
      list.push(payload);
      events[name] = list as never;
    });
  for (const name of [
    'ready',
    'message',
    'echo',
    'presence',
    'upload',
    'expired',
    'closed',
    'error',
  ] as const) {
    record(name);
  }
  const messages = (): MessageEvent[] => events.message ?? [];
  return { guest, sockets, events, messages };
}

const inbound = (token: string): StructuredMessage[] =>
  emulator.transcript(token).filter((m) => m.direction === 'Inbound' && m.type === 'Text');
const outbound = (token: string): StructuredMessage[] =>
  emulator.transcript(token).filter((m) => m.direction === 'Outbound' && m.type !== 'Event');
const rateLimits = () => logLines.filter((line) => line.includes('genesys rate limit')).length;

beforeEach(async () => {
  logLines = [];
  emulator = await startGenesysEmulator({ script: null });
});

afterEach(async () => {
  const tokens = guests.map((guest) => guest.token);
  await Promise.all(guests.splice(0).map((guest) => guest.close()));
  await emulator.close();
  for (const token of tokens) expect(logLines.join('\n')).not.toContain(token);
});

describe('guest session client on the emulator', () => {
  it('delivers 50 queued messages complete, in order, at most 2 per second, each acknowledged once', async () => {
    const { guest, events } = guestOn(emulator);
    await guest.start();
    const texts = Array.from({ length: 50 }, (_, i) => `message ${i}`);
    const results = await Promise.all(texts.map((text) => guest.send({ text })));

    const stored = inbound(guest.token);
    expect(stored.map((m) => m.text)).toEqual(texts);
    expect(results.map((r) => r.genesysId)).toEqual(stored.map((m) => m.id));
    expect(new Set(results.map((r) => r.tracingId)).size).toBe(50);
    expect(stored.map((m) => m.metadata?.id)).toEqual(results.map((r) => r.tracingId));
    const times = stored.map((m) => Date.parse(m.channel?.time ?? ''));
    for (let i = 2; i < times.length; i++) {
      // No three in any one-second window: the 1st and the 3rd of any three are >= 1 s apart.
      expect((times[i] ?? 0) - (times[i - 2] ?? 0)).toBeGreaterThanOrEqual(1000);
    }
    const ownEchoes = (events.echo ?? []).filter((echo) => echo.own);
    expect(ownEchoes.map((echo) => echo.genesysId)).toEqual(stored.map((m) => m.id));
    expect(rateLimits()).toBe(0);
  }, 60_000);

  it('resends every message refused with 429 after retryAfter: none lost, none duplicated', async () => {
    const { guest } = guestOn(emulator);
    await guest.start();
    emulator.faults.force429(3, 1);
    const started = Date.now();
    const texts = ['one', 'two', 'three', 'four'];
    const results = await Promise.all(texts.map((text) => guest.send({ text })));
    expect(rateLimits()).toBe(3);
    // Three refusals of one second each before the first could go.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    const stored = inbound(guest.token);
    expect(stored.map((m) => m.text)).toEqual(texts);
    expect(results.map((r) => r.genesysId)).toEqual(stored.map((m) => m.id));
  }, 20_000);

  it('reconnects with the same token after dropped sockets; missed agent messages arrive once, in order', async () => {
    const { guest, sockets, events, messages } = guestOn(emulator);
    await guest.start();
    const token = guest.token;
    await guest.send({ text: 'before' });
    emulator.agent.say(token, { from: 'agent', text: 'hello' });
    await waitFor(() => messages().length === 1);

    const expectedGuest = ['before'];
    for (let round = 1; round <= 3; round++) {
      // Let the pacer allow a send now, so that it is on the wire when the socket goes.
      await delay(600);
      emulator.faults.refuseConnects(300);
      const inFlight = guest.send({ text: `in flight ${round}` });
      emulator.faults.dropSockets(token);
      emulator.agent.say(token, { from: 'agent', text: `missed ${round}a` });
      emulator.agent.say(token, { from: 'bot', text: `missed ${round}b` });
      const queued = guest.send({ text: `queued ${round}` });
      expectedGuest.push(`in flight ${round}`, `queued ${round}`);
      await Promise.all([inFlight, queued]);
      await waitFor(() => messages().length === 1 + 3 * round - 1);
      emulator.agent.say(token, { from: 'agent', text: `live ${round}` });
      await waitFor(() => messages().length === 1 + 3 * round);
    }
    await delay(400); // a duplicate would come out of the reorder window by now

    expect(inbound(token).map((m) => m.text)).toEqual(expectedGuest);
    const agentSide = outbound(token);
    expect(messages().map((m) => m.genesysId)).toEqual(agentSide.map((m) => m.id));
    expect(messages().map((m) => m.text)).toEqual([
      'hello',
      ...[1, 2, 3].flatMap((round) => [`missed ${round}a`, `missed ${round}b`, `live ${round}`]),
    ]);
    expect(
      messages()
        .filter((m) => m.fromHistory)
        .map((m) => m.text),
    ).toEqual([1, 2, 3].flatMap((round) => [`missed ${round}a`, `missed ${round}b`]));
    expect(messages().some((m) => m.late)).toBe(false);
    const resumes = (events.ready ?? []).slice(1);
    expect(resumes).toHaveLength(3);
    for (const ready of resumes) expect(ready).toMatchObject({ resumed: true, newSession: false });
    expect(sockets.length).toBeGreaterThanOrEqual(4);
    expect(emulator.sessions().map((s) => s.token)).toEqual([token]);
  }, 30_000);

  it('puts reordered and duplicated pushes back in channel.time order, once each', async () => {
    const { guest, messages } = guestOn(emulator);
    await guest.start();
    emulator.faults.reorderPushes(6);
    emulator.faults.duplicatePushes(6);
    for (let i = 0; i < 6; i++) emulator.agent.say(guest.token, { text: `reply ${i}` });
    await waitFor(() => messages().length === 6);
    await delay(400);
    expect(messages().map((m) => m.text)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `reply ${i}`));
    expect(messages().map((m) => m.genesysId)).toEqual(outbound(guest.token).map((m) => m.id));
    expect(messages().some((m) => m.late)).toBe(false);
  });

  it('uploads an attachment end to end and sends it', async () => {
    const { guest, events } = guestOn(emulator);
    await guest.start();
    const bytes = new TextEncoder().encode('a small text file');
    const uploaded = await guest.upload({ fileName: 'note.txt', fileType: 'text/plain', bytes });
    expect(uploaded.downloadUrl).toBeDefined();
    const download = await fetch(uploaded.downloadUrl ?? '');
    expect(await download.text()).toBe('a small text file');
    expect(events.upload).toEqual([
      { attachmentId: uploaded.attachmentId, status: 'uploaded', downloadUrl: uploaded.downloadUrl },
    ]);

    await guest.send({ text: 'see attached', attachmentIds: [uploaded.attachmentId] });
    const [stored] = inbound(guest.token);
    expect(stored?.content?.[0]?.attachment?.id).toBe(uploaded.attachmentId);

    const info = await guest.getAttachment(uploaded.attachmentId);
    expect(await (await fetch(info.url)).text()).toBe('a small text file');
  });

  it('hands out an upload slot for someone else to PUT, then reports the upload', async () => {
    const { guest } = guestOn(emulator);
    await guest.start();
    const bytes = new TextEncoder().encode('%PDF-1.4 tiny');
    const slot = await guest.requestUploadSlot({
      fileName: 'doc.pdf',
      fileType: 'application/pdf',
      fileSize: bytes.byteLength,
    });
    const put = await fetch(slot.url, {
      method: 'PUT',
      headers: { ...slot.headers, 'Content-Type': 'application/pdf' },
      body: bytes,
    });
    expect(put.status).toBe(200);
    await expect(guest.awaitUpload(slot.attachmentId)).resolves.toMatchObject({
      attachmentId: slot.attachmentId,
    });
    await guest.deleteAttachment(slot.attachmentId);
    await expect(guest.getAttachment(slot.attachmentId)).rejects.toMatchObject({ genesysCode: 4009 });
  });

  it('fails oversized (4002) and disallowed (4001) uploads with typed errors', async () => {
    const { guest } = guestOn(emulator);
    await guest.start();
    const tooBig = new Uint8Array(10_240 * 1024 + 1);
    await expect(
      guest.upload({ fileName: 'big.png', fileType: 'image/png', bytes: tooBig }),
    ).rejects.toMatchObject({ code: 'GENESYS_UPLOAD_FAILED', genesysCode: 4002 });
    const bytes = new Uint8Array(16);
    await expect(
      guest.upload({ fileName: 'tool.exe', fileType: 'application/octet-stream', bytes }),
    ).rejects.toMatchObject({ code: 'GENESYS_UPLOAD_FAILED', genesysCode: 4001 });
    await expect(guest.upload({ fileName: 'clip.mp4', fileType: 'video/mp4', bytes })).rejects.toMatchObject({
      code: 'GENESYS_UPLOAD_FAILED',
      genesysCode: 4001,
    });
    expect(guest.state).toBe('ready');
  });

  it('goes read-only when the agent disconnects, and startNew opens a new conversation', async () => {
    const { guest, events } = guestOn(emulator);
    await guest.start();
    await guest.send({ text: 'first conversation' });
    emulator.agent.say(guest.token, { from: 'agent', text: 'bye' });
    emulator.agent.disconnect(guest.token, { readOnly: true });
    await waitFor(() => guest.state === 'readOnly');
    expect(events.presence).toMatchObject([{ type: 'disconnect', readOnly: true }]);
    await expect(guest.send({ text: 'anyone?' })).rejects.toMatchObject({ code: 'GENESYS_READ_ONLY' });

    const renewed = await guest.startNew();
    expect(renewed).toMatchObject({ newSession: true, readOnly: false });
    expect(guest.state).toBe('ready');
    await guest.send({ text: 'second conversation' });
    expect(inbound(guest.token).map((m) => m.text)).toEqual(['second conversation']);
  });

  it('expires on SessionExpiredEvent and does not reconnect', async () => {
    const { guest, sockets, events } = guestOn(emulator);
    await guest.start();
    emulator.faults.expireSession(guest.token);
    await waitFor(() => guest.state === 'expired');
    expect(events.expired).toHaveLength(1);
    expect(events.closed).toEqual([{ reason: 'expired' }]);
    await expect(guest.send({ text: 'late' })).rejects.toMatchObject({ code: 'GENESYS_SESSION_EXPIRED' });
    await delay(300); // backoff is at most 200 ms here: a reconnect would have happened
    expect(sockets).toHaveLength(1);
  });

  it('never reconnects after a deliberate close', async () => {
    const { guest, sockets } = guestOn(emulator);
    await guest.start();
    await guest.close();
    expect(guest.state).toBe('closed');
    await waitFor(() => emulator.sessions()[0]?.connectedSockets === 0);
    await delay(300);
    expect(sockets).toHaveLength(1);
  });

  it('end() closes the session upstream, then the socket', async () => {
    const { guest, sockets } = guestOn(emulator);
    await guest.start();
    await guest.send({ text: 'bye' });
    await guest.end();
    expect(guest.state).toBe('closed');
    await waitFor(() => emulator.sessions()[0]?.connectedSockets === 0);
    expect(sockets).toHaveLength(1);
  });

  it('sends the Origin, and gives up for good when the deployment refuses it', async () => {
    const strict = await startGenesysEmulator({ script: null, allowedOrigins: ['https://shop.example'] });
    const refused = guestOn(strict, { origin: 'https://evil.example' });
    const allowed = guestOn(strict, { origin: 'https://shop.example' });
    try {
      await expect(refused.guest.start()).rejects.toMatchObject({ genesysCode: 403 });
      expect(refused.guest.state).toBe('closed');
      expect(refused.events.closed).toMatchObject([{ reason: 'rejected' }]);
      await delay(300);
      expect(refused.sockets).toHaveLength(1);

      await allowed.guest.start();
      await allowed.guest.send({ text: 'hello from the shop' });
    } finally {
      await Promise.all([refused.guest.close(), allowed.guest.close()]);
      await strict.close();
    }
  });

  it('resumes a session from its token in a new client, settling a maybe-sent message from history', async () => {
    const first = guestOn(emulator);
    await first.guest.start();
    const sent = await first.guest.send({ text: 'from the first client', tracingId: 'entry-1' });
    await first.guest.close();

    // A worker taking the session over does not know whether entry-1 reached Genesys.
    const second = guestOn(emulator, { token: first.guest.token });
    const again = second.guest.send({ text: 'from the first client', tracingId: 'entry-1', maybeSent: true });
    const next = second.guest.send({ text: 'from the second client', tracingId: 'entry-2', maybeSent: true });
    const ready = await second.guest.start();
    expect(ready).toMatchObject({ newSession: false, resumed: false });
    await expect(again).resolves.toEqual({ ...sent, fromHistory: true });
    await expect(next).resolves.not.toHaveProperty('fromHistory');
    expect(inbound(first.guest.token).map((m) => m.text)).toEqual([
      'from the first client',
      'from the second client',
    ]);
  });
});
