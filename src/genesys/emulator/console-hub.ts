/**
 * The live feed of `/emulator/console`: every session's frames, both directions, and session changes, as
 * JSON text frames. Listeners only; the console socket ignores what it is sent.
 */
import { WebSocket } from 'ws';
import type { ServerFrame } from './frames.js';
import type { EmulatorSessionSnapshot } from './sessions.js';

export type ConsoleEvent =
  /** First event on every console socket. */
  | {
      readonly type: 'hello';
      readonly deploymentId: string;
      readonly wsUrl: string;
      readonly httpUrl: string;
      readonly sessions: readonly EmulatorSessionSnapshot[];
    }
  /** A session was created or changed (sockets, conversation, read-only, expiry, attributes, messages). */
  | { readonly type: 'session'; readonly session: EmulatorSessionSnapshot }
  /** A session was cleared (Presence Clear) and is gone. */
  | { readonly type: 'sessionRemoved'; readonly token: string }
  /** A guest socket opened or closed. */
  | {
      readonly type: 'socket';
      readonly socketId: string;
      readonly state: 'open' | 'closed';
      readonly token: string | null;
      readonly code?: number;
    }
  /** A request a guest sent (as parsed JSON; `raw` when it was not JSON). */
  | {
      readonly type: 'fromGuest';
      readonly socketId: string;
      readonly token: string | null;
      readonly request: unknown;
    }
  /**
   * A frame the emulator delivered: to one socket (`socketId`) or to every socket of the session
   * (`socketId` null). Outbound pushes appear when delivered, after any fault.
   */
  | {
      readonly type: 'toGuest';
      readonly socketId: string | null;
      readonly token: string | null;
      readonly frame: ServerFrame;
    };

export class ConsoleHub {
  readonly #clients = new Set<WebSocket>();

  add(ws: WebSocket, hello: ConsoleEvent): void {
    this.#clients.add(ws);
    ws.on('close', () => this.#clients.delete(ws));
    ws.on('error', () => this.#clients.delete(ws));
    ws.send(JSON.stringify(hello));
  }

  get size(): number {
    return this.#clients.size;
  }

  publish(event: ConsoleEvent): void {
    if (this.#clients.size === 0) return;
    const data = JSON.stringify(event);
    for (const ws of this.#clients) if (ws.readyState === WebSocket.OPEN) ws.send(data);
  }

  clients(): WebSocket[] {
    return [...this.#clients];
  }
}
