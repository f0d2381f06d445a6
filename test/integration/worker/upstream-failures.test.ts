/**
 * When Genesys refuses a session or cannot be reached, the frontend is told why (issue 17): the refusal's
 * code and words with `upstream_rejected` and a `sessionEnded` that carries them; for an unreachable
 * Genesys, `upstream` events with the reason and the next attempt, then `upstream_unavailable` after the
 * worker's bound (UPSTREAM_UNAVAILABLE_AFTER_MS), and the recovery when it comes back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ANY_TEAM, UNLIMITED_QUOTAS } from '../../../src/policy/team-policy.js';
import { closedPort } from '../../support/closed-port.js';
import { is, type System, startSystem } from './harness.js';

describe('worker: upstream failures reach the frontend with their reason', () => {
  let system: System | undefined;
  afterEach(async () => {
    await system?.close();
    system = undefined;
  });

  it('a deployment Genesys does not know: upstream_rejected with its status, and sessionEnded saying why', async () => {
    system = await startSystem({
      teamPolicy: (deploymentId) => ({
        defaults: { quotas: UNLIMITED_QUOTAS },
        teams: { [ANY_TEAM]: { deployments: [{ id: deploymentId }, { id: 'no-such-deployment' }] } },
      }),
    });
    await system.spawnWorker('w-rejected');
    const guest = await system.guest();
    const sessionId = await guest.start({ deploymentId: 'no-such-deployment' });
    const error = await guest.waitFor(is('error', (e) => e.code === 'upstream_rejected'));
    expect(error.details).toMatchObject({ genesysCode: 404 });
    expect(error.message).toMatch(/deployment id and its region/);
    // Genesys' own words from the refusal's body, beside the status.
    expect(error.message).toContain('HTTP 404: Unknown deploymentId "no-such-deployment".');
    const ended = await guest.waitFor(is('sessionEnded'));
    expect(ended).toMatchObject({ sessionId, reason: 'error', code: 'upstream_rejected', genesysCode: 404 });
    expect(ended.message).toBe(error.message);
    expect((await system.relay.deps.sessions.get(sessionId))?.status).toBe('ended');
  });

  it('a refused socket: upstream events with the reason and the next attempt, then upstream_unavailable, and a session that never connected ends', async () => {
    system = await startSystem();
    const port = await closedPort();
    const wsUrl = new URL(system.emulator.wsUrl);
    wsUrl.port = String(port);
    await system.spawnWorker('w-refused', {
      defaultEndpoint: { wsUrl: wsUrl.href, apiUrl: system.emulator.httpUrl },
      upstreamUnavailableAfterMs: 2500,
    });
    const guest = await system.guest();
    const sessionId = await guest.start();
    // Sent while Genesys cannot be reached: it waits, then fails with the session, and the guest is told.
    await guest.send('anyone there?', 'c-waiting');
    const retrying = await guest.waitFor(is('upstream', (e) => e.state === 'retrying'));
    expect(retrying).toMatchObject({ sessionId, reason: 'refused', detail: 'ECONNREFUSED', attempt: 1 });
    expect(Date.parse(retrying.retryAt ?? '')).toBeGreaterThan(Date.now() - 5_000);
    expect(retrying.message).toMatch(/Nothing accepts connections/);

    const unavailable = await guest.waitFor(
      is('upstream', (e) => e.state === 'unavailable'),
      15_000,
    );
    expect(unavailable.reason).toBe('refused');
    const error = await guest.waitFor(is('error', (e) => e.code === 'upstream_unavailable'));
    expect(error).toMatchObject({ retryable: true, details: { reason: 'refused' } });
    const ended = await guest.waitFor(is('sessionEnded'));
    expect(ended).toMatchObject({ reason: 'error', code: 'upstream_unavailable' });
    expect(ended.message).toMatch(/could not be reached .* start a new one/);
    const failed = guest.events.find(
      (e) => e.type === 'status' && e.clientMessageId === 'c-waiting' && e.status === 'failed',
    );
    expect(failed).toMatchObject({ failure: { code: 'upstream_unavailable' } });
    expect((await system.relay.deps.sessions.get(sessionId))?.status).toBe('ended');
  });

  it('a live session that loses Genesys is told, keeps its session, and hears when it is back', async () => {
    system = await startSystem();
    await system.spawnWorker('w-recovers');
    const guest = await system.guest();
    const sessionId = await guest.start();
    await guest.waitFor(is('connect', (e) => e.status === 'active'));
    const token = await system.tokenOf(sessionId);
    system.emulator.faults.refuseConnects(2_500);
    system.emulator.faults.dropSockets(token, 1011);
    const retrying = await guest.waitFor(
      is('upstream', (e) => e.state === 'retrying' && e.reason === 'http'),
      10_000,
    );
    // The status, then what the emulator's refusal said in its body.
    expect(retrying.detail).toBe('HTTP 503: Refusing connections (fault injection).');
    expect(retrying.message).toContain('HTTP 503: Refusing connections (fault injection).');
    const back = await guest.waitFor(
      is('upstream', (e) => e.state === 'connected'),
      15_000,
    );
    expect(back.message).toMatch(/Connected to Genesys again/);
    expect((await system.relay.deps.sessions.get(sessionId))?.status).toBe('active');
    expect(guest.events.some((e) => e.type === 'sessionEnded')).toBe(false);
  });

  it('an upload waiting for a lost Genesys fails when the session is declared unavailable, after the reason, and works once it is back', {
    timeout: 60_000,
  }, async () => {
    system = await startSystem();
    await system.spawnWorker('w-upload-down', { upstreamUnavailableAfterMs: 2500 });
    const guest = await system.guest();
    const sessionId = await guest.start();
    await guest.waitFor(is('connect', (e) => e.status === 'active'));
    const token = await system.tokenOf(sessionId);
    // Refused until reset: the session cannot come back on its own while the upload waits.
    system.emulator.faults.refuseConnects(120_000);
    system.emulator.faults.dropSockets(token);
    const upload = (uploadId: string) =>
      guest.frame({
        action: 'upload',
        filename: 'down.txt',
        contentType: 'text/plain',
        data: Buffer.from('a file for an agent').toString('base64'),
        uploadId,
      });
    upload('up-down');
    const failed = await guest.waitFor(
      is('uploadFailed', (e) => e.uploadId === 'up-down'),
      15_000,
    );
    expect(failed.code).toBe('upstream_unavailable');
    expect(failed.message).toMatch(/try again once it says connected/);
    // The frontend was told why before the upload failed: the same moment, the same bound.
    const order = guest.events.map((e) => (e.type === 'upstream' ? `upstream:${e.state}` : e.type));
    expect(order.indexOf('upstream:unavailable')).toBeGreaterThan(-1);
    expect(order.indexOf('upstream:unavailable')).toBeLessThan(order.indexOf('uploadFailed'));

    system.emulator.faults.reset();
    // The next attempt may be a whole backoff delay away (at most its 30 s cap).
    await guest.waitFor(
      is('upstream', (e) => e.state === 'connected'),
      35_000,
    );
    upload('up-again');
    const uploaded = await guest.waitFor(is('uploaded', (e) => e.uploadId === 'up-again'));
    expect(uploaded.attachmentId).toEqual(expect.any(String));
  });

  it('a live session taken over by a worker that cannot reach Genesys is not ended: it waits, says so, and carries on', {
    timeout: 90_000,
  }, async () => {
    system = await startSystem();
    const first = await system.spawnWorker('w-first');
    const guest = await system.guest();
    const sessionId = await guest.start();
    await guest.waitFor(is('connect', (e) => e.status === 'active'));
    // The next owner's bound is short, and Genesys refuses it until reset.
    await system.spawnWorker('w-next', { upstreamUnavailableAfterMs: 2500 });
    system.emulator.faults.refuseConnects(120_000);
    await first.kill('SIGKILL');
    const unavailable = await guest.waitFor(
      is('upstream', (e) => e.state === 'unavailable'),
      30_000,
    );
    expect(unavailable.message).toMatch(/keeps trying/);
    expect(await system.owner(sessionId)).toBe('w-next');
    expect((await system.relay.deps.sessions.get(sessionId))?.status).toBe('active');
    await guest.send('still here?', 'c-after');

    system.emulator.faults.reset();
    // The next attempt may be a whole backoff delay away (at most its 30 s cap).
    await guest.waitFor(
      is('upstream', (e) => e.state === 'connected'),
      35_000,
    );
    await guest.waitFor(is('status', (e) => e.clientMessageId === 'c-after' && e.status === 'sent'));
    expect(guest.events.some((e) => e.type === 'sessionEnded')).toBe(false);
  });
});
