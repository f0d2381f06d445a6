/**
 * What one worker does with each command and with Genesys' refusals, seen from a frontend: the error
 * codes only the worker can produce (attachment_not_found, upstream_rejected, upstream_unavailable and
 * Genesys' own text_too_long), uploads through the presigned URL and inline, context flushed as custom
 * attributes, and end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Guest, is, type Of, type System, startSystem, waitUntil, withTimeout } from './harness.js';

describe('worker: commands and refusals (one worker process)', () => {
  let system: System;
  beforeAll(async () => {
    // Genesys' own text limit is shorter than the one the relay knows, so Genesys answers 4011.
    system = await startSystem({ emulatorLimits: { maxTextLength: 20 } });
    await system.spawnWorker('w-commands');
  }, 30_000);
  afterAll(() => system.close());

  async function active(): Promise<{ guest: Guest; sessionId: string; token: string }> {
    const guest = await system.guest();
    const sessionId = await guest.start();
    await guest.waitFor(is('connect', (e) => e.status === 'active'));
    return { guest, sessionId, token: await system.tokenOf(sessionId) };
  }

  async function failureOf(guest: Guest, clientMessageId: string): Promise<Of<'status'>> {
    return guest.waitFor(is('status', (e) => e.clientMessageId === clientMessageId && e.status === 'failed'));
  }

  it('a send naming an attachment that was never uploaded fails with attachment_not_found', async () => {
    const { guest, sessionId } = await active();
    await guest.send(undefined, 'att-1', { attachmentIds: ['never-uploaded'] });
    const failed = await failureOf(guest, 'att-1');
    expect(failed.failure?.code).toBe('attachment_not_found');
    const [entry] = await system.transcript(sessionId);
    expect(entry).toMatchObject({ status: 'failed', failure: { code: 'attachment_not_found' } });
    // The command is completed after the failure is stored and posted: wait for that write.
    const pendingNow = async () => (await system.relay.deps.sessions.get(sessionId))?.pending;
    await waitUntil(
      async () => Object.keys((await pendingNow()) ?? {}).length === 0,
      10_000,
      'the send command completed',
    );
    expect(await pendingNow()).toEqual({});
  });

  it("Genesys' own 4011 fails the entry with text_too_long", async () => {
    const { guest } = await active();
    await guest.send('x'.repeat(30), 'long-1');
    expect((await failureOf(guest, 'long-1')).failure?.code).toBe('text_too_long');
  });

  it('a refusal without a code of its own is upstream_rejected, and the next message still goes', async () => {
    const { guest, token } = await active();
    system.emulator.faults.rejectMessages(1, 4020);
    await guest.send('refused', 'rej-1');
    expect((await failureOf(guest, 'rej-1')).failure?.code).toBe('upstream_rejected');
    await guest.send('accepted', 'rej-2');
    await guest.waitFor(is('status', (e) => e.clientMessageId === 'rej-2' && e.status === 'sent'));
    expect(system.emulator.transcript(token).map((m) => m.text)).toEqual(['accepted']);
  });

  it('an upload asked for while the upstream socket reconnects waits for it instead of failing', {
    timeout: 40_000,
  }, async () => {
    const { guest, token } = await active();
    // Well inside the worker's 30 s bound (UPSTREAM_UNAVAILABLE_AFTER_MS), after which the upload would
    // fail; however the backoff's jitter falls, the session is back within 1.5 s + one delay (< 16 s).
    system.emulator.faults.refuseConnects(1_500);
    system.emulator.faults.dropSockets(token);
    guest.frame({
      action: 'upload',
      filename: 'late.txt',
      contentType: 'text/plain',
      data: Buffer.from('sent after the reconnect').toString('base64'),
      uploadId: 'up-late',
    });
    await guest.waitFor(
      is('uploaded', (e) => e.uploadId === 'up-late'),
      25_000,
    );
    const message = await guest.waitFor(
      is('message', (e) => e.direction === 'guest'),
      10_000,
    );
    await guest.waitFor(
      is('status', (e) => e.sequenceId === message.sequenceId && e.status === 'sent'),
      10_000,
    );
    expect(guest.events.some((e) => e.type === 'uploadFailed')).toBe(false);
  });

  it('relays the presigned URL; after the PUT the attachment is sent with its caption', async () => {
    const { guest, sessionId, token } = await active();
    guest.frame({
      action: 'upload',
      filename: 'photo.png',
      contentType: 'image/png',
      size: 4,
      uploadId: 'up-1',
      caption: 'my photo',
      send: true,
    });
    const slot = await guest.waitFor(is('upload', (e) => e.uploadId === 'up-1'));
    const put = await fetch(slot.url, {
      method: 'PUT',
      headers: slot.headers,
      body: new Uint8Array([1, 2, 3, 4]),
    });
    expect(put.ok).toBe(true);
    const uploaded = await guest.waitFor(is('uploaded', (e) => e.uploadId === 'up-1'));
    expect(uploaded.attachmentId).toBe(slot.attachmentId);
    const message = await guest.waitFor(
      is('message', (e) => e.direction === 'guest' && e.text === 'my photo'),
    );
    await guest.waitFor(is('status', (e) => e.sequenceId === message.sequenceId && e.status === 'sent'));
    expect(message.content[0]).toMatchObject({
      kind: 'attachment',
      id: slot.attachmentId,
      mime: 'image/png',
    });
    const upstream = system.emulator.transcript(token).at(-1);
    expect(upstream?.text).toBe('my photo');
    expect(upstream?.content?.[0]).toMatchObject({ contentType: 'Attachment' });
    expect((await system.transcript(sessionId)).map((e) => e.status)).toEqual(['sent']);
  });

  it('tells the presigned URL only to the connection that asked; a watcher of the session never gets it', async () => {
    const { guest, sessionId } = await active();
    // An agent console watching the same session (it may read it, never speak in it: docs/security.md).
    const consoleToken = await system.relay.token({ team: 'team-a', role: 'agent-console' });
    const watcher = await Guest.open(
      `${system.relay.publicApi.url}?token=${encodeURIComponent(consoleToken)}`,
    );
    try {
      watcher.frame({ action: 'connect', sessionId, clientMessageId: 'watch-1' });
      await watcher.waitFor(is('connect', (e) => e.sessionId === sessionId));
      guest.frame({
        action: 'upload',
        filename: 'private.png',
        contentType: 'image/png',
        size: 4,
        uploadId: 'up-private',
        send: false,
      });
      const slot = await guest.waitFor(is('upload', (e) => e.uploadId === 'up-private'));
      const put = await fetch(slot.url, {
        method: 'PUT',
        headers: slot.headers,
        body: new Uint8Array([1, 2, 3, 4]),
      });
      expect(put.ok).toBe(true);
      // Both hear the outcome; only the guest ever had the URL.
      await guest.waitFor(is('uploaded', (e) => e.uploadId === 'up-private'));
      await watcher.waitFor(is('uploaded', (e) => e.uploadId === 'up-private'));
      expect(watcher.events.filter((e) => e.type === 'upload')).toEqual([]);
      expect(JSON.stringify(watcher.events)).not.toContain(slot.url);
    } finally {
      watcher.ws.terminate();
    }
  });

  it('uploads a small inline file itself and sends it', async () => {
    const { guest } = await active();
    guest.frame({
      action: 'upload',
      filename: 'note.txt',
      contentType: 'text/plain',
      data: Buffer.from('hello file').toString('base64'),
      uploadId: 'up-inline',
    });
    await guest.waitFor(is('uploaded', (e) => e.uploadId === 'up-inline'));
    const message = await guest.waitFor(is('message', (e) => e.direction === 'guest'));
    await guest.waitFor(is('status', (e) => e.sequenceId === message.sequenceId && e.status === 'sent'));
  });

  it('flushes context as custom attributes at once when asked, and says so', async () => {
    const { guest, token } = await active();
    guest.frame({ action: 'context', data: { page: 'checkout', cart: { items: 2 } }, flush: true });
    const applied = await guest.waitFor(is('context', (e) => e.state === 'applied'));
    expect(applied.attributes).toMatchObject({ page: 'checkout' });
    const session = system.emulator.sessions().find((x) => x.token === token);
    expect(session?.customAttributes).toMatchObject({ page: 'checkout' });
  });

  it("passes the guest's typing upstream as a Typing event", async () => {
    const { guest, token } = await active();
    const feed = new WebSocket(`${system.emulator.httpUrl.replace('http', 'ws')}/emulator/console`);
    const typed = new Promise<void>((resolve) => {
      feed.on('message', (data: Buffer) => {
        const event = JSON.parse(data.toString('utf8')) as {
          type: string;
          token: string | null;
          request?: { message?: { events?: { eventType?: string }[] } };
        };
        const kinds = event.request?.message?.events?.map((e) => e.eventType) ?? [];
        if (event.type === 'fromGuest' && event.token === token && kinds.includes('Typing')) resolve();
      });
    });
    await new Promise((resolve) => feed.once('open', resolve));
    guest.frame({ action: 'typing' });
    await guest.waitFor(is('ack', (e) => e.action === 'typing'));
    await withTimeout(typed, 5_000, 'no Typing event reached Genesys');
    feed.terminate();
  });

  it('sends guestInfo and metadata as custom attributes with the first message', async () => {
    const guest = await system.guest();
    const sessionId = await guest.start({
      guestInfo: { firstName: 'Ada', email: 'ada@example.test' },
      metadata: { plan: 'gold', seats: 3 },
    });
    await guest.waitFor(is('connect', (e) => e.status === 'active'));
    await guest.send('hi', 'gi-1');
    await guest.waitFor(is('status', (e) => e.clientMessageId === 'gi-1' && e.status === 'sent'));
    const token = await system.tokenOf(sessionId);
    const session = system.emulator.sessions().find((x) => x.token === token);
    expect(session?.customAttributes).toMatchObject({
      firstName: 'Ada',
      email: 'ada@example.test',
      plan: 'gold',
      seats: '3',
    });
  });

  it('sends a stored message whose doorbell never rang (its handler died after its one write)', async () => {
    const { sessionId, token } = await active();
    // What a send handler that crashed after its write leaves: the command on the item, no doorbell.
    const session = await system.relay.deps.sessions.get(sessionId);
    if (session === undefined) throw new Error('no session');
    const outcome = await system.relay.deps.queue.submitSend(session, {
      id: 's#no-doorbell',
      entryId: 'e-no-doorbell',
      content: [],
      text: 'stored, not lost',
    });
    if (outcome.kind !== 'queued') throw new Error(`not queued: ${outcome.kind}`);
    const { seq } = outcome.command;
    await waitUntil(
      async () => (await system.relay.deps.transcript.get(sessionId, seq))?.status === 'sent',
      15_000,
      'the stored message was sent',
    ).catch(async (error) => {
      // Say what became of the message instead.
      const item = await system.relay.deps.sessions.get(sessionId);
      throw new Error(`${error}: ${JSON.stringify(item?.pending['s#no-doorbell'])}`);
    });
    expect(system.emulator.transcript(token).filter((m) => m.text === 'stored, not lost')).toHaveLength(1);
  });

  it('end closes the Genesys session and tells every connection', async () => {
    const { guest, sessionId } = await active();
    guest.frame({ action: 'end' });
    await guest.waitFor(is('sessionEnded', (e) => e.reason === 'guest'));
    expect((await system.relay.deps.sessions.get(sessionId))?.status).toBe('ended');
  });
});
