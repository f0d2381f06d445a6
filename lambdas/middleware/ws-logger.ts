import type { MiddlewareObj } from '@middy/core';
import { withDefaults } from '../../src/domain/options.js';
import type { Log } from '../../src/logging/log.js';
import type { WsEvent, WsRouteResponse } from './types.js';

export {
  createRedactingLogger,
  REDACTED,
  redact,
  redactingReplacer,
  redactString,
} from '../../src/logging/logger.js';

export interface WsLoggerOptions {
  /** The logger to write to (required): build it with createRedactingLogger. */
  readonly logger: Pick<Log, 'info'> | undefined;
  /** The session id of this request, when it can be read from the event (after body parsing). */
  readonly sessionIdOf: (event: WsEvent & { frame?: unknown }) => string | undefined;
  /** Epoch milliseconds, for the request's duration. */
  readonly now: () => number;
}

const defaults: WsLoggerOptions = {
  logger: undefined,
  sessionIdOf: (event) => {
    const frame = event.frame as { sessionId?: unknown } | undefined;
    return typeof frame?.sessionId === 'string' ? frame.sessionId : undefined;
  },
  now: Date.now,
};

/**
 * The keys that name an invocation on a log line (connectionId, routeKey, eventType, requestId, and
 * team when the authorizer gave one), read from its event. Each middleware adds them to the lines it
 * writes itself, rather than appending them to a shared logger: local mode runs many invocations at once
 * in one process, and keys kept on a shared logger would land on another invocation's lines. Keeping them
 * per invocation in an AsyncLocalStorage would work too, but on Node 20 its promise hooks, once enabled,
 * tax every promise in the process (an SDK request cost about a fifth more CPU with them on: docs/decisions.md).
 */
export function invocationKeys(event: WsEvent): Record<string, unknown> {
  const { requestContext } = event;
  const team = requestContext.authorizer?.team;
  return {
    connectionId: requestContext.connectionId,
    routeKey: requestContext.routeKey,
    eventType: requestContext.eventType,
    requestId: requestContext.requestId,
    ...(typeof team === 'string' ? { team } : {}),
  };
}

/**
 * Writes one summary line when a request ends (status, duration, the invocation's keys, and sessionId
 * when known). Use it first, so that it sees the final response of the other middlewares.
 */
export function wsLogger(options: Partial<WsLoggerOptions> = {}): MiddlewareObj<WsEvent, WsRouteResponse> {
  const { logger, sessionIdOf, now } = withDefaults('wsLogger', defaults, options);
  if (logger === undefined) throw new TypeError('wsLogger: the "logger" option is required.');
  const started = new WeakMap<object, number>();

  const finish = (event: WsEvent, response: WsRouteResponse | null | undefined, failed: boolean) => {
    const sessionId = sessionIdOf(event);
    const startedAt = started.get(event);
    logger.info('route handled', {
      ...invocationKeys(event),
      ...(sessionId === undefined ? {} : { sessionId }),
      statusCode: response?.statusCode ?? null,
      threw: failed,
      ...(startedAt === undefined ? {} : { durationMs: now() - startedAt }),
    });
  };

  return {
    name: 'wsLogger',
    before: (request) => {
      started.set(request.event, now());
    },
    after: (request) => finish(request.event, request.response, false),
    onError: (request) => finish(request.event, request.response, true),
  };
}
