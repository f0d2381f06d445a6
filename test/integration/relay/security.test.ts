/**
 * A shared relay, tried as a hostile user would (docs/security.md): where sessions may connect, how many
 * one subject or team may hold, who may act in a session, and how long a connection outlives its token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_QUOTAS, type TeamPolicyDocument } from '../../../src/policy/team-policy.js';
import type { ServerEvent } from '../../../src/protocol/index.js';
import {
  allowMedia,
  Client,
  closedSocket,
  DEPLOYMENT_ID,
  openSocket,
  type Relay,
  type RelayOptions,
  startRelay,
} from './harness.js';

let relay: Relay | undefined;

async function start(options: RelayOptions = {}): Promise<Relay> {
  relay = await startRelay(options);
  return relay;
}

afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

function expectError(event: ServerEvent, code: string): Extract<ServerEvent, { type: 'error' }> {
  expect(event).toMatchObject({ type: 'error', code });
  return event as Extract<ServerEvent, { type: 'error' }>;
}

async function sessionItems(r: Relay): Promise<Record<string, unknown>[]> {
  const snapshot = await r.snapshot();
  return (snapshot.sessions as Record<string, unknown>[]).filter((item) => item.sk === 'session');
}

const IE_DEPLOYMENT = '5f0b0c1e-6a55-4e0e-9d5b-0f6a3c1d2e4f';

describe('upstream allowlist: the team policy', () => {
  const policy: TeamPolicyDocument = {
    teams: {
      blue: { deployments: [{ id: DEPLOYMENT_ID }, { id: IE_DEPLOYMENT, region: 'eu_west_1' }] },
    },
  };

  it('refuses a region that is not a Genesys region, before anything is stored or resolved', async () => {
    const r = await start({ teamPolicy: policy });
    const client = await r.client({ team: 'blue' });
    for (const region of ['attacker.net', 'webmessaging.mypurecloud.ie.attacker.net', 'localhost']) {
      const refused = expectError(
        await client.request({ action: 'connect', deploymentId: IE_DEPLOYMENT, region }),
        'deployment_not_allowed',
      );
      expect(refused.retryable).toBe(false);
    }
    expect(await sessionItems(r)).toEqual([]);
  });

  it('refuses a deployment the team does not list, and one listed for another region', async () => {
    const r = await start({ teamPolicy: policy });
    const client = await r.client({ team: 'blue' });
    const unknown = expectError(
      await client.request({ action: 'connect', deploymentId: 'someone-elses-deployment' }),
      'deployment_not_allowed',
    );
    expect(unknown.message).toMatch(/not allowed for team "blue".*team policy/);
    const wrongRegion = expectError(
      await client.request({ action: 'connect', deploymentId: IE_DEPLOYMENT, region: 'mypurecloud.de' }),
      'deployment_not_allowed',
    );
    expect(wrongRegion.message).toMatch(/only on mypurecloud\.ie/);
    expect(await sessionItems(r)).toEqual([]);
  });

  it('starts a listed deployment in its region, and stores the region domain the policy resolved', async () => {
    const r = await start({ teamPolicy: policy });
    const client = await r.client({ team: 'blue' });
    const started = await client.start({ deploymentId: IE_DEPLOYMENT, region: 'eu-west-1' });
    expect(started.deploymentId).toBe(IE_DEPLOYMENT);
    expect(await r.deps.sessions.get(started.sessionId)).toMatchObject({ region: 'mypurecloud.ie' });
    // Without a deployment id: the team's first, on the relay's configured endpoint.
    const other = await r.client({ team: 'blue' });
    const plain = await other.start();
    expect(plain.deploymentId).toBe(DEPLOYMENT_ID);
    expect((await r.deps.sessions.get(plain.sessionId))?.region).toBeUndefined();
  });

  it('refuses every deployment to a team the policy does not name', async () => {
    const r = await start({ teamPolicy: policy });
    const client = await r.client({ team: 'red' });
    const refused = expectError(await client.request({ action: 'connect' }), 'deployment_not_allowed');
    expect(refused.message).toMatch(/Team "red" may not open any Genesys deployment/);
  });
});

describe('quotas', () => {
  it('refuses a start past the open sessions of a subject with rate_limited, the quota and retryAfterMs', async () => {
    const r = await start({
      teamPolicy: {
        defaults: { quotas: { openSessionsPerSubject: 2 } },
        teams: { '*': { deployments: [{ id: DEPLOYMENT_ID }] } },
      },
    });
    const ada = await r.client({ team: 'blue', subject: 'ada' });
    await ada.start();
    await ada.start();
    const refused = expectError(await ada.request({ action: 'connect' }), 'rate_limited');
    expect(refused).toMatchObject({
      retryable: true,
      details: { quota: 'openSessionsPerSubject', limit: 2 },
    });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(await sessionItems(r)).toHaveLength(2);
    // A teammate has slots of their own.
    const bob = await r.client({ team: 'blue', subject: 'bob' });
    await bob.start();
  });

  it('refuses starts past the team a minute', async () => {
    const r = await start({
      teamPolicy: {
        defaults: { quotas: { ...DEFAULT_QUOTAS, startsPerMinutePerTeam: 3 } },
        teams: { '*': { deployments: [{ id: DEPLOYMENT_ID }] } },
      },
    });
    for (const subject of ['a', 'b', 'c']) await (await r.client({ team: 'blue', subject })).start();
    const d = await r.client({ team: 'blue', subject: 'd' });
    const refused = expectError(await d.request({ action: 'connect' }), 'rate_limited');
    expect(refused.details).toMatchObject({ quota: 'startsPerMinutePerTeam', limit: 3 });
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
  });
});

describe('upload quota', () => {
  it("refuses upload bytes past the subject's hour with rate_limited, storing nothing for it", async () => {
    const r = await start({
      teamPolicy: {
        defaults: { quotas: { uploadBytesPerHourPerSubject: 1500 } },
        teams: { '*': { deployments: [{ id: DEPLOYMENT_ID }] } },
      },
    });
    const ada = await r.client({ team: 'blue', subject: 'ada' });
    const { sessionId } = await ada.start();
    const upload = (size: number, uploadId: string) =>
      ada.request({ action: 'upload', uploadId, filename: 'a.png', contentType: 'image/png', size });
    // The deployment accepts images (as the worker records once Genesys says so).
    await allowMedia(r, sessionId, { maxFileSizeKB: 10 });
    expect(await upload(1000, 'u-1')).toMatchObject({ type: 'ack', uploadId: 'u-1' });
    const refused = expectError(await upload(600, 'u-2'), 'rate_limited');
    expect(refused.details).toMatchObject({ quota: 'uploadBytesPerHourPerSubject', limit: 1500 });
    expect(refused.retryAfterMs).toBeLessThanOrEqual(3_600_000);
    expect((await r.deps.sessions.get(sessionId))?.pending['upload#u-2']).toBeUndefined();
    expect(await upload(500, 'u-3')).toMatchObject({ type: 'ack', uploadId: 'u-3' });
  });
});

describe('session ownership', () => {
  it('lets no teammate resume, send into or take over by start key a session someone else started', async () => {
    const r = await start();
    const ada = await r.client({ team: 'blue', subject: 'ada' });
    const started = await ada.start({ clientMessageId: 'start-1' });
    const bob = await r.client({ team: 'blue', subject: 'bob' });
    const resumed = expectError(
      await bob.request({ action: 'connect', sessionId: started.sessionId, afterSequenceId: 0 }),
      'forbidden',
    );
    expect(resumed.message).toMatch(/started by someone else/);
    // Bob's send has no session to go to: the resume attached nothing.
    expectError(await bob.request({ action: 'send', text: 'hijack' }), 'not_connected');
    // The same start key is Bob's own: a new session, not Ada's.
    const own = await bob.start({ clientMessageId: 'start-1' });
    expect(own.sessionId).not.toBe(started.sessionId);
    expect(await r.deps.sessions.get(own.sessionId)).toMatchObject({ subject: 'bob' });
    expect(await r.deps.sessions.get(started.sessionId)).toMatchObject({ subject: 'ada' });
  });

  it('lets agent-console watch (resume, history) but not send; admin may also end, never send', async () => {
    const r = await start();
    const ada = await r.client({ team: 'blue', subject: 'ada' });
    const { sessionId } = await ada.start();
    expect(await ada.request({ action: 'send', text: 'hello' })).toMatchObject({ type: 'message' });

    const console = await r.client({ team: 'blue', role: 'agent-console', subject: 'supervisor' });
    expect(await console.request({ action: 'connect', sessionId })).toMatchObject({ type: 'connect' });
    expect(await console.request({ action: 'history' })).toMatchObject({ type: 'history', sessionId });
    expectError(await console.request({ action: 'send', text: 'x' }), 'forbidden');

    const admin = await r.client({ team: 'blue', role: 'admin', subject: 'ops' });
    expect(await admin.request({ action: 'connect', sessionId })).toMatchObject({ type: 'connect' });
    expect(await admin.request({ action: 'history' })).toMatchObject({ type: 'history', sessionId });
    const send = expectError(await admin.request({ action: 'send', text: 'x' }), 'forbidden');
    expect(send.message).toMatch(/admin role may watch/);
    expectError(await admin.request({ action: 'typing' }), 'forbidden');
    const ended = await admin.request({ action: 'end' });
    expect(ended.type).not.toBe('error');
    // An admin's own sessions are its own to use.
    const mine = await r.client({ team: 'blue', role: 'admin', subject: 'ops' });
    await mine.start();
    expect(await mine.request({ action: 'send', text: 'mine' })).toMatchObject({ type: 'message' });
  });
});

describe('token expiry on an open connection', () => {
  it('answers the first frame after exp with token_expired and closes the connection', async () => {
    const r = await start();
    // Valid at the handshake, expiring about four seconds later: time for the handshake and a connect on
    // a loaded machine (with one second, a CI run once saw the connect itself refused).
    const token = await r.token({ team: 'blue', subject: 'ada' }, { ttlSeconds: 5, now: Date.now() - 1000 });
    const ws = await openSocket(`${r.publicApi.url}?token=${encodeURIComponent(token)}`);
    const client = new Client(ws, r.connectionIds.at(-1) as string);
    const { sessionId } = await client.start();
    const row = await r.deps.connections.get(client.connectionId);
    expect(row?.tokenExpiresAt).toBeGreaterThan(Date.now() - 1000);
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, (row?.tokenExpiresAt ?? 0) - Date.now() + 50)),
    );
    const closed = closedSocket(ws);
    const refused = expectError(await client.request({ action: 'send', text: 'late' }), 'token_expired');
    expect(refused).toMatchObject({ action: 'send', retryable: false });
    await closed;
    // The frame was not handled: nothing was queued.
    const session = await r.deps.sessions.get(sessionId);
    expect(Object.values(session?.pending ?? {}).filter((c) => c.type === 'send')).toEqual([]);
  });
});
