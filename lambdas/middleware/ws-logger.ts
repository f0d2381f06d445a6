import type { MiddlewareObj } from '@middy/core';
import { withDefaults } from './options.js';
import type { WsEvent, WsLog, WsRouteResponse } from './types.js';

export {
  createRedactingLogger,
  REDACTED,
  redact,
  redactingReplacer,
  redactString,
} from '../../src/logging/logger.js';

export interface WsLoggerOptions {
  /** The logger to enrich (required): build it with createRedactingLogger. */
  readonly logger: WsLog | undefined;
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

const KEYS = ['connectionId', 'routeKey', 'eventType', 'requestId', 'team', 'sessionId'];

/**
 * Adds the connection's keys (connectionId, routeKey, eventType, requestId, team) to every log line
 * of the request, and writes one summary line when it ends (status, duration, sessionId when known).
 * Use it first, so that it sees the final response of the other middlewares. Handlers that learn the
 * session id later call `logger.appendKeys({ sessionId })`.
 */
export function wsLogger(options: Partial<WsLoggerOptions> = {}): MiddlewareObj<WsEvent, WsRouteResponse> {
  const { logger, sessionIdOf, now } = withDefaults('wsLogger', defaults, options);
  if (logger === undefined) throw new TypeError('wsLogger: the "logger" option is required.');
  const started = new WeakMap<object, number>();

  const finish = (event: WsEvent, response: WsRouteResponse | null | undefined, failed: boolean) => {
    const sessionId = sessionIdOf(event);
    if (sessionId !== undefined) logger.appendKeys({ sessionId });
    const startedAt = started.get(event);
    logger.info('route handled', {
      statusCode: response?.statusCode ?? null,
      threw: failed,
      ...(startedAt === undefined ? {} : { durationMs: now() - startedAt }),
    });
    logger.removeKeys(KEYS);
  };

  return {
    name: 'wsLogger',
    before: (request) => {
      started.set(request.event, now());
      // Temporary keys outlive an invocation that ended early (ws-body-parser's early answer skips
      // `after`), so start from a clean slate.
      logger.removeKeys(KEYS);
      const { requestContext } = request.event;
      const keys: Record<string, unknown> = {
        connectionId: requestContext.connectionId,
        routeKey: requestContext.routeKey,
        eventType: requestContext.eventType,
        requestId: requestContext.requestId,
      };
      if (typeof requestContext.authorizer?.team === 'string') keys.team = requestContext.authorizer.team;
      logger.appendKeys(keys);
    },
    after: (request) => finish(request.event, request.response, false),
    onError: (request) => finish(request.event, request.response, true),
  };
}
