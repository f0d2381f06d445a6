/**
 * The events, authorizer contract and Lambda context the emulator hands to handlers, shaped like API
 * Gateway's (aws-notes §2.1). `@types/aws-lambda`'s APIGatewayProxyWebsocketEventV2 omits fields real
 * events carry (headers on $connect, `requestContext.authorizer`/`identity`, the disconnect status), so
 * the type here is a superset of it: a handler typed against the AWS type accepts these events.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';

/** `requestContext.authorizer`: the authorizer's principalId and its context keys, flattened as AWS does. */
export type AuthorizerContext = Readonly<Record<string, string | number | boolean | null>> & {
  readonly principalId: string;
};

export interface WebSocketRequestContext extends APIGatewayEventWebsocketRequestContextV2 {
  identity: { sourceIp: string; userAgent: string | null };
  authorizer?: AuthorizerContext;
  /** $disconnect only: the close code (1006 when the socket dropped without a close frame). */
  disconnectStatusCode?: number;
  /** $disconnect only. */
  disconnectReason?: string;
}

export interface WebSocketEvent {
  requestContext: WebSocketRequestContext;
  isBase64Encoded: boolean;
  /** MESSAGE only. */
  body?: string;
  /** CONNECT only, as on AWS (header names as the client sent them). */
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
}

/** What a route handler may return: `statusCode` gates $connect, `body` is a route response. */
export type RouteResult = { statusCode?: number | undefined; body?: string | undefined } | undefined;

export type LambdaLike = (
  event: WebSocketEvent,
  context: Context,
  // biome-ignore lint/suspicious/noConfusingVoidType: handlers declared `Promise<void>` must fit.
) => Promise<RouteResult | void>;

/** What a handler's promise resolves to. */
export type HandlerOutcome = Awaited<ReturnType<LambdaLike>>;

/** The REQUEST authorizer of $connect. Throw `new Error('Unauthorized')` for a 401. */
export type Authorizer = (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A connection id that looks like AWS's: 12 characters, base64 letters ending in '=' (e.g.
 * 'Xyz12AbCdEF='). The '=' must be URL-encoded in @connections paths, so a client that forgets to encode
 * fails here as it would on AWS.
 */
export function newConnectionId(): string {
  const bytes = randomBytes(11);
  let id = '';
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return `${id}=`;
}

/** A message or extended request id: AWS uses the same 12-character base64-ish form. */
export function newMessageId(): string {
  return newConnectionId();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestTime` as AWS formats it: '24/Nov/2026:12:00:00 +0000'. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(
    d.getUTCMinutes(),
  )}:${two(d.getUTCSeconds())} +0000`;
}

export interface LambdaContextInput {
  readonly functionName: string;
  readonly region: string;
  readonly timeoutMs: number;
  readonly now: () => number;
}

/** A Lambda-like context: what handlers and Powertools read from a real one. */
export function lambdaContext(input: LambdaContextInput): Context {
  const deadline = input.now() + input.timeoutMs;
  const awsRequestId = randomUUID();
  const unsupported = (): never => {
    throw new Error('The emulator does not support callback-style handlers');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: input.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${input.region}:000000000000:function:${input.functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${input.functionName}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - input.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** Lambda-safe function name of a route ('$connect' → 'guest-relay-local-connect'). */
export function functionNameFor(prefix: string, routeKey: string): string {
  return `${prefix}-${routeKey.replace(/[^A-Za-z0-9_-]/g, '') || 'route'}`;
}
