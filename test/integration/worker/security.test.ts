/**
 * What the session's owner enforces for a shared relay (docs/security.md): the team policy again before
 * anything goes upstream, idle sessions ended and their slots freed, and connections closed when their
 * access token expires even if they stay silent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ANY_TEAM, TeamPolicy, UNLIMITED_QUOTAS } from '../../../src/policy/team-policy.js';
import { openSocket } from '../relay/harness.js';
import { Guest, is, type System, sleep, startSystem, waitUntil } from './harness.js';

let system: System | undefined;
afterEach(async () => {
  await system?.close();
  system = undefined;
});

describe('worker: the team policy, idle sessions and expired tokens', () => {
  it('ends a session its team policy does not allow without opening anything upstream, and says why', async () => {
    system = await startSystem();
    // The relay allowed the start; this worker's policy (changed since) does not.
    await system.spawnWorker('w-policy', { teamPolicy: TeamPolicy.from({ teams: {} }) });
    const sockets = system.emulator.sessions().length;
    const guest = await system.guest();
    const sessionId = await guest.start();
    const refused = await guest.waitFor(is('error', (e) => e.code === 'deployment_not_allowed'));
    expect(refused.message).toMatch(/not allowed for team "team-a"/);
    await guest.waitFor(is('sessionEnded', (e) => e.reason === 'error'));
    expect(await system.relay.deps.sessions.get(sessionId)).toMatchObject({
      status: 'ended',
      endReason: 'error',
    });
    expect(system.emulator.sessions()).toHaveLength(sockets);
    // Its open-sessions slot is given back.
    await waitUntil(
      async () => !(await system?.relay.deps.quotas.openSessions({ team: 'team-a' }))?.includes(sessionId),
      5_000,
      'slot released',
    );
  });

  it('ends a session that names no Genesys region on a worker with no default endpoint, and says what to set', async () => {
    system = await startSystem();
    // A worker started by hand without GENESYS_*: nowhere to open a session whose deployment has no region.
    await system.spawnWorker('w-no-endpoint', { defaultEndpoint: null });
    const sockets = system.emulator.sessions().length;
    const guest = await system.guest();
    const sessionId = await guest.start();
    const refused = await guest.waitFor(is('error', (e) => e.code === 'deployment_not_allowed'));
    expect(refused.message).toMatch(/has no Genesys region and this worker has no default one/);
    expect(refused.message).toMatch(/GENESYS_REGION/);
    await guest.waitFor(is('sessionEnded', (e) => e.reason === 'error'));
    expect(await system.relay.deps.sessions.get(sessionId)).toMatchObject({ status: 'ended' });
    expect(system.emulator.sessions()).toHaveLength(sockets);
  });

  it('ends a session idle past its team timeout without a frontend, upstream too, and keeps one with a page open', async () => {
    system = await startSystem({
      teamPolicy: (deploymentId) => ({
        defaults: { quotas: UNLIMITED_QUOTAS, idleTimeoutSeconds: 1 },
        teams: { [ANY_TEAM]: { deployments: [{ id: deploymentId }] } },
      }),
    });
    await system.spawnWorker('w-idle');
    const left = await system.guest();
    const leftId = await left.start();
    await left.waitFor(is('connect', (e) => e.status === 'active'));
    const token = await system.tokenOf(leftId);
    const stays = await system.guest();
    const staysId = await stays.start();
    await stays.waitFor(is('connect', (e) => e.status === 'active'));
    left.ws.close();

    await waitUntil(
      async () => (await system?.relay.deps.sessions.get(leftId))?.status === 'ended',
      15_000,
      'the idle session ended',
    );
    expect(await system.relay.deps.sessions.get(leftId)).toMatchObject({ endReason: 'expired' });
    // Its upstream socket was ended first; the emulator counts it closed once the close reaches it.
    await waitUntil(
      () => (system?.emulator.sessions().find((s) => s.token === token)?.connectedSockets ?? 0) === 0,
      5_000,
      'the upstream socket closed',
    );
    // The slot is given back as the runner stops, just after the session is marked ended.
    await waitUntil(
      async () => !(await system?.relay.deps.quotas.openSessions({ team: 'team-a' }))?.includes(leftId),
      5_000,
      'slot released',
    );
    // The other one has had no traffic either, but its page is open.
    await sleep(2_000);
    expect((await system.relay.deps.sessions.get(staysId))?.status).toBe('active');
  });

  it('closes a silent connection when its access token expires, with token_expired first', async () => {
    system = await startSystem();
    await system.spawnWorker('w-expiry');
    const token = await system.relay.token({ team: 'team-a' }, { ttlSeconds: 4, now: Date.now() - 1_000 });
    const ws = await openSocket(`${system.relay.publicApi.url}?token=${encodeURIComponent(token)}`);
    const guest = new Guest(ws);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const sessionId = await guest.start();
    await guest.waitFor(is('connect', (e) => e.status === 'active'));
    // No frame after this: the owner notices the expiry on its own.
    const expired = await guest.waitFor(
      is('error', (e) => e.code === 'token_expired'),
      10_000,
    );
    expect(expired.retryable).toBe(false);
    await closed;
    await waitUntil(
      async () => ((await system?.relay.deps.sessions.get(sessionId))?.conns ?? ['?']).length === 0,
      5_000,
      'the connection is off the session',
    );
  });
});
