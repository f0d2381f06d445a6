/**
 * Upstream → frontends: an event goes to every live connection of the session through the public API's
 * `@connections` endpoint. A gone connection (410) loses its row (ManagementClient does it); any other
 * failure is logged and does not stop the other connections. Nothing here is stored: the transcript is
 * the durable record, and a frontend that missed an event reads it back on resume.
 */
import type { ManagementClient } from '../src/gateway/management-client.js';
import { type ServerEvent, serializeEvent } from '../src/protocol/index.js';
import type { ConnectionStore } from '../src/store/connections.js';
import type { WorkerLog } from './log.js';

export class Fanout {
  readonly #connections: ConnectionStore;
  readonly #gateway: ManagementClient;
  readonly #log: WorkerLog;

  constructor(deps: { connections: ConnectionStore; gateway: ManagementClient; log: WorkerLog }) {
    this.#connections = deps.connections;
    this.#gateway = deps.gateway;
    this.#log = deps.log;
  }

  /** Posts `event` to the session's connections; resolves with how many took it. */
  async post(sessionId: string, event: ServerEvent): Promise<number> {
    const body = serializeEvent(event);
    const connections = await this.#connections.listBySession(sessionId);
    const results = await Promise.all(
      connections.map(async ({ connectionId }) => {
        try {
          const result = await this.#gateway.post(connectionId, body);
          return result.gone ? 0 : 1;
        } catch (error) {
          this.#log.warn('post to a frontend connection failed', { sessionId, connectionId, error });
          return 0;
        }
      }),
    );
    return results.reduce<number>((sum, n) => sum + n, 0);
  }
}
