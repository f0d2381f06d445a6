/**
 * The CDK app, proved before any deploy: routes, authorizers, tables from the shared definitions, least
 * privilege, the worker's environment. Template tests skip bundling and CloudFormation validation (fast);
 * one test synthesises the real thing (bundling, the built-in CloudFormation validation as errors, and
 * cdk-nag) and checks the bundles' sizes.
 */
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { PUBLIC_ROUTES, type PublicRouteKey } from '../../infra/constructs/public-api.js';
import { type Permissions, ROUTE_PERMISSIONS, WORKER_PERMISSIONS } from '../../infra/permissions.js';
import type { GuestRelayStack } from '../../infra/stack.js';
import { ROUTE_KEYS } from '../../lambdas/routes.js';
import { CONTROL_ROUTE_KEYS } from '../../src/control/handlers.js';
import { TABLE_ENV, TABLES, type TableKey, TTL_ATTRIBUTE } from '../../src/store/tables.js';
import { environments, fastApp, type Resources } from './template.js';

type Json = Record<string, unknown>;
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const TEAM_POLICY_FILE = fileURLToPath(new URL('../fixtures/team-policy.json', import.meta.url));

/** The statements of every policy attached to the role, by the role's logical id. */
function statementsOf(resources: Resources, roleId: string): Statement[] {
  return Object.values(resources)
    .filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** `table` / `table/index/name` → the DynamoDB actions (without the prefix) the statements allow there. */
function dynamoAccess(stack: GuestRelayStack, statements: readonly Statement[]): Record<string, string[]> {
  const tableOf = new Map(
    (Object.keys(TABLES) as TableKey[]).map((key) => [ref(stack, stack.tables.tables[key]), key] as const),
  );
  const access: Record<string, Set<string>> = {};
  for (const statement of statements) {
    const actions = [statement.Action].flat().filter((a) => a.startsWith('dynamodb:'));
    if (actions.length === 0) continue;
    for (const resource of [statement.Resource].flat()) {
      const text = JSON.stringify(resource);
      const tableId = text.match(/"Fn::GetAtt":\["([^"]+)","Arn"\]/)?.[1];
      const table = tableId === undefined ? undefined : tableOf.get(tableId);
      if (table === undefined)
        throw new Error(`a DynamoDB statement on something else than a table: ${text}`);
      const index = text.match(/"\/index\/([^"]*)"/)?.[1];
      const key = index === undefined ? table : `${table}/index/${index}`;
      access[key] ??= new Set();
      for (const action of actions) access[key].add(action.replace('dynamodb:', ''));
    }
  }
  return Object.fromEntries(Object.entries(access).map(([key, set]) => [key, [...set].sort()]));
}

/** The mapping in the same shape. */
function expectedAccess(permissions: Permissions): Record<string, string[]> {
  const access: Record<string, string[]> = {};
  for (const [table, grant] of Object.entries(permissions.tables)) {
    if (grant === undefined) continue;
    if (grant.actions.length > 0) access[table] = [...grant.actions].sort();
    for (const index of grant.indexes ?? []) access[`${table}/index/${index}`] = ['Query'];
  }
  return access;
}

/** The logical id of the function built for a route's handler file, and of its role. */
function routeFunction(resources: Resources, route: PublicRouteKey): { fnId: string; roleId: string } {
  const prefix = `route${PUBLIC_ROUTES[route].replace('.ts', '').replace(/-/g, '')}fn`;
  const [fnId, fn] = Object.entries(resources).find(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.toLowerCase().startsWith(prefix),
  ) ?? [undefined, undefined];
  if (fnId === undefined || fn === undefined) throw new Error(`no function for ${route}`);
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return { fnId, roleId };
}

