/**
 * The control API's route handlers. API Gateway authorizes `$connect` itself (IAM: only worker task
 * roles may `execute-api:Invoke` it), so the handlers hold no state and write nothing: a worker learns
 * its connection id from `register` and records it in its own heartbeat row.
 */
import type { ControlErrorMessage, ControlPongMessage, RegisteredMessage } from './messages.js';
import { controlPingFrameSchema, registerFrameSchema } from './messages.js';

/** The part of an API Gateway WebSocket event these handlers read. */
export interface ControlEvent {
  readonly requestContext: { readonly connectionId: string; readonly routeKey: string };
  readonly body?: string | null;
}

export interface ControlResult {
  readonly statusCode: number;
  readonly body?: string;
}

export const CONTROL_ROUTE_KEYS = ['$connect', '$disconnect', 'register', 'ping', '$default'] as const;
export type ControlRouteKey = (typeof CONTROL_ROUTE_KEYS)[number];

export type ControlHandler = (event: ControlEvent) => Promise<ControlResult>;

function parseBody(event: ControlEvent): unknown {
  try {
    return event.body ? (JSON.parse(event.body) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function answer(message: RegisteredMessage | ControlPongMessage | ControlErrorMessage): ControlResult {
  return { statusCode: 200, body: JSON.stringify(message) };
}

function refusal(message: string): ControlResult {
  return answer({ type: 'error', message });
}

export function createControlHandlers(
  now: () => number = Date.now,
): Readonly<Record<ControlRouteKey, ControlHandler>> {
  return Object.freeze({
    $connect: async () => ({ statusCode: 200 }),
    $disconnect: async () => ({ statusCode: 200 }),
    register: async (event: ControlEvent) => {
      const frame = registerFrameSchema.safeParse(parseBody(event));
      if (!frame.success) return refusal('register needs a workerId (1-128 of A-Z a-z 0-9 . _ : -)');
      return answer({
        type: 'registered',
        workerId: frame.data.workerId,
        connectionId: event.requestContext.connectionId,
      });
    },
    ping: async (event: ControlEvent) => {
      const frame = controlPingFrameSchema.safeParse(parseBody(event));
      const nonce = frame.success ? frame.data.nonce : undefined;
      return answer({
        type: 'pong',
        time: new Date(now()).toISOString(),
        ...(nonce === undefined ? {} : { nonce }),
      });
    },
    $default: async () => refusal('unknown control action: use register or ping'),
  });
}

/** One handler for every control route (one Lambda behind all of them), dispatching on the route key. */
export function createControlHandler(now: () => number = Date.now): ControlHandler {
  const handlers = createControlHandlers(now);
  return async (event) => {
    const key = event.requestContext.routeKey as ControlRouteKey;
    const handler = Object.hasOwn(handlers, key) ? handlers[key] : handlers.$default;
    return handler(event);
  };
}
