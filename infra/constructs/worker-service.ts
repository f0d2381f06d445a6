/**
 * The worker as an ECS Fargate service (DESIGN §2, docs/worker.md): always on, at least two tasks, more
 * under CPU load. The image is built from `worker/Dockerfile` at deploy time (synth needs no Docker).
 * The task role gets only what a worker does: its tables, posting to the public API's connections, and
 * opening its own control connection. Tasks run in public subnets without inbound rules: they only dial
 * out (Genesys, DynamoDB, API Gateway), and a NAT gateway would cost more than the workers themselves.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { FlowLogDestination, FlowLogTrafficType, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import {
  AwsLogDriver,
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { WORKER_ENV } from '../../worker/config.js';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

export interface WorkerServiceProps {
  /** The worker's environment (worker/config.ts): tables, endpoints, Genesys. */
  readonly environment: Record<string, string>;
  readonly desiredCount?: number;
  readonly maxCount?: number;
  readonly cpu?: number;
  readonly memoryMiB?: number;
}

/** Where the worker answers `GET /health` inside its task (HEALTH_PORT). */
const HEALTH_PORT = 8080;

/** The container's health check: the worker's own `GET /health` (worker/health.ts), from inside. */
export const HEALTH_CHECK_COMMAND = [
  'CMD',
  'node',
  '-e',
  `fetch('http://127.0.0.1:${HEALTH_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
];

export class WorkerService extends Construct {
  readonly service: FargateService;
  readonly taskDefinition: FargateTaskDefinition;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 }],
      flowLogs: {
        rejected: {
          destination: FlowLogDestination.toCloudWatchLogs(),
          trafficType: FlowLogTrafficType.REJECT,
        },
      },
    });
    const cluster = new Cluster(this, 'Cluster', { vpc, containerInsightsV2: ContainerInsights.ENABLED });
    const memoryMiB = props.memoryMiB ?? 1024;
    this.taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 512,
      memoryLimitMiB: memoryMiB,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.taskDefinition.addContainer('worker', {
      image: ContainerImage.fromAsset(REPO_ROOT, {
        file: 'worker/Dockerfile',
        platform: Platform.LINUX_ARM64,
      }),
      logging: new AwsLogDriver({ logGroup, streamPrefix: 'worker' }),
      environment: {
        [WORKER_ENV.healthHost]: '127.0.0.1',
        [WORKER_ENV.healthPort]: String(HEALTH_PORT),
        [WORKER_ENV.logLevel]: 'INFO',
        // Half the task's memory for the V8 heap, stated rather than left to Node's guess: the memory per
        // session docs/performance.md reports (bench/capacity.ts) is measured with this same ceiling.
        NODE_OPTIONS: `--max-old-space-size=${Math.floor(memoryMiB / 2)}`,
        ...props.environment,
      },
      healthCheck: {
        command: HEALTH_CHECK_COMMAND,
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(20),
      },
      // SIGTERM hands the sessions over (docs/worker.md); give it time before SIGKILL.
      stopTimeout: Duration.seconds(30),
      readonlyRootFilesystem: true,
    });
    const securityGroup = new SecurityGroup(this, 'NoInbound', {
      vpc,
      description: 'guest-relay workers: outbound only',
      allowAllOutbound: true,
    });
    this.service = new FargateService(this, 'Service', {
      cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 2,
      assignPublicIp: true,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      securityGroups: [securityGroup],
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
    });
    const scaling = this.service.autoScaleTaskCount({
      minCapacity: props.desiredCount ?? 2,
      maxCapacity: props.maxCount ?? 10,
    });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
  }
}