function ref(stack: GuestRelayStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

describe('the CDK stack (template)', () => {
  let stack: GuestRelayStack;
  let template: Template;
  let resources: Record<string, { Type: string; Properties: Json }>;
  beforeAll(() => {
    ({ stack } = buildApp(fastApp()));
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources as typeof resources;
  });

  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  it('wires every public route to its own handler, with the REQUEST authorizer on $connect', () => {
    const publicApi = ref(stack, stack.publicApi.api);
    const routes = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) =>
      JSON.stringify(r.Properties.ApiId).includes(publicApi),
    );
    // Every route the handlers serve (lambdas/routes.ts) is wired in the cloud too.
    expect(Object.keys(PUBLIC_ROUTES).sort()).toEqual([...ROUTE_KEYS].sort());
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual(Object.keys(PUBLIC_ROUTES).sort());
    for (const [, route] of routes) {
      const key = route.Properties.RouteKey as string;
      // The integration the route targets calls the function built from this route's file.
      const integrationId = JSON.stringify(route.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1] as string;
      const integration = resources[integrationId]?.Properties as Json;
      const functionId = JSON.stringify(integration.IntegrationUri).match(
        /"([A-Za-z0-9]+Fn[A-Za-z0-9]+)","Arn"/,
      )?.[1];
      const entry = PUBLIC_ROUTES[key as keyof typeof PUBLIC_ROUTES].replace('.ts', '').replace(/-/g, '');
      expect(functionId?.toLowerCase(), key).toContain(`route${entry}fn`);
      if (key !== '$connect' && key !== '$disconnect') {
        expect(route.Properties.RouteResponseSelectionExpression, key).toBe('$default');
      }
    }
    const connect = routes.find(([, r]) => r.Properties.RouteKey === '$connect')?.[1];
    expect(connect?.Properties.AuthorizationType).toBe('CUSTOM');
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.querystring.token'],
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  it('protects the control API with IAM on $connect and wires its routes', () => {
    const controlApi = ref(stack, stack.controlApi.api);
    const routes = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) =>
      JSON.stringify(r.Properties.ApiId).includes(controlApi),
    );
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual([...CONTROL_ROUTE_KEYS].sort());
    expect(
      routes.find(([, r]) => r.Properties.RouteKey === '$connect')?.[1].Properties.AuthorizationType,
    ).toBe('AWS_IAM');
  });

  it('logs access and throttles both stages', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(2);
    for (const [, stage] of stages) {
      expect(stage.Properties.AccessLogSettings).toMatchObject({
        DestinationArn: expect.anything(),
        Format: expect.stringContaining('$context.requestId'),
      });
      expect(stage.Properties.DefaultRouteSettings).toMatchObject({
        ThrottlingRateLimit: expect.any(Number),
        ThrottlingBurstLimit: expect.any(Number),
      });
    }
  });

  it('builds the tables from the shared definitions: keys, indexes, TTL, on-demand, point-in-time recovery', () => {
    for (const key of Object.keys(TABLES) as TableKey[]) {
      const definition = TABLES[key];
      const keys = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        ...(definition.indexes.length > 0
          ? {
              GlobalSecondaryIndexes: definition.indexes.map((index) =>
                Match.objectLike({
                  IndexName: index.name,
                  KeySchema: [
                    { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
                    ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
                  ],
                  Projection:
                    index.projection.type === 'INCLUDE'
                      ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection.attributes] }
                      : { ProjectionType: 'KEYS_ONLY' },
                }),
              ),
            }
          : {}),
      });
    }
    template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(TABLES).length);
    // No index copies every attribute, and none copies the Genesys guest token.
    const indexes = ofType('AWS::DynamoDB::Table').flatMap(
      ([, t]) => (t.Properties.GlobalSecondaryIndexes as { Projection: Json }[] | undefined) ?? [],
    );
    expect(indexes.length).toBeGreaterThan(0);
    for (const index of indexes) {
      expect(index.Projection.ProjectionType).not.toBe('ALL');
      expect(index.Projection.NonKeyAttributes ?? []).not.toContain('guestToken');
    }
  });

  it('runs every handler on Node 22, ARM64, ESM bundles with the environment its grants go with', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(Object.keys(PUBLIC_ROUTES).length + 2);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Runtime, id).toBe('nodejs22.x');
      expect(fn.Properties.Architectures, id).toEqual(['arm64']);
      const env = (fn.Properties.Environment as { Variables: Json }).Variables;
      if (id.startsWith('Route')) {
        for (const name of Object.values(TABLE_ENV)) expect(env[name], `${id} ${name}`).toBeDefined();
        expect(JSON.stringify(env.PUBLIC_MANAGEMENT_ENDPOINT)).toContain(ref(stack, stack.publicApi.api));
        expect(JSON.stringify(env.CONTROL_MANAGEMENT_ENDPOINT)).toContain(ref(stack, stack.controlApi.api));
      }
    }
  });

  it('has no IAM statement with a wildcard action, and ManageConnections only on the two APIs', () => {
    const statements = ofType('AWS::IAM::Policy').flatMap(
      ([, p]) =>
        (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
          .Statement,
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) expect(action).not.toMatch(/(^\*$|:\*$)/);
    }
    const manage = statements.filter((s) => [s.Action].flat().includes('execute-api:ManageConnections'));
    expect(manage.length).toBeGreaterThan(0);
    const apis = [ref(stack, stack.publicApi.api), ref(stack, stack.controlApi.api)];
    for (const statement of manage) {
      const text = JSON.stringify(statement.Resource);
      expect(text).not.toBe('"*"');
      expect(apis.some((api) => text.includes(api))).toBe(true);
      expect(text).toContain('@connections');
    }
  });

  it("gives the worker its tables, the public API's connections and the control API's $connect, nothing more", () => {
    const taskRole = ref(stack, stack.worker.taskDefinition.taskRole);
    const policies = ofType('AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties.Roles).includes(taskRole),
    );
    const statements = policies.flatMap(
      ([, p]) => (p.Properties.PolicyDocument as { Statement: Json[] }).Statement,
    );
    const actions = new Set(statements.flatMap((s) => [s.Action as string | string[]].flat()));
    expect(actions.has('execute-api:ManageConnections')).toBe(true);
    expect(actions.has('execute-api:Invoke')).toBe(true);
    // Its own guest-token key is the only secret it reads.
    expect(
      [...actions].every(
        (a) =>
          a.startsWith('dynamodb:') ||
          a.startsWith('execute-api:') ||
          a === 'secretsmanager:GetSecretValue' ||
          a === 'secretsmanager:DescribeSecret',
      ),
    ).toBe(true);
    const invoke = statements.find((s) => s.Action === 'execute-api:Invoke');
    expect(JSON.stringify(invoke?.Resource)).toContain(ref(stack, stack.controlApi.api));
    expect(JSON.stringify(invoke?.Resource)).toContain('/live/$connect');
    const manage = statements.find((s) => s.Action === 'execute-api:ManageConnections');
    expect(JSON.stringify(manage?.Resource)).toContain(ref(stack, stack.publicApi.api));
    expect(JSON.stringify(manage?.Resource)).not.toContain(ref(stack, stack.controlApi.api));
  });

  it('grants each route function exactly the DynamoDB actions of infra/permissions.ts, table by table', () => {
    for (const route of Object.keys(PUBLIC_ROUTES) as PublicRouteKey[]) {
      const { roleId } = routeFunction(resources, route);
      const statements = statementsOf(resources, roleId);
      expect(dynamoAccess(stack, statements), route).toEqual(expectedAccess(ROUTE_PERMISSIONS[route]));
      // And the management APIs its code posts to, no other.
      const manage = statements.filter((s) => [s.Action].flat().includes('execute-api:ManageConnections'));
      const apis = manage.map((s) =>
        JSON.stringify(s.Resource).includes(ref(stack, stack.publicApi.api)) ? 'public' : 'control',
      );
      expect(apis.sort(), route).toEqual([...ROUTE_PERMISSIONS[route].manage].sort());
    }
    // Spot checks in words: ping touches nothing; $connect only writes its row.
    expect(dynamoAccess(stack, statementsOf(resources, routeFunction(resources, 'ping').roleId))).toEqual({});
    expect(dynamoAccess(stack, statementsOf(resources, routeFunction(resources, '$connect').roleId))).toEqual(
      {
        connections: ['PutItem'],
      },
    );
  });

  it("grants the worker's task role exactly its DynamoDB actions, and only the indexes it queries", () => {
    const taskRole = ref(stack, stack.worker.taskDefinition.taskRole);
    expect(dynamoAccess(stack, statementsOf(resources, taskRole))).toEqual(
      expectedAccess(WORKER_PERMISSIONS),
    );
  });

  it('grants Scan nowhere but where a named code path scans, and never a table-wide index wildcard', () => {
    const scanners = new Map<string, TableKey[]>();
    const principals: [string, Permissions][] = [
      ...(Object.keys(PUBLIC_ROUTES) as PublicRouteKey[]).map(
        (route) =>
          [routeFunction(resources, route).roleId, ROUTE_PERMISSIONS[route]] as [string, Permissions],
      ),
      [ref(stack, stack.worker.taskDefinition.taskRole), WORKER_PERMISSIONS],
    ];
    for (const [roleId, permissions] of principals) {
      const tables = (Object.keys(permissions.tables) as TableKey[]).filter((t) => {
        const grant = permissions.tables[t];
        return grant?.actions.includes('Scan') === true && (grant.scan ?? '').length > 0;
      });
      scanners.set(roleId, tables);
    }
    for (const [id, policy] of ofType('AWS::IAM::Policy')) {
      const roles = JSON.stringify(policy.Properties.Roles);
      for (const statement of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
        const actions = [statement.Action].flat();
        expect(JSON.stringify(statement.Resource), id).not.toContain('/index/*');
        expect(actions, id).not.toContain('dynamodb:*');
        if (!actions.includes('dynamodb:Scan')) continue;
        const roleId = [...scanners.keys()].find((r) => roles.includes(`"${r}"`));
        expect(roleId, `${id} grants Scan to a role no mapping names`).toBeDefined();
        const allowed = (scanners.get(roleId as string) ?? []).map((t) => ref(stack, stack.tables.tables[t]));
        const text = JSON.stringify(statement.Resource);
        expect(
          allowed.some((table) => text.includes(`"${table}"`)),
          `${id}: Scan on ${text} has no reason in infra/permissions.ts`,
        ).toBe(true);
      }
    }
  });

  it('keeps the guest-token key to the worker: its task role alone may read it, its container gets the ARN', () => {
    const secretId = ref(stack, stack.guestTokenKey);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
    });
    const readers = ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p).includes(`"${secretId}"`));
    expect(readers).toHaveLength(1);
    expect(JSON.stringify(readers[0]?.[1].Properties.Roles)).toContain(
      ref(stack, stack.worker.taskDefinition.taskRole),
    );
    const [[, task]] = ofType('AWS::ECS::TaskDefinition') as [[string, { Properties: Json }]];
    const container = (task.Properties.ContainerDefinitions as Json[])[0] as Json;
    const env = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(env.GUEST_TOKEN_KEY_ARN).toEqual({ Ref: secretId });
    // Not as an ECS secret (the execution role would read it), and in no Lambda's environment.
    expect(container.Secrets).toBeUndefined();
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      expect(JSON.stringify(fn.Properties.Environment ?? {}), id).not.toContain(secretId);
    }
  });

  it("names the right endpoints in the worker's environment, with a health check and time to hand over", () => {
    const [[, task]] = ofType('AWS::ECS::TaskDefinition') as [[string, { Properties: Json }]];
    const container = (task.Properties.ContainerDefinitions as Json[])[0] as Json;
    const env = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(JSON.stringify(env.PUBLIC_MANAGEMENT_ENDPOINT)).toContain(ref(stack, stack.publicApi.api));
    expect(JSON.stringify(env.PUBLIC_MANAGEMENT_ENDPOINT)).toContain('https://');
    expect(JSON.stringify(env.CONTROL_URL)).toContain(ref(stack, stack.controlApi.api));
    expect(JSON.stringify(env.CONTROL_URL)).toContain('wss://');
    expect(env.CONTROL_AUTH).toBe('iam');
    expect(env.GENESYS_REGION).toEqual({ Ref: 'GenesysRegion' });
    for (const name of Object.values(TABLE_ENV)) expect(env[name]).toBeDefined();
    expect(container.HealthCheck).toMatchObject({
      Command: expect.arrayContaining([expect.stringContaining('/health')]),
    });
    expect(container.StopTimeout).toBeGreaterThanOrEqual(30);
    expect(task.Properties.RuntimePlatform).toMatchObject({ CpuArchitecture: 'ARM64' });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2, LaunchType: 'FARGATE' });
  });

  it('outputs the public wss URL, the management URL and the table names', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.WebSocketUrl?.Value)).toContain('wss://');
    expect(JSON.stringify(outputs.ManagementUrl?.Value)).toContain('https://');
    for (const key of ['SessionsTable', 'TranscriptTable', 'ConnectionsTable', 'WorkersTable'])
      expect(outputs[key]).toBeDefined();
  });
});

