/**
 * One Lambda handler of `lambdas/`, with the defaults every one of them shares: bundled locally by
 * esbuild (ESM, minified, source maps), Node 22 on ARM64, the AWS SDK left to the runtime, its own log
 * group with a retention, X-Ray active tracing off (Powertools logs carry the request ids).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLING } from '../bundling.js';

export interface RelayFunctionProps {
  /** The file under lambdas/, e.g. 'send.ts'. */
  readonly entry: string;
  readonly environment?: Record<string, string>;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly logRetention?: RetentionDays;
}

export const LAMBDA_DIR = new URL('../../lambdas/', import.meta.url);

export class RelayFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: RelayFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role, allowed to write its own log group and nothing else until a grant adds to it (the
    // AWS-managed basic execution role would allow every log group of the account).
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.fn = new NodejsFunction(this, 'Fn', {
      role,
      entry: new URL(props.entry, LAMBDA_DIR).pathname,
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...(props.environment ?? {}) },
      bundling: {
        format: OutputFormat.ESM,
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourceMap,
        target: BUNDLING.target,
        externalModules: [...BUNDLING.externalModules],
        banner: BUNDLING.banner,
      },
    });
  }
}
