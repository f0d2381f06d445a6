/** The local API Gateway WebSocket API emulator (docs/gateway.md). */
export type { ConnectionSnapshot } from './connection.js';
export type {
  Authorizer,
  AuthorizerContext,
  LambdaLike,
  RouteResult,
  WebSocketEvent,
  WebSocketRequestContext,
} from './events.js';
export type { FrameViolation } from './frame-inspector.js';
export type { ManagementErrorType } from './management-api.js';
export {
  DEFAULT_LIMITS,
  DISCOVERY_PATH,
  type GatewayLimits,
  type WebSocketApiOptions,
} from './options.js';
export { startWebSocketApi, type WebSocketApi } from './server.js';
