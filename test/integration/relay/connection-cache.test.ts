/**
 * A handler container remembers which session each connection is on (ConnectionCache), and checks it
 * against the session item's `conns`: a frame on a connection it has seen reads no connection row, and a
 * connection that another container moved to another session is noticed. What breaks if this fails: a
 * send lands in the session the connection left.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedactingLogger } from '../../../src/logging/logger.js';
import { TeamPolicy } from '../../../src/policy/team-policy.js';
import type { ConnectAction, ServerEvent } from '../../../src/protocol/index.js';
import { createConnectActionHandler, createRelayDeps, type RelayDeps } from '../../../src/relay/index.js';
import { DEPLOYMENT_ID, LOCAL_CREDENTIALS, type Relay, startRelay } from './harness.js';

function expectType<T extends ServerEvent['type']>(
  event: ServerEvent,
  type: T,
): Extract<ServerEvent, { type: T }> {
  if (event.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(event)}`);
  return event as Extract<ServerEvent, { type: T }>;
}

describe('relay: which session a connection is on', () => {
  let relay: Relay;
  let other: RelayDeps;
  beforeAll(async () => {
    relay = await startRelay();
    // A second container: the same tables and APIs, its own memory.
    other = createRelayDeps(
      {
        tables: relay.tables,
        publicManagementEndpoint: relay.publicApi.managementEndpoint,
        controlManagementEndpoint: relay.controlApi.managementEndpoint,
        dynamodbEndpoint: relay.dynamoEndpoint,
        region: 'us-east-1',
        teamPolicy: TeamPolicy.allowingEveryTeam(DEPLOYMENT_ID),
        workerStaleAfterMs: 15_000,
      },
      {
        logger: createRedactingLogger({ serviceName: 'other-container', logLevel: 'SILENT' }),
        credentials: LOCAL_CREDENTIALS,
      },
    );
  });
  afterAll(() => relay.close());

  it('reads no connection row for a connection this container has seen', async () => {
    const client = await relay.client({ team: 'blue' });
    const { sessionId } = await client.start();
    const reads = vi.spyOn(relay.deps.connections, 'get');
    try {
      const sent = expectType(await client.request({ action: 'send', text: 'hi' }), 'message');
      expect(sent.sessionId).toBe(sessionId);
      expect(reads).not.toHaveBeenCalled();
    } finally {
      reads.mockRestore();
    }
    expect((await relay.deps.sessions.get(sessionId))?.conns).toEqual([client.connectionId]);
  });

  it('notices a connection another container moved to another session, and follows it', async () => {
    const client = await relay.client({ team: 'blue' });
    const first = await client.start();
    // Another container starts a second session on the same connection.
    const connect = createConnectActionHandler(other);
    const frame: ConnectAction = { action: 'connect' };
    const second = await connect({
      requestContext: { connectionId: client.connectionId, authorizer: { team: 'blue', role: 'guest' } },
      frame,
    });
    const secondId = Array.isArray(second) ? second[0]?.sessionId : second.sessionId;
    expect(secondId).not.toBe(first.sessionId);
    // The first session no longer names the connection; the second does.
    expect((await relay.deps.sessions.get(first.sessionId))?.conns).toEqual([]);
    expect((await relay.deps.sessions.get(secondId as string))?.conns).toEqual([client.connectionId]);
    // This container still remembers the first session: the send must land in the second all the same.
    const sent = expectType(await client.request({ action: 'send', text: 'where am I?' }), 'message');
    expect(sent.sessionId).toBe(secondId);
  });

  it('forgets a connection on $disconnect, on the session item too', async () => {
    const client = await relay.client({ team: 'blue' });
    const { sessionId } = await client.start();
    client.ws.close();
    await vi.waitFor(async () => {
      expect((await relay.deps.sessions.get(sessionId))?.conns).toEqual([]);
    });
  });
});
