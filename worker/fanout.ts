/**
 * Upstream → frontends: an event goes to each of a session's connections through the public API's
 * `@connections` endpoint. The runner keeps the connections in memory (read once when it opens, added by
 * `attach` doorbells, re-read now and then), so a post costs no store read. A gone connection (410) loses
 * its row (ManagementClient does it) and is reported so the runner forgets it; any other failure is
 * logged and does not stop the other connections. Nothing here is stored: the transcript is the durable
 * record, and a frontend that missed an event reads it back on resume.
 */
import type { ManagementClient } from '../src/gateway/management-client.js';
import type { Log } from '../src/logging/log.js';
import { type ServerEvent, serializeEvent } from '../src/protocol/index.js';
import type { ConnectionRecord, ConnectionStore } from '../src/store/connections.js';

export class Fanout {
  readonly #connections: ConnectionStore;
  readonly #gateway: ManagementClient;
  readonly #log: Log;

  constructor(deps: { connections: ConnectionStore; gateway: ManagementClient; log: Log }) {
    this.#connections = deps.connections;
    this.#gateway = deps.gateway;
    this.#log = deps.log;
  }

  /** The session's connections as the store lists them (one Query on `bySession`). */
  async connectionsOf(sessionId: string): Promise<string[]> {
    return (await this.#connections.listBySession(sessionId)).map((c) => c.connectionId);
  }

  /** The connection's row (its token's expiry), or undefined when it is gone. */
  connection(connectionId: string): Promise<ConnectionRecord | undefined> {
    return this.#connections.get(connectionId);
  }

  /** Closes connections through the gateway (their `$disconnect` follows); gone ones count as closed. */
  async close(sessionId: string, connectionIds: readonly string[]): Promise<void> {
    await Promise.all(
      connectionIds.map(async (connectionId) => {
        try {
          await this.#gateway.delete(connectionId);
        } catch (error) {
          this.#log.warn('closing a frontend connection failed', { sessionId, connectionId, error });
        }
      }),
    );
  }

  /** Posts `event` to `connectionIds`; resolves with the ids that are gone (410). */
  async post(sessionId: string, connectionIds: readonly string[], event: ServerEvent): Promise<string[]> {
    if (connectionIds.length === 0) return [];
    const body = serializeEvent(event);
    const gone: string[] = [];
    await Promise.all(
      connectionIds.map(async (connectionId) => {
        try {
          const result = await this.#gateway.post(connectionId, body);
          if (result.gone) gone.push(connectionId);
        } catch (error) {
          this.#log.warn('post to a frontend connection failed', { sessionId, connectionId, error });
        }
      }),
    );
    return gone;
  }
}
