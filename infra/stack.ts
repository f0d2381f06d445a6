/**
 * The whole guest-relay stack (DESIGN §2, §5): the public and control WebSocket APIs, the Lambda
 * handlers, the tables, the worker service and the secrets. Every environment variable is set in the
 * same place as the grant that makes it usable; each principal gets the table actions and management
 * APIs infra/permissions.ts gives it, nothing more.
 */
import { Annotations, CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AUTH_ENV } from '../src/auth/config.js';
import { TEAM_POLICY_ENV } from '../src/policy/team-policy.js';
import { RELAY_ENV } from '../src/relay/config.js';
import { WORKER_ENV } from '../worker/config.js';
import { ControlApi } from './constructs/control-api.js';
import { PUBLIC_ROUTES, PublicApi, type PublicRouteKey } from './constructs/public-api.js';
import { RelayFunction } from './constructs/relay-function.js';
import { RelayTables } from './constructs/tables.js';
import { WorkerService } from './constructs/worker-service.js';
import { ROUTE_PERMISSIONS, WORKER_PERMISSIONS } from './permissions.js';
import { teamPolicyFromContext } from './team-policy.js';

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
  /** The key the workers derive Genesys guest tokens from: the worker's task role alone may read it. */
  readonly guestTokenKey: Secret;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
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
    const uploadHosts = new CfnParameter(this, 'GenesysUploadHosts', {
      type: 'String',
      description:
        'Hosts (s3.example.com) or domains (.example.com), comma-separated, that Genesys presigned upload URLs may name besides the region domain (docs/security.md)',
      default: '',
    });

    this.tables = new RelayTables(this, 'Tables');
    this.signingKey = new Secret(this, 'AccessTokenKey', {
      description: 'guest-relay: the HS256 key that signs access tokens',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    // 64 characters of [A-Za-z0-9]: about 380 bits, beyond the 32 bytes worker/guest-token.ts requires.
    this.guestTokenKey = new Secret(this, 'GenesysGuestTokenKey', {
      description:
        'guest-relay: the key the workers derive Genesys guest tokens from (worker task role only)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    // `-c teamPolicyFile=policy.json`: the teams' allowed deployments and quotas (src/policy/team-policy.ts).
    const teamPolicy = teamPolicyFromContext(this);
    if (teamPolicy === undefined) {
      Annotations.of(this).addWarningV2(
        'guest-relay:no-team-policy',
        'No team policy (cdk context teamPolicyFile): TEAM_POLICY is not set, so the relay refuses every ' +
          'Genesys deployment. Deploy with -c teamPolicyFile=<policy.json> (docs/deploy.md).',
      );
    }
    const policyEnvironment: Record<string, string> =
      teamPolicy === undefined ? {} : { [TEAM_POLICY_ENV]: teamPolicy };

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

    for (const key of Object.keys(handlers) as PublicRouteKey[]) {
      const fn = handlers[key];
      for (const [name, value] of Object.entries({
        ...this.tables.environment(),
        [RELAY_ENV.publicManagementEndpoint]: this.publicApi.stage.callbackUrl,
        [RELAY_ENV.controlManagementEndpoint]: this.controlApi.stage.callbackUrl,
        ...policyEnvironment,
      })) {
        fn.addEnvironment(name, value);
      }
      const permissions = ROUTE_PERMISSIONS[key];
      this.tables.grant(fn, permissions.tables);
      if (permissions.manage.includes('public')) this.publicApi.stage.grantManagementApiAccess(fn);
      if (permissions.manage.includes('control')) this.controlApi.stage.grantManagementApiAccess(fn);
    }

    this.worker = new WorkerService(this, 'Worker', {
      environment: {
        ...this.tables.environment(),
        [WORKER_ENV.publicManagementEndpoint]: this.publicApi.stage.callbackUrl,
        [WORKER_ENV.controlUrl]: this.controlApi.stage.url,
        [WORKER_ENV.controlAuth]: 'iam',
        [WORKER_ENV.genesysRegion]: genesysRegion.valueAsString,
        // Empty means "no Origin header" (worker/config.ts reads an empty value as unset).
        [WORKER_ENV.genesysOrigin]: genesysOrigin.valueAsString,
        // Empty: only hosts under the region domain (worker/config.ts reads an empty value as unset).
        [WORKER_ENV.genesysUploadHosts]: uploadHosts.valueAsString,
        // The ARN only: the worker reads the value with its task role (the execution role cannot).
        [WORKER_ENV.guestTokenKeyArn]: this.guestTokenKey.secretArn,
        ...policyEnvironment,
      },
    });
    const taskRole = this.worker.taskDefinition.taskRole;
    this.guestTokenKey.grantRead(taskRole);
    this.tables.grant(taskRole, WORKER_PERMISSIONS.tables);
    if (WORKER_PERMISSIONS.manage.includes('public')) this.publicApi.stage.grantManagementApiAccess(taskRole);
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
      description: 'Read it to mint tokens: ACCESS_TOKEN_SECRET=… guest-relay token (docs/deploy.md)',
    });
    for (const [key, table] of Object.entries(this.tables.tables)) {
      new CfnOutput(this, `${key[0]?.toUpperCase()}${key.slice(1)}Table`, { value: table.tableName });
    }
  }
}
