/**
 * The cdk-nag (AwsSolutions) findings this stack accepts, each with the reason it is right here. Every
 * other finding fails `npm run synth`. Findings are acknowledged one by one (cdk-nag v3 has no prefix
 * matching), so a new wildcard or a new unauthenticated route is still reported.
 */
import { type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { GuestRelayStack } from './stack.js';

function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnResource);
}

export function acknowledgeFindings(stack: GuestRelayStack): void {
  const nag = Validations.of(stack);
  nag.acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'The handlers target Node.js 22 (the project runs and tests on Node 20/22 semantics); moving the runtime is a deliberate upgrade, not a default.',
  });
  nag.acknowledge({
    id: 'AwsSolutions-APIG4',
    reason:
      'WebSocket APIs authorize once, on $connect (a Lambda REQUEST authorizer on the public API, IAM on the control API); later routes run on that authorized connection, and each handler checks the role stored with it.',
  });
  nag.acknowledge({
    id: 'AwsSolutions-ECS2',
    reason: 'The worker environment holds table names and endpoint URLs only; no secret is passed in it.',
  });
  nag.acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'The access-token signing key is rotated by the operator (docs/deploy.md): a rotation ends every token minted before it, so it must not happen on a timer.',
  });
  nag.acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'ecr:GetAuthorizationToken (the ECS execution role pulling the worker image) has no resource-level permissions.',
  });
  for (const table of stack.tables.all()) {
    nag.acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(table)}.Arn>/index/*]`,
      reason:
        "Queries use this table's own global secondary indexes (docs/store.md); the grant covers no other table.",
    });
  }
  for (const api of [stack.publicApi.api, stack.controlApi.api]) {
    nag.acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalId(api)}>/live/*/@connections/*]`,
      reason:
        'execute-api:ManageConnections on this API and stage only; connection ids exist only at run time, so the connection is the wildcard.',
    });
  }
}
