/**
 * The whole guest-relay stack (DESIGN §2, §5): the public and control WebSocket APIs, the Lambda
 * handlers, the tables, the worker service and the secrets. Every environment variable is set in the
 * same place as the grant that makes it usable.
 */
import { CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AUTH_ENV } from '../src/auth/config.js';
import { RELAY_ENV } from '../src/relay/config.js';
import { WORKER_ENV } from '../worker/config.js';
import { ControlApi } from './constructs/control-api.js';
import { PUBLIC_ROUTES, PublicApi, type PublicRouteKey } from './constructs/public-api.js';
import { RelayFunction } from './constructs/relay-function.js';
import { RelayTables } from './constructs/tables.js';
import { WorkerService } from './constructs/worker-service.js';

export const AUDIENCE = 'guest-relay';

/** 'connection-open.ts' → 'RouteConnectionOpen': one construct id per handler file. */
function routeId(entry: string): string {
  return `Route${entry
    .replace(/\.ts$/, '')
    .split('-')
    .map((part) => `${part[0]?.toUpperCase() ?? ''}${part.slice(1)}`)
    .join('')}`;
}

export class GuestRelayStack extends Stack {
  readonly tables: RelayTables;
  readonly publicApi: PublicApi;
  readonly controlApi: ControlApi;
  readonly worker: WorkerService;
  readonly signingKey: Secret;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    const deploymentId = new CfnParameter(this, 'GenesysDeploymentId', {
      type: 'String',
      description: 'The Genesys Web Messaging deployment id of sessions that name none',
      allowedPattern: '^[A-Za-z0-9-]{1,64}$',
    });
    const genesysRegion = new CfnParameter(this, 'GenesysRegion', {
      type: 'String',
      description: 'The Genesys Cloud region (e.g. eu_west_1) or domain (e.g. mypurecloud.ie)',
      default: 'mypurecloud.com',
    });

    const genesysOrigin = new CfnParameter(this, 'GenesysOrigin', {
      type: 'String',
      description:
        "The Origin the workers present to Genesys, when the deployment's allowed domains require one",
      default: '',
    });

    this.tables = new RelayTables(this, 'Tables');
    this.signingKey = new Secret(this, 'AccessTokenKey', {
      description: 'guest-relay: the HS256 key that signs access tokens',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });

    // Handlers first: the APIs integrate them, then each gets the endpoints and grants it needs.
    const authorizer = new RelayFunction(this, 'Authorizer', {
      entry: 'authorizer.ts',
      environment: { [AUTH_ENV.secretArn]: this.signingKey.secretArn, [AUTH_ENV.audience]: AUDIENCE },
    }).fn;
    this.signingKey.grantRead(authorizer);
    const handlers = Object.fromEntries(
      (Object.keys(PUBLIC_ROUTES) as PublicRouteKey[]).map((key) => [
        key,
        new RelayFunction(this, routeId(PUBLIC_ROUTES[key]), { entry: PUBLIC_ROUTES[key] }).fn,
      ]),
    ) as Record<PublicRouteKey, RelayFunction['fn']>;
    const control = new RelayFunction(this, 'Control', { entry: 'control.ts' }).fn;

    this.publicApi = new PublicApi(this, 'Public', { handlers, authorizer });
    this.controlApi = new ControlApi(this, 'ControlApi', { handler: control });

    for (const fn of Object.values(handlers)) {
      for (const [name, value] of Object.entries({
        ...this.tables.environment(),
        [RELAY_ENV.publicManagementEndpoint]: this.publicApi.stage.callbackUrl,
        [RELAY_ENV.controlManagementEndpoint]: this.controlApi.stage.callbackUrl,
        [RELAY_ENV.defaultDeploymentId]: deploymentId.valueAsString,
      })) {
        fn.addEnvironment(name, value);
      }
      for (const table of this.tables.all()) table.grantReadWriteData(fn);
      this.publicApi.stage.grantManagementApiAccess(fn);
      this.controlApi.stage.grantManagementApiAccess(fn);
    }

    this.worker = new WorkerService(this, 'Worker', {
      environment: {
        ...this.tables.environment(),
        [WORKER_ENV.publicManagementEndpoint]: this.publicApi.stage.callbackUrl,
        [WORKER_ENV.controlUrl]: this.controlApi.stage.url,
        [WORKER_ENV.controlAuth]: 'iam',
        GENESYS_REGION: genesysRegion.valueAsString,
        // Empty means "no Origin header" (worker/config.ts reads an empty value as unset).
        [WORKER_ENV.genesysOrigin]: genesysOrigin.valueAsString,
      },
    });
    // Optional (`cdk deploy -c genesysOAuthClient=true`): a Genesys OAuth client (client credentials) for
    // Platform API reads such as participant data; the operator stores {clientId, clientSecret} in it.
    if (
      this.node.tryGetContext('genesysOAuthClient') === true ||
      this.node.tryGetContext('genesysOAuthClient') === 'true'
    ) {
      const oauth = new Secret(this, 'GenesysOAuthClient', {
        description: 'guest-relay: Genesys Cloud OAuth client credentials {clientId, clientSecret}',
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ clientId: 'set-me' }),
          generateStringKey: 'clientSecret',
        },
      });
      oauth.grantRead(this.worker.taskDefinition.taskRole);
      this.worker.taskDefinition.defaultContainer?.addEnvironment(
        'GENESYS_OAUTH_SECRET_ARN',
        oauth.secretArn,
      );
      new CfnOutput(this, 'GenesysOAuthClientArn', { value: oauth.secretArn });
    }
    const taskRole = this.worker.taskDefinition.taskRole;
    for (const table of this.tables.all()) table.grantReadWriteData(taskRole);
    this.publicApi.stage.grantManagementApiAccess(taskRole);
    this.controlApi.grantConnect(taskRole);

    new CfnOutput(this, 'WebSocketUrl', {
      value: this.publicApi.stage.url,
      description: 'Frontends connect here with ?token=<access token>',
    });
    new CfnOutput(this, 'ManagementUrl', {
      value: this.publicApi.stage.callbackUrl,
      description: 'The public stage @connections endpoint',
    });
    new CfnOutput(this, 'AccessTokenKeyArn', {
      value: this.signingKey.secretArn,
      description: 'Read it to mint tokens: guest-relay token --secret …',
    });
    for (const [key, table] of Object.entries(this.tables.tables)) {
      new CfnOutput(this, `${key[0]?.toUpperCase()}${key.slice(1)}Table`, { value: table.tableName });
    }
  }
}
