/**
 * The upstream socket, fenced by the lease: a frame is only sent while the worker's lease is valid.
 * GuestSession's own timers (pacing, keep-alive, resends) fire by themselves after a stall; wrapping
 * the socket is the one place where every upstream write passes, so a worker that lost its sessions while
 * stalled cannot send a message upstream that the new owner sends too.
 *
 * A frame refused by the fence is held, in order with every frame after it, until the lease is renewed:
 * the worker renews it only after it has closed the sessions that another worker claimed meanwhile
 * (worker.ts `#beat`), and closing a session closes its socket, which drops what it held. So a held frame
 * goes out only for a session that is still this worker's. A lease that lapses for a moment (a slow
 * heartbeat under load) then costs the frames a delay, not the socket: terminating it made every busy
 * session reconnect, with a backoff that grew with each lapse (docs/performance.md). A socket that holds
 * more than MAX_HELD_FRAMES is terminated as before, and the session reconnects and reconciles.
 */
import type { SocketLike, SocketOptions, WebSocketConstructor } from '../src/genesys/client/index.js';

export interface UpstreamFence {
  /** May a frame go upstream now? */
  allows(): boolean;
  /** Resolves when frames may go again (a renewal), or to be asked again (`allows` then decides). */
  ready(): Promise<void>;
  /** A frame was held back (for counters and logs). */
  held(): void;
}

/** Frames one socket holds while the lease is lapsed before it gives up the socket instead. */
export const MAX_HELD_FRAMES = 200;

export function fencedWebSocket(Base: WebSocketConstructor, fence: UpstreamFence): WebSocketConstructor {
  return class FencedSocket implements SocketLike {
    readonly #socket: SocketLike;
    /** Frames waiting for the lease, oldest first; undefined once the socket is closed or closing. */
    #held: string[] | undefined = [];
    #waiting = false;

    constructor(url: string, options: SocketOptions) {
      // The options go on as they are: `maxPayload` among them caps what the upstream may send.
      this.#socket = new Base(url, options);
      this.#socket.on('close', () => this.#drop());
    }

    on(
      event: 'open' | 'message' | 'close' | 'error' | 'pong' | 'unexpected-response',
      listener: (...args: never[]) => void,
    ): unknown {
      // SocketLike's overloads all forward to the same `on`.
      return (this.#socket.on as (event: string, listener: (...args: never[]) => void) => unknown)(
        event,
        listener,
      );
    }

    send(data: string): void {
      const held = this.#held;
      if (held === undefined) return;
      // Nothing may overtake a held frame, whatever the fence says now.
      if (held.length === 0 && fence.allows()) {
        this.#socket.send(data);
        return;
      }
      fence.held();
      if (held.length >= MAX_HELD_FRAMES) {
        this.terminate();
        return;
      }
      held.push(data);
      if (!this.#waiting) void this.#release();
    }

    ping(): void {
      if (fence.allows()) this.#socket.ping();
    }

    close(code?: number, reason?: string): void {
      this.#drop();
      this.#socket.close(code, reason);
    }

    terminate(): void {
      this.#drop();
      this.#socket.terminate();
    }

    /** Waits for the lease, then sends what was held, in order (unless the socket went meanwhile). */
    async #release(): Promise<void> {
      this.#waiting = true;
      try {
        while (this.#held !== undefined && this.#held.length > 0) {
          await fence.ready();
          const held = this.#held;
          if (held === undefined || !fence.allows()) continue;
          this.#held = [];
          for (const frame of held) this.#socket.send(frame);
        }
      } finally {
        this.#waiting = false;
      }
    }

    #drop(): void {
      this.#held = undefined;
    }
  } as unknown as WebSocketConstructor;
}
