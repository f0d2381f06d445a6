/**
 * The upstream socket, fenced by the lease: a frame is only sent while the worker's lease is valid.
 * GuestSession's own timers (pacing, keep-alive, resends) fire by themselves after a stall; wrapping
 * the socket is the one place where every upstream write passes, so a worker that lost its sessions while
 * stalled cannot send a message upstream that the new owner sends too. A blocked frame terminates the
 * socket: the session reconnects (and reconciles from history) once the worker knows it still owns it,
 * or is closed when it does not.
 */
import type { SocketLike, SocketOptions, WebSocketConstructor } from '../src/genesys/client/index.js';

export interface UpstreamFence {
  /** May a frame go upstream now? */
  allows(): boolean;
  /** A frame was refused (for counters and logs). */
  blocked(): void;
}

export function fencedWebSocket(Base: WebSocketConstructor, fence: UpstreamFence): WebSocketConstructor {
  return class FencedSocket implements SocketLike {
    readonly #socket: SocketLike;
    constructor(url: string, options: SocketOptions) {
      // The options go on as they are: `maxPayload` among them caps what the upstream may send.
      this.#socket = new Base(url, options);
    }
    on(
      event: 'open' | 'message' | 'close' | 'error' | 'pong',
      listener: (...args: never[]) => void,
    ): unknown {
      // SocketLike's overloads all forward to the same `on`.
      return (this.#socket.on as (event: string, listener: (...args: never[]) => void) => unknown)(
        event,
        listener,
      );
    }
    send(data: string): void {
      if (!fence.allows()) {
        fence.blocked();
        this.#socket.terminate();
        return;
      }
      this.#socket.send(data);
    }
    ping(): void {
      if (fence.allows()) this.#socket.ping();
    }
    close(code?: number, reason?: string): void {
      this.#socket.close(code, reason);
    }
    terminate(): void {
      this.#socket.terminate();
    }
  } as unknown as WebSocketConstructor;
}
