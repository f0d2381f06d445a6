/**
 * Which session each frontend connection is on, remembered by the handlers of one container (a Lambda
 * container, or local mode's process): a frame on a connection this container has seen needs no read of
 * the connections table. A remembered answer can be stale (another container attached the connection to
 * another session since), so it is only ever used together with the session item, which records its
 * connections (`conns`): the session must still name the connection, else the table is read.
 */
import { BoundedMap } from '../domain/bounded-map.js';

export interface CachedConnection {
  readonly sessionId: string;
}

/** At most this many connections are remembered (the least recently seen go first). */
const LIMIT = 10_000;

export class ConnectionCache extends BoundedMap<string, CachedConnection> {
  constructor(limit = LIMIT) {
    super(limit);
  }
}
