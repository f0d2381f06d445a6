import { expect, it } from 'vitest';
import { DEFAULT_CONSTRAINTS } from '../../src/domain/constraints.js';
import { DEFAULT_QUOTAS, type Quotas } from '../../src/policy/team-policy.js';
import { QuotaStore } from '../../src/store/quotas.js';
import { SessionStore } from '../../src/store/sessions.js';
import { WorkerStore } from '../../src/store/workers.js';
import { describeOnEngines, uniqueId } from './harness.js';

const roomy: Quotas = { ...DEFAULT_QUOTAS };

describeOnEngines('QuotaStore', ({ store, clock }) => {
  const quotas = () => new QuotaStore(store());
  const team = () => uniqueId('t').slice(0, 30).toLowerCase().replaceAll('_', '-');

  it('counts open sessions per subject up to the limit, idempotently, and frees a slot on release', async () => {
    const q = quotas();
    const holder = { team: team(), subject: 'ada@example.com' };
    const limits = { ...roomy, openSessionsPerSubject: 2 };
    expect(await q.reserveSession(holder, 's-1', limits)).toBeUndefined();
    // A retried start of the same session does not count twice.
    expect(await q.reserveSession(holder, 's-1', limits)).toBeUndefined();
    expect(await q.reserveSession(holder, 's-2', limits)).toBeUndefined();
    const refused = await q.reserveSession(holder, 's-3', limits);
    expect(refused).toMatchObject({ quota: 'openSessionsPerSubject', limit: 2 });
    expect(refused?.retryAfterMs).toBeGreaterThan(0);
    expect(refused?.message).toMatch(/open sessions/);
    // The refused start left nothing charged, for the subject or the team.
    expect((await q.openSessions(holder)).sort()).toEqual(['s-1', 's-2']);
    expect((await q.openSessions({ team: holder.team })).sort()).toEqual(['s-1', 's-2']);
    await q.releaseSession(holder, 's-1');
    await q.releaseSession(holder, 's-1');
    expect(await q.reserveSession(holder, 's-3', limits)).toBeUndefined();
    // Another subject of the team has slots of its own.
    expect(await q.reserveSession({ ...holder, subject: 'bob' }, 's-4', limits)).toBeUndefined();
  });

  it('counts the whole team across subjects, and gives the subject its charge back when the team is full', async () => {
    const q = quotas();
    const t = team();
    const limits = { ...roomy, openSessionsPerTeam: 2 };
    expect(await q.reserveSession({ team: t, subject: 'a' }, 'a-1', limits)).toBeUndefined();
    expect(await q.reserveSession({ team: t, subject: 'b' }, 'b-1', limits)).toBeUndefined();
    expect(await q.reserveSession({ team: t, subject: 'c' }, 'c-1', limits)).toMatchObject({
      quota: 'openSessionsPerTeam',
    });
    expect(await q.openSessions({ team: t, subject: 'c' })).toEqual([]);
  });

  it('frees the slots of sessions that ended without a release when the set is found full', async () => {
    const ctx = store();
    const q = new QuotaStore(ctx);
    const sessions = new SessionStore(ctx);
    const holder = { team: team(), subject: undefined };
    const limits = { ...roomy, openSessionsPerSubject: 1 };
    const first = uniqueId('s');
    await sessions.create({
      sessionId: first,
      team: holder.team,
      deploymentId: 'dep-1',
      constraints: DEFAULT_CONSTRAINTS,
    });
    expect(await q.reserveSession(holder, first, limits)).toBeUndefined();
    expect(await q.reserveSession(holder, uniqueId('s'), limits)).toMatchObject({
      quota: 'openSessionsPerSubject',
    });
    // The session ends, and its release is lost (a worker crashed in between).
    const workerId = uniqueId('w');
    await new WorkerStore(ctx).heartbeat({ workerId, load: 0 });
    const { epoch } = await sessions.claim(first, workerId, { staleAfterMs: 15_000 });
    await sessions.end(first, 'guest', { workerId, epoch });
    const second = uniqueId('s');
    expect(await q.reserveSession(holder, second, limits)).toBeUndefined();
    expect(await q.openSessions(holder)).toEqual([second]);
  });

  it('refuses the starts of a minute past the limit, until the next minute', async () => {
    const q = quotas();
    const holder = { team: team(), subject: 'ci-job' };
    const limits = { ...roomy, startsPerMinutePerSubject: 2 };
    clock.now = Math.ceil(clock.now / 60_000) * 60_000 + 10_000;
    expect(await q.reserveSession(holder, 'm-1', limits)).toBeUndefined();
    expect(await q.reserveSession(holder, 'm-2', limits)).toBeUndefined();
    const refused = await q.reserveSession(holder, 'm-3', limits);
    expect(refused).toMatchObject({ quota: 'startsPerMinutePerSubject', limit: 2, retryAfterMs: 50_000 });
    expect(await q.openSessions(holder)).not.toContain('m-3');
    clock.now += 50_000;
    expect(await q.reserveSession(holder, 'm-3', limits)).toBeUndefined();
  });

  it('charges upload bytes to the hour, refusing what would pass the limit and charging nothing then', async () => {
    const q = quotas();
    const holder = { team: team(), subject: 'ada' };
    const limits = { ...roomy, uploadBytesPerHourPerSubject: 1000, uploadBytesPerHourPerTeam: 1500 };
    expect(await q.chargeUpload(holder, 600, limits)).toBeUndefined();
    expect(await q.chargeUpload(holder, 400, limits)).toBeUndefined();
    expect(await q.chargeUpload(holder, 1, limits)).toMatchObject({ quota: 'uploadBytesPerHourPerSubject' });
    // The team's budget is shared: bob may use what is left of it, and no more.
    const bob = { ...holder, subject: 'bob' };
    expect(await q.chargeUpload(bob, 600, limits)).toMatchObject({ quota: 'uploadBytesPerHourPerTeam' });
    expect(await q.chargeUpload(bob, 500, limits)).toBeUndefined();
    // One upload bigger than the whole budget is refused outright.
    expect(await q.chargeUpload({ ...holder, team: team() }, 2000, limits)).toMatchObject({
      quota: 'uploadBytesPerHourPerSubject',
    });
  });

  it('never lets concurrent starts pass the limit', async () => {
    const q = quotas();
    const holder = { team: team(), subject: 'burst' };
    const limits = { ...roomy, openSessionsPerSubject: 5 };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => q.reserveSession(holder, `b-${i}`, limits)),
    );
    expect(results.filter((r) => r === undefined)).toHaveLength(5);
    expect(await q.openSessions(holder)).toHaveLength(5);
  });
});
