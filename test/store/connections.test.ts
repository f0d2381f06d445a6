import { expect, it } from 'vitest';
import {
  type ConnectionRecord,
  ConnectionStore,
  MAX_CONNECTION_DURATION_MS,
} from '../../src/store/connections.js';
import { codeOf, describeOnEngines, uniqueId } from './harness.js';

/**
 * DynamoDB Local runs TTL for real: within about half a second it deletes every row whose `expiresAt`
 * is past in real time, whatever the store's clock says. The rows here get their TTL from the test's
 * clock, which once started at a fixed date now past: each row then vanished at DynamoDB Local's next
 * sweep, so a test that writes several rows and reads them back ("attaches … lists": three puts, an
 * attach, a query) failed whenever a sweep fell between its writes and its read, which a loaded machine
 * made likely (3 runs in 4). The clock now starts at the real hour (harness.ts); this check keeps a row
 * the test means to read from being born expired, and says why if a clock change ever does that again.
 */
function outlivesTheTest(row: ConnectionRecord): ConnectionRecord {
  expect(
    row.expiresAt * 1000,
    'a row past its TTL in real time is deleted by DynamoDB Local within a second: the store clock is in the past',
  ).toBeGreaterThan(Date.now() + 60_000);
  return row;
}

describeOnEngines('ConnectionStore', ({ store, clock }) => {
  const connections = () => new ConnectionStore(store());

  it('puts a connection with a TTL beyond the 2 h maximum connection duration and reads it back', async () => {
    const c = connections();
    const connectionId = uniqueId('conn');
    const put = outlivesTheTest(
      await c.put({ connectionId, team: 't', role: 'guest', connectedAt: clock.now }),
    );
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
    outlivesTheTest(await c.put({ connectionId: a, team: 't', role: 'guest', connectedAt: clock.now }));
    outlivesTheTest(
      await c.put({ connectionId: b, team: 't', role: 'agent-console', connectedAt: clock.now, sessionId }),
    );
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
      outlivesTheTest(
        await c.put({ connectionId: fresh, team: 't', role: 'guest', connectedAt: clock.now, sessionId }),
      );
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
