import { expect, it } from 'vitest';
import { ConnectionStore, MAX_CONNECTION_DURATION_MS } from '../../src/store/connections.js';
import { codeOf, describeOnEngines, uniqueId } from './harness.js';

describeOnEngines('ConnectionStore', ({ store, clock }) => {
  const connections = () => new ConnectionStore(store());

  it('puts a connection with a TTL beyond the 2 h maximum connection duration and reads it back', async () => {
    const c = connections();
    const connectionId = uniqueId('conn');
    const put = await c.put({ connectionId, team: 't', role: 'guest', connectedAt: clock.now });
    expect(put.expiresAt * 1000).toBeGreaterThan(clock.now + MAX_CONNECTION_DURATION_MS);
    expect(await c.get(connectionId)).toEqual(put);
    expect(put.sessionId).toBeUndefined();
  });

  it('attaches a connection to a session and lists the session connections', async () => {
    const c = connections();
    const sessionId = uniqueId('s');
    const a = uniqueId('conn');
    const b = uniqueId('conn');
    const other = uniqueId('conn');
    await c.put({ connectionId: a, team: 't', role: 'guest', connectedAt: clock.now });
    await c.put({ connectionId: b, team: 't', role: 'agent-console', connectedAt: clock.now, sessionId });
    await c.put({
      connectionId: other,
      team: 't',
      role: 'guest',
      connectedAt: clock.now,
      sessionId: uniqueId('s'),
    });
    expect((await c.attach(a, sessionId)).sessionId).toBe(sessionId);
    const listed = await c.listBySession(sessionId);
    expect(listed.map((x) => x.connectionId).sort()).toEqual([a, b].sort());
    expect(listed.find((x) => x.connectionId === b)?.role).toBe('agent-console');
  });

  it('refuses to attach a connection that does not exist (STORE_NOT_FOUND) and creates nothing', async () => {
    const c = connections();
    const connectionId = uniqueId('conn');
    expect(await codeOf(c.attach(connectionId, uniqueId('s')))).toBe('STORE_NOT_FOUND');
    expect(await c.get(connectionId)).toBeUndefined();
  });

  it('deletes idempotently', async () => {
    const c = connections();
    const sessionId = uniqueId('s');
    const connectionId = uniqueId('conn');
    await c.put({ connectionId, team: 't', role: 'guest', connectedAt: clock.now, sessionId });
    await c.delete(connectionId);
    await c.delete(connectionId);
    expect(await c.get(connectionId)).toBeUndefined();
    expect(await c.listBySession(sessionId)).toEqual([]);
  });

  it('does not return rows past their expiry (a $disconnect that never came)', async () => {
    const c = connections();
    const sessionId = uniqueId('s');
    const stale = uniqueId('conn');
    await c.put({ connectionId: stale, team: 't', role: 'guest', connectedAt: clock.now, sessionId });
    const saved = clock.now;
    try {
      clock.now += MAX_CONNECTION_DURATION_MS + 60 * 60 * 1000;
      const fresh = uniqueId('conn');
      await c.put({ connectionId: fresh, team: 't', role: 'guest', connectedAt: clock.now, sessionId });
      expect(await c.get(stale)).toBeUndefined();
      expect((await c.listBySession(sessionId)).map((x) => x.connectionId)).toEqual([fresh]);
      expect(await codeOf(c.attach(stale, sessionId))).toBe('STORE_NOT_FOUND');
    } finally {
      clock.now = saved;
    }
  });

  it('refuses a row over 400 KB with STORE_ITEM_TOO_LARGE and writes nothing', async () => {
    const c = connections();
    const connectionId = uniqueId('conn');
    const team = 'x'.repeat(401 * 1024);
    expect(await codeOf(c.put({ connectionId, team, role: 'guest', connectedAt: clock.now }))).toBe(
      'STORE_ITEM_TOO_LARGE',
    );
    expect(await c.get(connectionId)).toBeUndefined();
  });

  it('rejects unknown options', () => {
    expect(() => new ConnectionStore(store(), { ttlMargin: 1 } as never)).toThrow(TypeError);
  });
});
