import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { ClientFrame } from '../../src/protocol/index.js';

/**
 * `requestContext.authorizer` as route handlers receive it: the authorizer's context (values are
 * strings once API Gateway has passed them on) plus the principalId.
 */
export interface WsAuthorizerContext {
  readonly principalId?: string;
  readonly team?: string;
  readonly role?: string;
  readonly subject?: string;
  readonly [key: string]: unknown;
}

/**
 * The WebSocket event as API Gateway really sends it. `@types/aws-lambda` omits the fields below
 * (reference/aws-notes.md §2.1): headers on `$connect`, the authorizer context, the caller's identity,
 * and the close status on `$disconnect`.
 */
export type WsEvent = APIGatewayProxyWebsocketEventV2 & {
  readonly requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & {
    readonly authorizer?: WsAuthorizerContext;
    readonly identity?: { readonly sourceIp?: string; readonly userAgent?: string };
    readonly disconnectStatusCode?: number;
    readonly disconnectReason?: string;
  };
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>>;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>>;
};

/** A WebSocket event after ws-body-parser: the typed frame is on `frame`. */
export type WsFrameEvent<TFrame extends ClientFrame = ClientFrame> = WsEvent & { frame: TFrame };

/** A route response. With a route response configured, `body` is sent to the caller as one message. */
export interface WsRouteResponse {
  readonly statusCode: number;
  readonly body?: string;
}
