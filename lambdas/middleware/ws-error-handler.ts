import type { MiddlewareObj } from '@middy/core';
import { errorEventFor, type ProtocolErrorOptions, serializeEvent } from '../../src/protocol/index.js';
import { withDefaults } from './options.js';
import type { WsEvent, WsLog, WsRouteResponse } from './types.js';

export interface WsErrorHandlerOptions {
  /** Where errors are logged, with their cause. Build it with createRedactingLogger. */
  readonly logger: Pick<WsLog, 'warn' | 'error'> | undefined;
}

const defaults: WsErrorHandlerOptions = { logger: undefined };

/**
 * Turns anything thrown by the handler (or a later middleware) into exactly one `error` event, sent
 * as the route response `{ statusCode: 200, body }`. Only exposed errors (ProtocolError, DomainError,
 * or `expose: true` with a documented code) keep their code and message; everything else becomes
 * `internal_error` with a generic message, and its details go to the log only.
 *
 * On `$connect` / `$disconnect` there is no one to send an event to: the answer is a bare 500.
 */
export function wsErrorHandler(
  options: Partial<WsErrorHandlerOptions> = {},
): MiddlewareObj<WsEvent & { frame?: unknown }, WsRouteResponse> {
  const { logger } = withDefaults('wsErrorHandler', defaults, options);
  return {
    name: 'wsErrorHandler',
    onError: (request) => {
      const { error } = request;
      const event = errorEventFor(error, contextOf(request.event.frame));
      if (event.code === 'internal_error') {
        if (error instanceof Error) logger?.error('request failed', error);
        else logger?.error('request failed', { thrown: String(error) });
      } else {
        logger?.warn('request refused', { code: event.code, action: event.action ?? null });
      }
      request.response =
        request.event.requestContext.eventType === 'MESSAGE'
          ? { statusCode: 200, body: serializeEvent(event) }
          : { statusCode: 500 };
    },
  };
}

function contextOf(frame: unknown): Pick<ProtocolErrorOptions, 'action' | 'clientMessageId'> {
  const { action, clientMessageId } = (frame ?? {}) as { action?: unknown; clientMessageId?: unknown };
  const context: { action?: string; clientMessageId?: string } = {};
  if (typeof action === 'string') context.action = action;
  if (typeof clientMessageId === 'string') context.clientMessageId = clientMessageId;
  return context;
}