describe('the team policy (cdk context teamPolicyFile)', () => {
  it('sets TEAM_POLICY, minified, on every route Lambda and the worker', () => {
    const { stack } = buildApp(fastApp({ teamPolicyFile: TEAM_POLICY_FILE }));
    const { lambdas, worker } = environments(Template.fromStack(stack).toJSON().Resources as Resources);
    const policy = JSON.stringify({
      teams: {
        'team-a': { deployments: [{ id: '11111111-1111-4111-8111-111111111111', region: 'eu_west_1' }] },
      },
    });
    for (const [id, env] of lambdas) {
      // The authorizer and the control handler open no sessions: they do not get it.
      if (id.startsWith('Route')) expect(env.TEAM_POLICY, id).toBe(policy);
      else expect(env.TEAM_POLICY, id).toBeUndefined();
    }
    expect(lambdas.filter(([id]) => id.startsWith('Route'))).toHaveLength(Object.keys(PUBLIC_ROUTES).length);
    expect(worker.TEAM_POLICY).toBe(policy);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('team policy'));
  });

  it('without a file sets none and warns that every deployment will be refused', () => {
    const { stack } = buildApp(fastApp());
    const { lambdas, worker } = environments(Template.fromStack(stack).toJSON().Resources as Resources);
    for (const [id, env] of lambdas) expect(env.TEAM_POLICY, id).toBeUndefined();
    expect(worker.TEAM_POLICY).toBeUndefined();
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('refuses every Genesys deployment'));
  });

  it('refuses a file that is not JSON, or too large for a Lambda environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'team-policy-'));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"teams": ');
    expect(() => buildApp(fastApp({ teamPolicyFile: broken }))).toThrow(/not valid JSON/);
    const large = join(dir, 'large.json');
    writeFileSync(large, JSON.stringify({ teams: { big: { note: 'x'.repeat(3100) } } }));
    expect(() => buildApp(fastApp({ teamPolicyFile: large }))).toThrow(/at most 3072.*4 KB/s);
    expect(() => buildApp(fastApp({ teamPolicyFile: join(dir, 'missing.json') }))).toThrow(/cannot read/);
  });
});

describe('the secrets', () => {
  it('are the access-token key and the guest-token key, and no other (no OAuth client: nothing would read it)', () => {
    const { stack } = buildApp(fastApp());
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findResources('AWS::SecretsManager::Secret')).sort()).toEqual(
      [ref(stack, stack.signingKey), ref(stack, stack.guestTokenKey)].sort(),
    );
    expect(JSON.stringify(template.toJSON())).not.toContain('GENESYS_OAUTH');
  });
});

describe('the CDK app (full synth)', () => {
  it('synthesises with bundling, the CloudFormation validation as errors and cdk-nag, bundles under 300 KB', () => {
    const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
    buildApp(app);
    // Throws when the CloudFormation validation or cdk-nag reports an error.
    const assembly = app.synth();
    const bundles = readdirSync(assembly.directory)
      .map((name) => join(assembly.directory, name, 'index.mjs'))
      .filter((path) => existsSync(path));
    expect(bundles.length).toBe(Object.keys(PUBLIC_ROUTES).length + 2);
    for (const bundle of bundles) expect(statSync(bundle).size, bundle).toBeLessThan(300 * 1024);
  }, 60_000);
});
