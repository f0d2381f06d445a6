/**
 * The control API: a second WebSocket API only worker tasks can open (IAM authorization on `$connect`),
 * on which Lambdas ring a worker's doorbell (DESIGN §2). One handler serves every route
 * (src/control/handlers.ts); `register` and `ping` answer the worker with a route response.
 */
import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CONTROL_ROUTE_KEYS } from '../../src/control/handlers.js';
import { accessLogSettings } from './access-logs.js';

export interface ControlApiProps {
  readonly handler: IFunction;
  readonly stageName?: string;
}

export class ControlApi extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;

  constructor(scope: Construct, id: string, props: ControlApiProps) {
    super(scope, id);
    const integration = (key: string) =>
      new WebSocketLambdaIntegration(`${key.replace('$', '')}Integration`, props.handler);
    this.api = new WebSocketApi(this, 'Api', {
      description: 'guest-relay control API: worker doorbells (IAM)',
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: { integration: integration('$connect'), authorizer: new WebSocketIamAuthorizer() },
      disconnectRouteOptions: { integration: integration('$disconnect') },
      defaultRouteOptions: { integration: integration('$default'), returnResponse: true },
    });
    for (const key of CONTROL_ROUTE_KEYS) {
      if (key.startsWith('$')) continue;
      this.api.addRoute(key, { integration: integration(key), returnResponse: true });
    }
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName ?? 'live',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: accessLogSettings(this, 'AccessLogs'),
    });
  }

  /** `execute-api:Invoke` on `$connect` of this stage only: what a worker needs to open its connection. */
  grantConnect(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['execute-api:Invoke'],
        resources: [this.api.arnForExecuteApiV2('$connect', this.stage.stageName)],
      }),
    );
  }
}
