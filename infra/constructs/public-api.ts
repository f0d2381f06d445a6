/**
 * The public WebSocket API: every route of docs/protocol.md wired to its handler, the Lambda REQUEST
 * authorizer on `$connect` reading `token` from the query string, access logs, throttling. Each route
 * returns its handler's body to the caller (route responses), as the local gateway emulator does.
 */
import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { accessLogSettings } from './access-logs.js';

/** The public routes (ClientAction of src/protocol) and the file of lambdas/ that handles each. */
export const PUBLIC_ROUTES = {
  $connect: 'connection-open.ts',
  $disconnect: 'connection-close.ts',
  $default: 'default.ts',
  connect: 'connect.ts',
  send: 'send.ts',
  typing: 'typing.ts',
  context: 'context.ts',
  upload: 'upload.ts',
  history: 'history.ts',
  end: 'end.ts',
  ping: 'ping.ts',
} as const;

export type PublicRouteKey = keyof typeof PUBLIC_ROUTES;

export interface PublicApiProps {
  readonly handlers: Readonly<Record<PublicRouteKey, IFunction>>;
  readonly authorizer: IFunction;
  readonly stageName?: string;
  /** Steady-state requests per second and burst for the whole stage. */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
}

export class PublicApi extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;

  constructor(scope: Construct, id: string, props: PublicApiProps) {
    super(scope, id);
    const authorizer = new WebSocketLambdaAuthorizer('TokenAuthorizer', props.authorizer, {
      identitySource: ['route.request.querystring.token'],
    });
    const integration = (key: PublicRouteKey) =>
      new WebSocketLambdaIntegration(`${key.replace('$', '')}Integration`, props.handlers[key]);
    this.api = new WebSocketApi(this, 'Api', {
      description: 'guest-relay public API: frontends act as Genesys Web Messaging guests',
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: { integration: integration('$connect'), authorizer },
      disconnectRouteOptions: { integration: integration('$disconnect') },
      defaultRouteOptions: { integration: integration('$default'), returnResponse: true },
    });
    for (const key of Object.keys(PUBLIC_ROUTES) as PublicRouteKey[]) {
      if (key.startsWith('$')) continue;
      this.api.addRoute(key, { integration: integration(key), returnResponse: true });
    }
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName ?? 'live',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: accessLogSettings(this, 'AccessLogs'),
    });
  }
}
