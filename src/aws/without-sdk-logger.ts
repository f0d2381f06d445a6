/**
 * Takes the SDK's logger middleware off a client that has no logger. The middleware runs on every request
 * whether or not a logger is configured: it passes the input and the output through the schema's
 * sensitive-data filter (a full copy of each, walked member by member) and hands them to the logger, which
 * by default is the SDK's no-op. For a GetItem answered with a 4.6 KB session item that copy was about
 * 40 % of the request's CPU on the client side (10,000 requests against a handler that answers at once:
 * 358–407 µs each with the middleware, 199–220 µs without; docs/decisions.md). Our clients are never given
 * a logger (failures reach our own logs as errors, with their cause), so the copy is never read.
 */

/** What this needs of an SDK v3 client. */
export interface WithMiddlewareStack {
  readonly middlewareStack: { remove(toRemove: string): boolean };
}

/** The SDK's name for it (`@aws-sdk/core`, `loggerMiddlewareOptions`). */
export const SDK_LOGGER_MIDDLEWARE = 'loggerMiddleware';

/** `client`, without the logger middleware. Call it before the first request (the stack is cached then). */
export function withoutSdkLogger<T extends WithMiddlewareStack>(client: T): T {
  client.middlewareStack.remove(SDK_LOGGER_MIDDLEWARE);
  return client;
}
