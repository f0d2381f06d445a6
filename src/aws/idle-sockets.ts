/**
 * How long a local stand-in for an AWS endpoint (the gateway emulator's `@connections` API, dynalite's
 * HTTP endpoint) keeps an idle keep-alive connection open.
 *
 * The SDK's HTTP agent keeps sockets open and reuses them, and does not read the `Keep-Alive: timeout=5`
 * hint of Node's servers. With Node's default of 5 s, a client that takes a socket just as the server
 * closes it sends its request into a closing connection and gets "socket hang up" (ECONNRESET); the
 * busier the client's event loop, the wider that window. `npm run chaos -- --sessions 120` met it: a post
 * of a session's `active` status was lost that way, and the frontend waited for ever. A minute of
 * idleness is rarer than five seconds by far; what is left is retried (ManagementClient, the SDK's own
 * retries for DynamoDB).
 */
import type { Server } from 'node:http';

export const IDLE_SOCKET_MS = 65_000;

/** Keeps idle connections IDLE_SOCKET_MS (headers must still come within a second more than that). */
export function keepIdleSockets(server: Server): void {
  server.keepAliveTimeout = IDLE_SOCKET_MS;
  // Node requires headersTimeout above keepAliveTimeout, or a reused socket can be cut mid-request.
  server.headersTimeout = IDLE_SOCKET_MS + 1_000;
}
