/**
 * Options of the local API Gateway WebSocket API emulator: one frozen DEFAULTS object spread with the
 * caller's options, unknown keys rejected (STYLE.md §4), limits checked at start.
 */
import { type Clock, systemClock } from '../../domain/clock.js';
import { withDefaults } from '../../domain/options.js';
import { type Log, silentLog } from '../../logging/log.js';
import type { Authorizer, LambdaLike } from './events.js';

/** The gateway's hard limits (aws-notes §2.1). Every one is configurable so tests can use tiny values. */
export interface GatewayLimits {
  /** Largest message (all frames of it), in bytes. AWS: 128 KB. Over it: close 1009, or 413 on @connections. */
  readonly maxMessageBytes: number;
  /** Largest frame, in bytes. AWS: 32 KB. Over it: close 1009. Outgoing messages are split at this size. */
  readonly maxFrameBytes: number;
  /** No data frame in either direction for this long: close 1001. AWS: 10 min. */
  readonly idleTimeoutMs: number;
  /** Any connection is closed (1001) this long after it opened. AWS: 2 h. */
  readonly maxConnectionMs: number;
  /** A handler (or the authorizer) that takes longer fails as a timed-out integration. AWS: 29 s. */
  readonly integrationTimeoutMs: number;
  /**
   * The Lambda function's own timeout, as its context reports it (`getRemainingTimeInMillis`). A deployed
   * function's timeout is shorter than the integration's (infra/: 10 s), so the handler gives up first
   * and can answer; at most `integrationTimeoutMs`.
   */
  readonly functionTimeoutMs: number;
}

export interface WebSocketApiOptions {
  /** Default '127.0.0.1'. */
  host?: string | undefined;
  /** Default 0: a free port. */
  port?: number | undefined;
  /** Default 'local'. The WebSocket URL and the management endpoint both end with `/<stage>`. */
  stage?: string | undefined;
  /** Default: 10 random lowercase letters and digits, as AWS api ids look. */
  apiId?: string | undefined;
  /** Default '$request.body.action'. Only the `$request.body.<path>` form is supported. */
  routeSelectionExpression?: string | undefined;
  /** The REQUEST authorizer of `$connect`; none means the API is open. */
  authorizer?: Authorizer | undefined;
  /** '$connect', '$disconnect', '$default' and route keys → handler. */
  routes: Readonly<Record<string, LambdaLike>>;
  limits?: Partial<GatewayLimits> | undefined;
  /** Default: the system clock. Every timer (idle, maximum duration, integration timeout) uses it. */
  clock?: Clock | undefined;
  /** Default: silent. */
  logger?: Log | undefined;
  /** Name reported as `functionName` in the handlers' Lambda context. Default 'guest-relay-local'. */
  functionNamePrefix?: string | undefined;
  /** Region used in ARNs (methodArn, invokedFunctionArn). Default 'us-east-1'. */
  region?: string | undefined;
  /**
   * Not an AWS feature: a JSON object served at `GET /.well-known/guest-relay` (DISCOVERY_PATH), so that
   * a tool given only this API's address learns what runs behind it (local mode: the deployment id and
   * the Genesys emulator's URL). Public: it must hold no secret. Default: none (that path is then
   * answered as any other unknown path).
   */
  discovery?: Readonly<Record<string, unknown>> | undefined;
}

export interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly stage: string;
  readonly apiId: string;
  readonly routeSelectionExpression: string;
  /** The body path of the route selection expression, e.g. ['action']. */
  readonly routeSelectionPath: readonly string[];
  readonly authorizer: Authorizer | undefined;
  readonly routes: Readonly<Record<string, LambdaLike>>;
  readonly limits: GatewayLimits;
  readonly clock: Clock;
  readonly logger: Log;
  readonly functionNamePrefix: string;
  readonly region: string;
  /** The discovery document, serialized once. */
  readonly discovery: string | undefined;
}

/** Where the discovery document is served (`discovery` option). */
export const DISCOVERY_PATH = '/.well-known/guest-relay';

export const DEFAULT_LIMITS: GatewayLimits = Object.freeze({
  maxMessageBytes: 128 * 1024,
  maxFrameBytes: 32 * 1024,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
  integrationTimeoutMs: 29_000,
  functionTimeoutMs: 10_000,
});

/** Every option with its default; `undefined` where there is none (apiId is then drawn at random). */
const DEFAULTS: {
  readonly [K in keyof WebSocketApiOptions]-?: K extends
    | 'apiId'
    | 'authorizer'
    | 'routes'
    | 'limits'
    | 'discovery'
    ? WebSocketApiOptions[K] | undefined
    : Exclude<WebSocketApiOptions[K], undefined>;
} = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  stage: 'local',
  apiId: undefined,
  routeSelectionExpression: '$request.body.action',
  authorizer: undefined,
  routes: undefined,
  limits: undefined,
  clock: systemClock,
  logger: silentLog,
  functionNamePrefix: 'guest-relay-local',
  region: 'us-east-1',
  discovery: undefined,
});

const SELECTION = /^\$request\.body((?:\.[A-Za-z0-9_$-]+)+)$/;
const STAGE = /^[A-Za-z0-9_-]{1,128}$/;

function randomApiId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < 10; i++) id += alphabet[Math.floor(Math.random() * alphabet.length)];
  return id;
}

/** @throws TypeError on an unknown option or route handler that is not a function, RangeError on a bad value. */
export function resolveOptions(options: WebSocketApiOptions): ResolvedOptions {
  const merged = withDefaults('startWebSocketApi', DEFAULTS, options);
  const limits = withDefaults('startWebSocketApi limits', DEFAULT_LIMITS, merged.limits);
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`startWebSocketApi: limit "${key}" must be an integer >= 1, got ${value}`);
    }
  }
  if (limits.maxFrameBytes > limits.maxMessageBytes) {
    throw new RangeError('startWebSocketApi: maxFrameBytes must not exceed maxMessageBytes');
  }
  const { routeSelectionExpression, stage, discovery, port } = merged;
  const match = SELECTION.exec(routeSelectionExpression);
  if (!match?.[1]) {
    throw new RangeError(
      `startWebSocketApi: routeSelectionExpression must look like $request.body.<path>, got ${routeSelectionExpression}`,
    );
  }
  if (!STAGE.test(stage)) throw new RangeError(`startWebSocketApi: invalid stage "${stage}"`);
  const { routes } = merged;
  if (routes === undefined) throw new TypeError('startWebSocketApi: the "routes" option is required');
  for (const [key, handler] of Object.entries(routes)) {
    if (typeof handler !== 'function')
      throw new TypeError(`startWebSocketApi: route "${key}" is not a function`);
  }
  if (
    discovery !== undefined &&
    (discovery === null || typeof discovery !== 'object' || Array.isArray(discovery))
  ) {
    throw new TypeError('startWebSocketApi: "discovery" must be a JSON object');
  }
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`startWebSocketApi: invalid port ${port}`);
  }
  return Object.freeze({
    host: merged.host,
    port,
    stage,
    apiId: merged.apiId ?? randomApiId(),
    routeSelectionExpression,
    routeSelectionPath: Object.freeze(match[1].slice(1).split('.')),
    authorizer: merged.authorizer,
    routes: Object.freeze({ ...routes }),
    limits,
    clock: merged.clock,
    logger: merged.logger,
    functionNamePrefix: merged.functionNamePrefix,
    region: merged.region,
    discovery: discovery === undefined ? undefined : JSON.stringify(discovery),
  });
}
