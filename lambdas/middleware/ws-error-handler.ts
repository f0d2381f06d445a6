import type { MiddlewareObj } from '@middy/core';
import { withDefaults } from '../../src/domain/options.js';
import type { Log } from '../../src/logging/log.js';
import {
  errorEventFor,
  ProtocolError,
  type ProtocolErrorOptions,
  serializeEvent,
} from '../../src/protocol/index.js';
import type { RefusalTally } from './refusal-tally.js';
import type { WsEvent, WsRouteResponse } from './types.js';
import { invocationKeys } from './ws-logger.js';

export interface WsErrorHandlerOptions {
  /** Where errors are logged, with their cause. Build it with createRedactingLogger. */
  readonly logger: Pick<Log, 'debug' | 'warn' | 'error'> | undefined;
  /**
   * Counts the frames refused for the client's reasons (every code but `internal_error` and
   * `service_unavailable`) for a periodic summary (refusal-tally.ts), instead of a `warn` line each.
   */
  readonly refusals: Pick<RefusalTally, 'count'> | undefined;
}

const defaults: WsErrorHandlerOptions = { logger: undefined, refusals: undefined };

/** Our side failed (a bug, the store, time): logged one by one, never only counted. */
const SERVICE_FAILURES: ReadonlySet<string> = new Set(['internal_error', 'service_unavailable']);

/**
 * Turns anything thrown by the handler (or a later middleware) into exactly one `error` event, sent
 * as the route response `{ statusCode: 200, body }`. Only exposed errors (ProtocolError, DomainError,
 * or `expose: true` with a documented code) keep their code and message; everything else becomes
 * `internal_error` with a generic message, and its details go to the log only. A handler that ran out of
 * time (middy's early timeout) is `service_unavailable` with `retryAfterMs`: a retry is the right answer.
 *
 * On `$connect` / `$disconnect` there is no one to send an event to: the answer is a bare 500.
 */
export function wsErrorHandler(
  options: Partial<WsErrorHandlerOptions> = {},
): MiddlewareObj<WsEvent & { frame?: unknown }, WsRouteResponse> {
  const { logger, refusals } = withDefaults('wsErrorHandler', defaults, options);
  return {
    name: 'wsErrorHandler',
    onError: (request) => {
      const context = contextOf(request.event.frame);
      const error = isTimeout(request.error)
        ? new ProtocolError(
            'service_unavailable',
            'The request took too long (the service is busy); send it again, with the same clientMessageId.',
            { ...context, retryAfterMs: TIMEOUT_RETRY_AFTER_MS, cause: request.error },
          )
        : request.error;
      const event = errorEventFor(error, context);
      // Each line names its invocation itself (invocationKeys: overlapping invocations share the logger).
      const keys = invocationKeys(request.event);
      const refused = { ...keys, code: event.code, action: event.action ?? null };
      if (event.code === 'internal_error') {
        if (error instanceof Error) logger?.error('request failed', { ...keys, error });
        else logger?.error('request failed', { ...keys, thrown: String(error) });
      } else if (error !== request.error) {
        logger?.warn('request timed out', refused);
      } else if (refusals === undefined || SERVICE_FAILURES.has(event.code)) {
        logger?.warn('request refused', refused);
      } else {
        refusals.count(event.code);
        logger?.debug('request refused', refused);
      }
      request.response =
        request.event.requestContext.eventType === 'MESSAGE'
          ? { statusCode: 200, body: serializeEvent(event) }
          : { statusCode: 500 };
    },
  };
}

/** How long a client should wait before sending a timed-out request again. */
const TIMEOUT_RETRY_AFTER_MS = 1_000;

/**
 * middy's `timeoutEarlyResponse` (the Lambda is about to run out of time) throws a TimeoutError: the
 * service was too busy, which is `service_unavailable` (retryable), not an internal error.
 */
function isTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'TimeoutError' &&
    (error.cause as { package?: unknown } | undefined)?.package === '@middy/core'
  );
}

function contextOf(frame: unknown): Pick<ProtocolErrorOptions, 'action' | 'clientMessageId'> {
  const { action, clientMessageId } = (frame ?? {}) as { action?: unknown; clientMessageId?: unknown };
  const context: { action?: string; clientMessageId?: string } = {};
  if (typeof action === 'string') context.action = action;
  if (typeof clientMessageId === 'string') context.clientMessageId = clientMessageId;
  return context;
}
