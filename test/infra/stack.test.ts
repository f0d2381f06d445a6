/**
 * The CDK app, proved before any deploy: routes, authorizers, tables from the shared definitions, least
 * privilege, the worker's environment. Template tests skip bundling and CloudFormation validation (fast);
 * one test synthesises the real thing (bundling, the built-in CloudFormation validation as errors, and
 * cdk-nag) and checks the bundles' sizes.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { PUBLIC_ROUTES } from '../../infra/constructs/public-api.js';
import type { GuestRelayStack } from '../../infra/stack.js';
import { ROUTE_KEYS } from '../../lambdas/routes.js';
import { CONTROL_ROUTE_KEYS } from '../../src/control/handlers.js';
import { TABLE_ENV, TABLES, type TableKey, TTL_ATTRIBUTE } from '../../src/store/tables.js';

type Json = Record<string, unknown>;

function fastApp(): App {
  return new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
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
                  Projection: { ProjectionType: 'ALL' },
                }),
              ),
            }
          : {}),
      });
    }
    template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(TABLES).length);
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
        expect(env.DEFAULT_DEPLOYMENT_ID).toEqual({ Ref: 'GenesysDeploymentId' });
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
    expect([...actions].every((a) => a.startsWith('dynamodb:') || a.startsWith('execute-api:'))).toBe(true);
    const invoke = statements.find((s) => s.Action === 'execute-api:Invoke');
    expect(JSON.stringify(invoke?.Resource)).toContain(ref(stack, stack.controlApi.api));
    expect(JSON.stringify(invoke?.Resource)).toContain('/live/$connect');
    const manage = statements.find((s) => s.Action === 'execute-api:ManageConnections');
    expect(JSON.stringify(manage?.Resource)).toContain(ref(stack, stack.publicApi.api));
    expect(JSON.stringify(manage?.Resource)).not.toContain(ref(stack, stack.controlApi.api));
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

describe('the optional Genesys OAuth client secret', () => {
  it('exists only when asked for, readable by the worker alone', () => {
    const without = Template.fromStack(buildApp(fastApp()).stack);
    without.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], genesysOAuthClient: 'true' },
      builtinCloudFormationValidation: false,
    } as ConstructorParameters<typeof App>[0]);
    const { stack } = buildApp(app);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    const json = JSON.stringify(template.toJSON());
    const secretId = Object.entries(template.findResources('AWS::SecretsManager::Secret')).find(([id]) =>
      id.startsWith('GenesysOAuthClient'),
    )?.[0] as string;
    const readers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p).includes(secretId),
    );
    expect(readers).toHaveLength(1);
    expect(JSON.stringify(readers[0])).toContain(
      stack.getLogicalId(stack.worker.taskDefinition.taskRole.node.defaultChild as never),
    );
    expect(json).toContain('GENESYS_OAUTH_SECRET_ARN');
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
