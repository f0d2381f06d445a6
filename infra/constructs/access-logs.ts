/** Access logs of a WebSocket stage: one JSON line per request, in a log group with a retention. */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { type IAccessLogSettings, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export function accessLogSettings(scope: Construct, id: string): IAccessLogSettings {
  const group = new LogGroup(scope, id, {
    retention: RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return {
    destination: new LogGroupLogDestination(group),
    format: AccessLogFormat.custom(
      JSON.stringify({
        requestId: '$context.requestId',
        connectionId: '$context.connectionId',
        routeKey: '$context.routeKey',
        eventType: '$context.eventType',
        status: '$context.status',
        integrationStatus: '$context.integrationStatus',
        error: '$context.error.message',
        authorizerError: '$context.authorizer.error',
        requestTime: '$context.requestTimeEpoch',
      }),
    ),
  };
}
