import { afterEach, describe, expect, it } from 'vitest';
import { request } from '../../../src/genesys/requests.js';
import {
  type Frame,
  GuestClient,
  type Harness,
  type Json,
  startHarness,
  textMessage,
  upgradeStatus,
} from './emulator-harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// The reference's literal frames use the deployment id "deploymentId" and the token "t".
const DEPLOYMENT = 'deploymentId';

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

async function literal(options: Parameters<typeof startHarness>[0] = {}): Promise<{ client: GuestClient }> {
  harness = await startHarness({ deploymentId: DEPLOYMENT, ...options });
  const client = await harness.connect();
  const response = await client.request(
    '{"token":"t","deploymentId":"deploymentId","action":"configureSession"}',
    'SessionResponse',
  );
  expect(response.body).toMatchObject({ connected: true });
  return { client };
}

describe('guest API handshake', () => {
  it('accepts an upgrade with the deploymentId, with or without application', async () => {
    harness = await startHarness();
    const client = await harness.connect();
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    const { emulator } = harness;
    const withApp = await GuestClient.connect(
      `${emulator.wsUrl}?deploymentId=${emulator.deploymentId}&application=TransportSDK-2.14.0`,
    );
    expect(withApp.ws.readyState).toBe(withApp.ws.OPEN);
    withApp.close();
  });

  it('refuses an unknown or missing deploymentId with HTTP 404', async () => {
    harness = await startHarness();
    expect(await upgradeStatus(`${harness.emulator.wsUrl}?deploymentId=nope`)).toBe(404);
    expect(await upgradeStatus(harness.emulator.wsUrl)).toBe(404);
  });

  it('refuses an Origin outside allowedOrigins with HTTP 403 and accepts one inside', async () => {
    harness = await startHarness({ allowedOrigins: ['https://shop.example'] });
    expect(await upgradeStatus(harness.url, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(harness.url)).toBe(403);
    const client = await harness.connect({ origin: 'https://shop.example' });
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('answers an unknown WebSocket path with 404', async () => {
    harness = await startHarness();
    expect(await upgradeStatus(`${harness.emulator.httpUrl.replace('http', 'ws')}/v2?deploymentId=x`)).toBe(
      404,
    );
  });
});

describe('guest API configureSession', () => {
  it('answers the minimal configureSession with every SessionResponse field', async () => {
    harness = await startHarness({ deploymentId: DEPLOYMENT });
    const client = await harness.connect();
    const frame = await client.request(
      '{"token":"token","deploymentId":"deploymentId","action":"configureSession"}',
      'SessionResponse',
    );
    expect(frame).toEqual({
      type: 'response',
      class: 'SessionResponse',
      code: 200,
      body: {
        connected: true,
        newSession: true,
        readOnly: false,
        clearedExistingSession: false,
        maxCustomDataBytes: 2048,
        allowedMedia: {
          inbound: {
            fileTypes: [
              { type: 'image/jpeg' },
              { type: 'image/png' },
              { type: 'image/gif' },
              { type: 'application/pdf' },
              { type: 'text/plain' },
            ],
            maxFileSizeKB: 10240,
          },
        },
        blockedExtensions: ['.exe', '.bat', '.cmd', '.js', '.vbs'],
        durationSeconds: 86400,
        expirationDate: Math.floor(harness.clock.now() / 1000) + 86400,
      },
    });
  });

  it('echoes the tracingId and resumes the same token with newSession false on another socket', async () => {
    harness = await startHarness({ deploymentId: DEPLOYMENT });
    const full =
      '{"action":"configureSession","token":"3f1c2b4a-0000-4000-8000-000000000001","deploymentId":"deploymentId","startNew":false,' +
      '"journeyContext":{"customer":{"id":"3f1c2b4a-0000-4000-8000-000000000001","idType":"cookie"},"customerSession":{"id":"","type":"web"}},' +
      '"tracingId":"9d0b1e77-0000-4000-8000-000000000002"}';
    const first = await harness.connect();
    const a = await first.request(full, 'SessionResponse');
    expect(a.tracingId).toBe('9d0b1e77-0000-4000-8000-000000000002');
    expect(a.body).toMatchObject({ connected: true, newSession: true });
    const second = await harness.connect();
    const b = await second.request(full, 'SessionResponse');
    expect(b.body).toMatchObject({ connected: true, newSession: false, readOnly: false });
    expect(harness.emulator.sessions()).toMatchObject([{ connectedSockets: 2 }]);
  });

  it('delivers the session pushes to every socket of the token', async () => {
    harness = await startHarness();
    const one = await harness.guest('shared');
    const two = await harness.guest('shared');
    one.client.send(textMessage('shared', 'hi'));
    const echoes = await Promise.all([one.client, two.client].map((c) => c.nextOfClass('StructuredMessage')));
    expect(echoes[0]).toEqual(echoes[1]);
    harness.emulator.agent.say('shared', { text: 'to both' });
    const pushes = await Promise.all([one.client, two.client].map((c) => c.nextOfClass('StructuredMessage')));
    expect(pushes[1]?.body).toMatchObject({ text: 'to both' });
  });

  it('refuses a configureSession for another deployment with a 400 string error', async () => {
    harness = await startHarness();
    const client = await harness.connect();
    const frame = await client.request(
      { action: 'configureSession', token: 't', deploymentId: 'other', tracingId: 'x1' },
      'string',
    );
    expect(frame).toMatchObject({ type: 'response', class: 'string', code: 400, tracingId: 'x1' });
    expect(frame.body).toContain('deploymentId');
  });

  it('refuses a token longer than 2048 characters and accepts one of exactly 2048', async () => {
    harness = await startHarness();
    const client = await harness.connect();
    const { deploymentId } = harness.emulator;
    const long = await client.request(
      { action: 'configureSession', token: 'x'.repeat(2049), deploymentId },
      'string',
    );
    expect(long.code).toBe(400);
    const ok = await client.request(
      { action: 'configureSession', token: 'x'.repeat(2048), deploymentId },
      'SessionResponse',
    );
    expect(ok.body).toMatchObject({ connected: true });
  });

  it('answers every other request with 4007 before configureSession', async () => {
    harness = await startHarness({ deploymentId: DEPLOYMENT });
    const client = await harness.connect();
    const frames = [
      '{"action":"echo","token":"t","tracingId":"SGVhbHRoQ2hlY2tNZXNzYWdlSWQ=","message":{"type":"Text","text":"ping"}}',
      '{"action":"onMessage","token":"t","message":{"type":"Text","text":"Hello"}}',
      '{"action":"getJwt","token":"t","tracingId":"j1"}',
      '{"action":"getConfiguration","token":"t","deploymentId":"deploymentId"}',
    ];
    for (const raw of frames) {
      const error = await client.request(raw, 'string');
      expect(error).toMatchObject({
        type: 'response',
        class: 'string',
        code: 4007,
        body: 'session not found',
      });
    }
    expect(harness.emulator.sessions()).toEqual([]);
  });

  it('answers malformed requests with documented string errors', async () => {
    harness = await startHarness();
    const client = await harness.connect();
    expect((await client.request('not json', 'string')).code).toBe(400);
    expect((await client.request({ action: 'launchRocket', token: 't' }, 'string')).code).toBe(400);
    expect(
      (await client.request({ action: 'configureAuthenticatedSession', token: 't' }, 'string')).code,
    ).toBe(4000);
    const missing = await client.request(
      { action: 'configureSession', deploymentId: 'x', tracingId: 'm' },
      'string',
    );
    expect(missing).toMatchObject({ code: 4020, body: 'Missing parameter: token', tracingId: 'm' });
  });
});

describe('guest API onMessage', () => {
  it('echoes a text with customAttributes inside message as an Inbound message to every socket', async () => {
    const { client } = await literal();
    client.send(
      '{"action":"onMessage","token":"t","tracingId":"7b1f-trace","message":{"type":"Text","text":"Hello",' +
        '"channel":{"metadata":{"customAttributes":{"IsAutomatedTest":"true"}}}}}',
    );
    const echo = await client.nextOfClass('StructuredMessage');
    expect(echo).toMatchObject({
      type: 'message',
      class: 'StructuredMessage',
      code: 200,
      tracingId: '7b1f-trace',
    });
    const body = echo.body as Json;
    expect(body).toMatchObject({ type: 'Text', text: 'Hello', direction: 'Inbound' });
    expect(body.id).toMatch(UUID);
    expect(body.channel.time).toMatch(ISO_MS);
    expect(Date.parse(body.channel.time)).toBeGreaterThanOrEqual(harness.clock.now());
    expect(body.channel.messageId).toEqual(expect.any(String));
    expect(body.metadata.correlationId).toMatch(UUID);
    const [snapshot] = harness.emulator.sessions();
    expect(snapshot).toMatchObject({
      token: 't',
      conversationId: expect.stringMatching(UUID),
      customAttributes: { IsAutomatedTest: 'true' },
      messageCount: 1,
    });
    expect(harness.emulator.transcript('t')).toEqual([body]);
  });

  it('echoes with originatingEntity "" as recorded from real traffic, in the frame and the history', async () => {
    const { client } = await literal();
    // What ovotech's tester (O) sends: the text, customAttributes at the top level, no tracingId.
    client.send(
      '{"action":"onMessage","token":"t","message":{"type":"Text","text":"Hello"},' +
        '"channel":{"metadata":{"customAttributes":{"IsAutomatedTest":"true"}}}}',
    );
    const echo = (await client.nextOfClass('StructuredMessage')).body as Json;
    expect(echo).toMatchObject({ direction: 'Inbound', text: 'Hello' });
    expect(Object.hasOwn(echo, 'originatingEntity')).toBe(true);
    expect(echo.originatingEntity).toBe('');
    expect(harness.emulator.transcript('t')[0]?.originatingEntity).toBe('');
  });

  it('accepts customAttributes at the top level and merges them with what the conversation has', async () => {
    const { client } = await literal();
    client.send({
      action: 'onMessage',
      token: 't',
      message: { type: 'Text', text: 'one' },
      channel: { metadata: { customAttributes: { A: '1', B: '1' } } },
    });
    await client.nextOfClass('StructuredMessage');
    client.send(
      '{"token":"t","message":{"text":"two","channel":{"metadata":{"customAttributes":{"B":"2"}}},"type":"Text"},"action":"onMessage"}',
    );
    await client.nextOfClass('StructuredMessage');
    expect(harness.emulator.sessions()[0]?.customAttributes).toEqual({ A: '1', B: '2' });
  });

  it("keeps the guest's own metadata (the client id) in the echo and the transcript", async () => {
    harness = await startHarness();
    const { client } = await harness.guest('tok');
    client.send(request.text({ token: 'tok', tracingId: 'client-id-1', text: 'with metadata' }));
    const echo = await client.nextOfClass('StructuredMessage');
    expect(echo.tracingId).toBe('client-id-1');
    expect((echo.body as Json).metadata).toEqual({
      id: 'client-id-1',
      correlationId: expect.stringMatching(UUID),
    });
    expect(harness.emulator.transcript('tok')[0]?.metadata?.id).toBe('client-id-1');
  });

  it('echoes a quick-reply answer with its ButtonResponse content', async () => {
    const { client } = await literal();
    client.send(
      '{"action":"onMessage","token":"t","message":{"type":"Text","text":"","content":[{"contentType":"ButtonResponse",' +
        '"buttonResponse":{"text":"Yes","payload":"cookie1","type":"QuickReply"}}]}}',
    );
    const body = (await client.nextOfClass('StructuredMessage')).body as Json;
    expect(body.content).toEqual([
      {
        contentType: 'ButtonResponse',
        buttonResponse: { text: 'Yes', payload: 'cookie1', type: 'QuickReply' },
      },
    ]);
  });

  it('answers the third message within one second with 429 and stores nothing, then accepts again', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('fast');
    await client.request(textMessage('fast', 'one'), 'StructuredMessage');
    await client.request(textMessage('fast', 'two'), 'StructuredMessage');
    const limited = await client.request(textMessage('fast', 'three'), 'TooManyRequestsErrorMessage');
    expect(limited).toEqual({
      type: 'response',
      class: 'TooManyRequestsErrorMessage',
      code: 429,
      body: { retryAfter: 1, errorCode: 4029, errorMessage: 'Message rate too high for this session' },
      tracingId: 'trace-three',
    });
    expect(harness.emulator.transcript('fast').map((m) => m.text)).toEqual(['one', 'two']);
    harness.clock.advance(1000);
    expect((await client.request(textMessage('fast', 'four'), 'StructuredMessage')).tracingId).toBe(
      'trace-four',
    );
    expect(harness.emulator.transcript('fast').map((m) => m.text)).toEqual(['one', 'two', 'four']);
  });

  it('refuses a text longer than maxTextLength code points with 4011 "message too long"', async () => {
    harness = await startHarness({ limits: { maxTextLength: 10 } });
    const { client } = await harness.guest('long');
    const tooLong = await client.request(textMessage('long', '😀'.repeat(11)), 'string');
    expect(tooLong).toEqual({
      type: 'response',
      class: 'string',
      code: 4011,
      body: 'message too long',
      tracingId: `trace-${'😀'.repeat(11)}`,
    });
    const fits = await client.request(textMessage('long', '😀'.repeat(10)), 'StructuredMessage');
    expect((fits.body as Json).text).toBe('😀'.repeat(10));
  });

  it('refuses customAttributes that make the conversation exceed maxCustomDataBytes with 4013', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('attrs');
    const attributes = (value: string) => ({ channel: { metadata: { customAttributes: value } } });
    client.send(textMessage('attrs', 'first', attributes({ big: 'é'.repeat(700) } as never)));
    // 'big' (3 bytes) + 700 × 'é' (2 bytes each) = 1403 bytes: under 2048.
    await client.nextOfClass('StructuredMessage');
    harness.clock.advance(1000);
    const refused = await client.request(
      textMessage('attrs', 'second', attributes({ more: 'x'.repeat(642) } as never)),
      'string',
    );
    // 1403 + 4 + 642 = 2049 bytes.
    harness.clock.advance(1000);
    expect(refused).toMatchObject({
      class: 'string',
      code: 4013,
      body: 'Custom Attributes in channel metadata is larger than 2048 bytes',
    });
    await client.request(
      textMessage('attrs', 'third', attributes({ more: 'x'.repeat(641) } as never)),
      'StructuredMessage',
    );
    expect(harness.emulator.transcript('attrs').map((m) => m.text)).toEqual(['first', 'third']);
  });

  it('refuses an attachment id that was never uploaded with 4010', async () => {
    const { client } = await literal();
    const refused = await client.request(
      '{"token":"t","message":{"text":"Hello world","metadata":{"id":"aaa-bbb-ccc"},"content":[{"contentType":"Attachment",' +
        '"attachment":{"id":"abcd-1234"}}],"channel":{"metadata":{"customAttributes":{"A":"B"}}},"type":"Text"},' +
        '"tracingId":"att-1","action":"onMessage"}',
      'string',
    );
    expect(refused).toMatchObject({ code: 4010, tracingId: 'att-1' });
  });

  it('echoes a typing event without storing it, and counts it toward the rate limit', async () => {
    const { client } = await literal();
    const typing =
      '{"action":"onMessage","token":"t","message":{"type":"Event","events":[{"eventType":"Typing","typing":{"type":"On"}}]}}';
    const echo = await client.request(typing, 'StructuredMessage');
    expect(echo.body).toMatchObject({
      type: 'Event',
      direction: 'Inbound',
      events: [{ eventType: 'Typing', typing: { type: 'On' } }],
    });
    expect(harness.emulator.transcript('t')).toEqual([]);
    expect(harness.emulator.sessions()[0]?.conversationId).toBeNull();
    client.send(typing);
    await client.nextOfClass('StructuredMessage');
    expect((await client.request(typing, 'TooManyRequestsErrorMessage')).code).toBe(429);
  });

  it('does not count typing toward the rate limit when typingCountsTowardRateLimit is false', async () => {
    harness = await startHarness({ typingCountsTowardRateLimit: false });
    const { client } = await harness.guest('typist');
    const typing = {
      action: 'onMessage',
      token: 'typist',
      message: request.typing({ token: 'typist' }).message,
    };
    for (let i = 0; i < 5; i++) await client.request(typing, 'StructuredMessage');
    await client.request(textMessage('typist', 'a'), 'StructuredMessage');
    await client.request(textMessage('typist', 'b'), 'StructuredMessage');
  });

  it('starts the conversation on Presence Join with its customAttributes', async () => {
    const { client } = await literal();
    client.send(
      '{"token":"t","action":"onMessage","message":{"events":[{"eventType":"Presence","presence":{"type":"Join"}}],' +
        '"channel":{"metadata":{"customAttributes":{"A":"B"}}},"type":"Event"}}',
    );
    const echo = await client.nextOfClass('StructuredMessage');
    expect(echo.body).toMatchObject({
      type: 'Event',
      direction: 'Inbound',
      events: [{ eventType: 'Presence', presence: { type: 'Join' } }],
    });
    expect(harness.emulator.sessions()[0]).toMatchObject({
      conversationId: expect.stringMatching(UUID),
      customAttributes: { A: 'B' },
      messageCount: 1,
    });
  });

  it('clears on Presence Clear: SessionClearedEvent, ConnectionClosedEvent, every socket closed, a fresh session after', async () => {
    const { client } = await literal();
    const other = await harness.connect();
    await other.request(
      '{"token":"t","deploymentId":"deploymentId","action":"configureSession"}',
      'SessionResponse',
    );
    client.send(textMessage('t', 'before'));
    await client.nextOfClass('StructuredMessage');
    client.send(
      '{"token":"t","action":"onMessage","message":{"events":[{"eventType":"Presence","presence":{"type":"Clear"}}],"type":"Event"}}',
    );
    for (const guest of [client, other]) {
      const cleared = await guest.next(
        (f) => f.class === 'SessionClearedEvent' || f.class === 'ConnectionClosedEvent',
      );
      expect(cleared).toEqual({ type: 'message', class: 'SessionClearedEvent', code: 200, body: {} });
      expect(await guest.nextOfClass('ConnectionClosedEvent')).toEqual({
        type: 'message',
        class: 'ConnectionClosedEvent',
        code: 200,
        body: {},
      });
      expect((await guest.closed).code).toBe(1000);
    }
    expect(harness.emulator.sessions()).toEqual([]);
    const again = await harness.connect();
    const fresh = await again.request(
      '{"token":"t","deploymentId":"deploymentId","action":"configureSession"}',
      'SessionResponse',
    );
    expect(fresh.body).toMatchObject({ connected: true, newSession: true, clearedExistingSession: true });
    expect(harness.emulator.transcript('t')).toEqual([]);
  });

  it('refuses Presence Clear with 403 when the deployment does not allow it', async () => {
    const { client } = await literal({ conversationClear: false });
    const refused = await client.request(
      '{"token":"t","action":"onMessage","message":{"events":[{"eventType":"Presence","presence":{"type":"Clear"}}],"type":"Event"}}',
      'string',
    );
    expect(refused).toMatchObject({
      code: 403,
      body: 'Presence events Conversation Clear are not supported',
    });
  });
});

describe('guest API echo, getJwt, getConfiguration', () => {
  it('answers echo with a StructuredMessage "ping", the same tracingId and a refreshed expiry', async () => {
    const { client } = await literal();
    const echo =
      '{"action":"echo","token":"t","tracingId":"SGVhbHRoQ2hlY2tNZXNzYWdlSWQ=","message":{"type":"Text","text":"ping"}}';
    const first = await client.request(echo, 'StructuredMessage');
    expect(first).toEqual({
      type: 'response',
      class: 'StructuredMessage',
      code: 200,
      body: {
        text: 'ping',
        type: 'Text',
        direction: 'Inbound',
        id: expect.stringMatching(UUID),
        channel: { time: new Date(harness.clock.now()).toISOString(), messageId: expect.any(String) },
        metadata: {
          durationSeconds: '86400',
          expirationDate: String(Math.floor(harness.clock.now() / 1000) + 86400),
        },
      },
      tracingId: 'SGVhbHRoQ2hlY2tNZXNzYWdlSWQ=',
    });
    harness.clock.advance(30_000);
    const second = await client.request(echo, 'StructuredMessage');
    expect(Number((second.body as Json).metadata.expirationDate)).toBe(
      Number((first.body as Json).metadata.expirationDate) + 30,
    );
    expect(harness.emulator.transcript('t')).toEqual([]);
  });

  it('answers getJwt with a JwtResponse {jwt, exp}', async () => {
    const { client } = await literal();
    const frame = await client.request('{"action":"getJwt","token":"t","tracingId":"jwt-1"}', 'JwtResponse');
    expect(frame).toMatchObject({ type: 'response', class: 'JwtResponse', code: 200, tracingId: 'jwt-1' });
    const body = frame.body as Json;
    expect(body.jwt.split('.')).toHaveLength(3);
    expect(body.exp).toBe(Math.floor(harness.clock.now() / 1000) + 3600);
  });

  it('answers getConfiguration with the deployment limits', async () => {
    const { client } = await literal();
    const frame = await client.request(
      '{"action":"getConfiguration","token":"t","deploymentId":"deploymentId"}',
      'GetConfigurationResponse',
    );
    expect(frame.body).toEqual({
      allowedMedia: {
        inbound: {
          fileTypes: [
            { type: 'image/jpeg' },
            { type: 'image/png' },
            { type: 'image/gif' },
            { type: 'application/pdf' },
            { type: 'text/plain' },
          ],
          maxFileSizeKB: 10240,
        },
      },
      blockedExtensions: ['.exe', '.bat', '.cmd', '.js', '.vbs'],
      maxCustomDataBytes: 2048,
      messageRoutingEnabled: true,
      sessionDurationSeconds: 86400,
    });
  });
});

describe('guest session lifecycle', () => {
  it('expires after sessionDurationSeconds without activity: SessionExpiredEvent, then 4006', async () => {
    harness = await startHarness({ limits: { sessionDurationSeconds: 60 } });
    const { client } = await harness.guest('ttl');
    harness.clock.advance(45_000);
    await client.request(
      { action: 'echo', token: 'ttl', tracingId: 'e', message: { type: 'Text', text: 'ping' } },
      'StructuredMessage',
    );
    harness.clock.advance(59_999);
    // Timers run inside advance(), so the state is already final here (an echo now would extend the TTL).
    expect(harness.emulator.sessions()[0]?.expired).toBe(false);
    harness.clock.advance(1);
    expect(await client.nextOfClass('SessionExpiredEvent')).toEqual({
      type: 'response',
      class: 'SessionExpiredEvent',
      code: 200,
      body: {},
    });
    expect(harness.emulator.sessions()[0]?.expired).toBe(true);
    const refused = await client.request(textMessage('ttl', 'late'), 'string');
    expect(refused).toMatchObject({ code: 4006, body: 'session has expired' });
    const again = await harness.connect();
    const configure = await again.request(
      { action: 'configureSession', token: 'ttl', deploymentId: harness.emulator.deploymentId },
      'string',
    );
    expect(configure.code).toBe(4006);
  });

  it('turns read-only on an agent disconnect; closeSession then startNew starts a fresh conversation', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('ro');
    client.send(textMessage('ro', 'hello'));
    await client.nextOfClass('StructuredMessage');
    const firstConversation = harness.emulator.sessions()[0]?.conversationId;
    harness.emulator.agent.disconnect('ro');
    const disconnect = (await client.nextOfClass('StructuredMessage')).body as Json;
    expect(disconnect).toMatchObject({
      type: 'Event',
      direction: 'Outbound',
      events: [{ eventType: 'Presence', presence: { type: 'Disconnect' } }],
      metadata: { readOnly: 'true' },
    });
    expect((await client.request(textMessage('ro', 'still there?'), 'string')).code).toBe(403);

    const other = await harness.connect();
    const resumed = await other.request(
      { action: 'configureSession', token: 'ro', deploymentId: harness.emulator.deploymentId },
      'SessionResponse',
    );
    expect(resumed.body).toMatchObject({ connected: true, newSession: false, readOnly: true });

    const closed = await client.request(
      '{"action":"closeSession","token":"ro","closeAllConnections":true}',
      'SessionResponse',
    );
    expect(closed.body).toMatchObject({ connected: false, readOnly: true });
    expect(await other.nextOfClass('ConnectionClosedEvent')).toEqual({
      type: 'message',
      class: 'ConnectionClosedEvent',
      code: 200,
      body: {},
    });
    expect((await other.closed).code).toBe(1000);
    expect((await client.request(textMessage('ro', 'after close'), 'string')).code).toBe(4007);

    const restarted = await client.request(
      {
        action: 'configureSession',
        token: 'ro',
        deploymentId: harness.emulator.deploymentId,
        startNew: true,
      },
      'SessionResponse',
    );
    expect(restarted.body).toMatchObject({ connected: true, newSession: true, readOnly: false });
    harness.clock.advance(1000);
    await client.request(textMessage('ro', 'new start'), 'StructuredMessage');
    const [snapshot] = harness.emulator.sessions();
    expect(snapshot?.conversationId).not.toBe(firstConversation);
    expect(harness.emulator.transcript('ro').map((m) => m.text)).toEqual(['new start']);
  });

  it('answers a resume with readOnly only once the conversation ended read-only; history stays readable', async () => {
    harness = await startHarness();
    const { deploymentId } = harness.emulator;
    const resume = async () => {
      const socket = await harness.connect();
      const frame = await socket.request(
        { action: 'configureSession', token: 'back', deploymentId },
        'SessionResponse',
      );
      return { socket, body: frame.body as Json };
    };
    const { client } = await harness.guest('back');
    await client.request(textMessage('back', 'one'), 'StructuredMessage');

    // Live: the same session, writable.
    const live = await resume();
    expect(live.body).toMatchObject({ connected: true, newSession: false, readOnly: false });
    await live.socket.request(textMessage('back', 'two'), 'StructuredMessage');

    // Ended, but not read-only (what Send mode does): still writable; the next message opens a new one.
    harness.emulator.agent.disconnect('back', { readOnly: false });
    const ended = await resume();
    expect(ended.body).toMatchObject({ connected: true, newSession: false, readOnly: false });
    harness.clock.advance(1000);
    await ended.socket.request(textMessage('back', 'three'), 'StructuredMessage');
    expect(harness.emulator.transcript('back').map((m) => m.text)).toEqual(['three']);

    // Ended read-only: the resume says so, sending is refused, history still reads.
    harness.emulator.agent.disconnect('back');
    const readOnly = await resume();
    expect(readOnly.body).toMatchObject({ connected: true, newSession: false, readOnly: true });
    expect((await readOnly.socket.request(textMessage('back', 'four'), 'string')).code).toBe(403);
    const { jwt } = (await readOnly.socket.request({ action: 'getJwt', token: 'back' }, 'JwtResponse'))
      .body as Json;
    const history = await fetch(`${harness.emulator.httpUrl}/api/v2/webmessaging/messages`, {
      headers: { Authorization: `bearer ${jwt}` },
    });
    expect(history.status).toBe(200);
    const entities = ((await history.json()) as Json).entities as Json[];
    expect(entities.map((e) => e.text ?? e.events?.[0]?.presence?.type)).toEqual(['Disconnect', 'three']);
  });

  it('keeps a session writable after a disconnect in Send mode and starts a new conversation', async () => {
    harness = await startHarness({ conversationDisconnect: 'Send' });
    const { client } = await harness.guest('send');
    await client.request(textMessage('send', 'one'), 'StructuredMessage');
    const first = harness.emulator.sessions()[0]?.conversationId;
    harness.emulator.agent.disconnect('send');
    const disconnect = (await client.nextOfClass('StructuredMessage')).body as Json;
    expect(disconnect.metadata.readOnly).toBeUndefined();
    await client.request(textMessage('send', 'two'), 'StructuredMessage');
    expect(harness.emulator.sessions()[0]).toMatchObject({ readOnly: false, messageCount: 1 });
    expect(harness.emulator.sessions()[0]?.conversationId).not.toBe(first);
  });

  it('ignores startNew on a session that is not read-only', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('keep');
    await client.request(textMessage('keep', 'one'), 'StructuredMessage');
    const again = await client.request(
      {
        action: 'configureSession',
        token: 'keep',
        deploymentId: harness.emulator.deploymentId,
        startNew: true,
      },
      'SessionResponse',
    );
    expect(again.body).toMatchObject({ newSession: false });
    expect(harness.emulator.transcript('keep')).toHaveLength(1);
  });

  it('closes the oldest socket with ConnectionClosedEvent beyond maxConnectionsPerSession', async () => {
    harness = await startHarness({ limits: { maxConnectionsPerSession: 2 } });
    const first = await harness.guest('many');
    await harness.guest('many');
    await harness.guest('many');
    expect((await first.client.nextOfClass('ConnectionClosedEvent')).body).toEqual({});
    expect((await first.client.closed).code).toBe(1000);
    expect(harness.emulator.sessions()[0]?.connectedSockets).toBe(2);
  });

  it('leaves the session when a socket closes, and keeps it for a resume', async () => {
    harness = await startHarness();
    const { client } = await harness.guest('resume');
    await client.request(textMessage('resume', 'before'), 'StructuredMessage');
    client.close();
    await client.closed;
    await expect.poll(() => harness.emulator.sessions()[0]?.connectedSockets).toBe(0);
    const back = await harness.guest('resume');
    expect((back.session as Frame).body).toMatchObject({ newSession: false });
    expect(harness.emulator.transcript('resume')).toHaveLength(1);
  });
});
