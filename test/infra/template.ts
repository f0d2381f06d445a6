/** Helpers shared by the template tests: a fast app, and the environments a synthesised stack sets. */
import { App } from 'aws-cdk-lib';

type Json = Record<string, unknown>;
export type Resources = Record<string, { Type: string; Properties: Json }>;

/** An app that skips bundling and CloudFormation validation: for template assertions. */
export function fastApp(context: Record<string, unknown> = {}): App {
  return new App({
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
}

/** Each Lambda's environment by logical id, and the worker container's. */
export function environments(resources: Resources): {
  lambdas: (readonly [string, Json])[];
  worker: Json;
} {
  const lambdas = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(
      ([id, r]) =>
        [id, (r.Properties.Environment as { Variables?: Json } | undefined)?.Variables ?? {}] as const,
    );
  const [task] = Object.values(resources).filter((r) => r.Type === 'AWS::ECS::TaskDefinition') as [
    { Properties: Json },
  ];
  const container = (task.Properties.ContainerDefinitions as Json[])[0] as Json;
  const worker = Object.fromEntries(
    (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
  );
  return { lambdas, worker };
}
