import type { MiddlewareObj } from '@middy/core';
import { withDefaults } from '../../src/domain/options.js';
import {
  fitsInOneMessage,
  type ServerEvent,
  serializeEvent,
  serverEventSchema,
} from '../../src/protocol/index.js';
import type { WsEvent, WsRouteResponse } from './types.js';

/** Sends one serialised event to a connection (the management API's PostToConnection). */
export type PostToConnection = (connectionId: string, data: string) => Promise<void>;

export interface WsResponseOptions {
  /**
   * Needed only when a handler returns more than one event: all but the last are posted, in order,
   * before the last goes back as the route response (which API Gateway delivers after the posts).
   */
  readonly post: PostToConnection | undefined;
  /** Check every event against the protocol's schemas before sending (tests, local mode). */
  readonly validate: boolean;
}

const defaults: WsResponseOptions = { post: undefined, validate: false };

/** What a handler behind wsResponse may return. */
export type WsHandlerResult = ServerEvent | readonly ServerEvent[] | WsRouteResponse | undefined;

/**
 * Lets a handler return a server event (or several) instead of a route response: the event is
 * serialised as the route response body `{ statusCode: 200, body }`. `undefined` becomes a bare 200;
 * a route response (`{ statusCode }`) passes through unchanged.
 */
export function wsResponse(
  options: Partial<WsResponseOptions> = {},
): MiddlewareObj<WsEvent, WsHandlerResult | WsRouteResponse> {
  const { post, validate } = withDefaults('wsResponse', defaults, options);

  const serialize = (event: ServerEvent): string => {
    if (validate && !serverEventSchema.safeParse(event).success) {
      throw new Error(`wsResponse: the handler returned an invalid "${String(event.type)}" event.`);
    }
    const text = serializeEvent(event);
    if (!fitsInOneMessage(text)) {
      throw new Error(`wsResponse: a "${event.type}" event is larger than one API Gateway message.`);
    }
    return text;
  };

  return {
    name: 'wsResponse',
    after: async (request) => {
      const result = request.response;
      if (result === undefined || result === null) {
        request.response = { statusCode: 200 };
        return;
      }
      if (isRouteResponse(result)) return;
      const events: readonly ServerEvent[] = Array.isArray(result) ? result : [result as ServerEvent];
      const bodies = events.map(serialize);
      const last = bodies.pop();
      if (bodies.length > 0) {
        if (post === undefined) {
          throw new Error('wsResponse: a handler returned several events but no "post" option was given.');
        }
        for (const body of bodies) await post(request.event.requestContext.connectionId, body);
      }
      request.response = last === undefined ? { statusCode: 200 } : { statusCode: 200, body: last };
    },
  };
}

function isRouteResponse(value: object): value is WsRouteResponse {
  return !Array.isArray(value) && typeof (value as { statusCode?: unknown }).statusCode === 'number';
}
