/**
 * The public API's route handlers, composed once from the relay core (src/relay) and our middlewares.
 * `createRoutes(deps, logger)` is what the thin per-route files use (with deps from the environment) and
 * what the tests use (with deps on local endpoints): one composition, one code path.
 *
 * Middleware order (middy runs `before` in this order, `after`/`onError` in reverse): the logger sees
 * the final response; the error handler turns anything thrown into one `error` event; wsResponse sends
 * several events (connect + replay) through the public management API; the body parser answers a bad
 * frame with one `error` event before the handler runs. Frames refused for the client's reasons are
 * counted (one summary line a minute), our own failures logged one by one.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Log } from '../src/logging/log.js';
import { CLIENT_ACTIONS, type ClientAction, type ClientFrame } from '../src/protocol/index.js';
import { closeIfExpired } from '../src/relay/expiry.js';
import {
  type ActionHandlers,
  createConnectActionHandler,
  createConnectHandler,
  createContextHandler,
  createDefaultHandler,
  createDisconnectHandler,
  createEndHandler,
  createHistoryHandler,
  createPingHandler,
  createSendHandler,
  createTypingHandler,
  createUploadHandler,
  depsFromEnv,
  mapStoreError,
  type RelayDeps,
  type RelayEvent,
} from '../src/relay/index.js';
import { RefusalTally } from './middleware/refusal-tally.js';
import type { WsEvent, WsRouteResponse } from './middleware/types.js';
import { wsBodyParser } from './middleware/ws-body-parser.js';
import { wsErrorHandler } from './middleware/ws-error-handler.js';
import { createRedactingLogger, wsLogger } from './middleware/ws-logger.js';
import { wsResponse } from './middleware/ws-response.js';

/** A composed route handler: what API Gateway (or the local emulator) invokes. */
export type RouteHandler = (event: WsEvent, context: Context) => Promise<WsRouteResponse>;

export type RouteKey = '$connect' | '$disconnect' | '$default' | ClientAction;

/** Every route of the public API: what a gateway (the local emulator, infra/) must wire. */
export const ROUTE_KEYS: readonly RouteKey[] = Object.freeze([
  '$connect',
  '$disconnect',
  '$default',
  ...CLIENT_ACTIONS,
]);

export interface RouteOptions {
  /** Check every answer against the protocol's schemas (tests, local mode). */
  readonly validate?: boolean;
  /**
   * Where frames refused for the client's reasons are counted, logged as one summary line per minute
   * (refusal-tally.ts). Default: one of these routes' own, on `logger`.
   */
  readonly refusals?: RefusalTally;
}

export function createRoutes(
  deps: RelayDeps,
  // One logger for every invocation: the middlewares name each invocation on the lines they write
  // (invocationKeys), so local mode, which runs many invocations at once, does not mix their keys.
  logger: Log,
  options: RouteOptions = {},
): Record<RouteKey, RouteHandler> {
  const actions: ActionHandlers = {
    connect: createConnectActionHandler(deps),
    send: createSendHandler(deps),
    typing: createTypingHandler(deps),
    context: createContextHandler(deps),
    upload: createUploadHandler(deps),
    history: createHistoryHandler(deps),
    end: createEndHandler(deps),
    ping: createPingHandler(deps),
  };
  const refusals = options.refusals ?? new RefusalTally({ logger });
  const post = async (connectionId: string, data: string) => {
    await deps.publicGateway.post(connectionId, data);
  };
  // Store failures a handler did not map itself (a throttled read of the connection row, say) still get
  // their protocol code: STORE_UNAVAILABLE is `service_unavailable`, not an opaque `internal_error`.
  const withStoreErrors =
    (handler: (event: never) => Promise<unknown>) =>
    async (event: { frame?: ClientFrame }): Promise<unknown> => {
      // A connection whose token expired gets `token_expired` and is closed; the frame is not handled.
      if (await closeIfExpired(deps, event as unknown as RelayEvent)) return undefined;
      try {
        return await handler(event as never);
      } catch (error) {
        throw event.frame === undefined ? error : mapStoreError(event.frame, error);
      }
    };
  const message = <A extends ClientAction | undefined>(
    action: A,
    handler: (event: never) => Promise<unknown>,
  ): RouteHandler =>
    middy(withStoreErrors(handler) as never)
      .use(wsLogger({ logger, now: deps.now }))
      .use(wsErrorHandler({ logger, refusals }))
      .use(wsResponse({ post, validate: options.validate ?? false }))
      .use(
        wsBodyParser({
          logger,
          refusals,
          ...(action === undefined ? {} : { actions: [action as ClientAction] }),
        }),
      ) as unknown as RouteHandler;
  const lifecycle = (handler: (event: never) => Promise<WsRouteResponse>): RouteHandler =>
    middy(handler as never)
      .use(wsLogger({ logger, now: deps.now }))
      .use(wsErrorHandler({ logger })) as unknown as RouteHandler;
  return {
    $connect: lifecycle(createConnectHandler(deps)),
    $disconnect: lifecycle(createDisconnectHandler(deps)),
    $default: message(undefined, createDefaultHandler(actions)),
    connect: message('connect', actions.connect),
    send: message('send', actions.send),
    typing: message('typing', actions.typing),
    context: message('context', actions.context),
    upload: message('upload', actions.upload),
    history: message('history', actions.history),
    end: message('end', actions.end),
    ping: message('ping', actions.ping),
  };
}

let routes: Record<RouteKey, RouteHandler> | undefined;

/**
 * The routes of this Lambda, from its environment, built on the first call (cold start) only. A bad
 * config fails here, naming the key (RelayConfigError).
 */
export function routesFromEnv(): Record<RouteKey, RouteHandler> {
  if (routes === undefined) {
    const logger = createRedactingLogger({ serviceName: 'guest-relay' });
    routes = createRoutes(depsFromEnv(process.env, logger), logger);
  }
  return routes;
}
