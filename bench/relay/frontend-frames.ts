/**
 * What the benchmark's own relays (seed-relay.ts, floor-relay.ts) read from their sockets: the seed
 * tutorial's frontend frame and the Guest API frames they act on.
 */
import type { RawData, WebSocket } from 'ws';

/** The parts of a Guest API frame the bench relays read. */
export interface UpstreamFrame {
  readonly class?: string;
  readonly type?: string;
  readonly body?: {
    readonly id?: string;
    readonly direction?: string;
    readonly type?: string;
    readonly text?: string;
  };
}

/**
 * The text of a frontend's `{action: 'send', text}` frame; undefined for any other frame. A frame that
 * is not JSON is answered `{error: 'invalid JSON'}` on `frontend`.
 */
export function sendTextOf(frontend: WebSocket, data: RawData): string | undefined {
  let frame: { action?: unknown; text?: unknown };
  try {
    frame = JSON.parse(data.toString('utf8')) as typeof frame;
  } catch {
    frontend.send(JSON.stringify({ error: 'invalid JSON' }));
    return undefined;
  }
  if (frame.action !== 'send' || typeof frame.text !== 'string') return undefined;
  return frame.text;
}
