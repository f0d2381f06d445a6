/**
 * The cdk-nag (AwsSolutions) findings this stack accepts, each with the reason it is right here. Every
 * other finding fails `npm run synth`. Findings are acknowledged one by one (cdk-nag v3 has no prefix
 * matching), and on the construct they are about wherever one exists (an acknowledgement covers that
 * construct and its children only), so a new wildcard, a new secret or a new unauthenticated route
 * elsewhere is still reported.
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
      'The handlers run on Node.js 22 and are bundled for it (infra/bundling.ts, the same bundles bench/bundles.ts measures); moving the runtime is a deliberate upgrade (re-bundle, re-measure), not a default.',
  });
  nag.acknowledge({
    id: 'AwsSolutions-APIG4',
    reason:
      'WebSocket APIs authorize once, on $connect: a Lambda REQUEST authorizer (the access token) on the public API, IAM (SigV4; only the worker task role is granted execute-api:Invoke on it) on the control API. API Gateway attaches the authorizer context to every later message of the connection; each public route handler checks the team and role in it (src/relay/access.ts), and the control handlers only answer register and ping.',
  });
  nag.acknowledge({
    id: 'AwsSolutions-ECS2',
    reason:
      'The worker environment holds configuration only: table names, endpoint URLs, the Genesys region and origin, the team policy, tuning values, and the ARN of the guest-token key, which the task role reads at run time. No secret value is in it (the execution role can read no secret).',
  });
  Validations.of(stack.signingKey).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'The access-token signing key is rotated by the operator in two steps with no downtime (docs/deploy.md): {"current": new, "previous": old}, which the authorizer accepts both of within its key TTL, then, once the longest token lifetime has passed, the new key alone. A Lambda rotator would need to know when every token minted with the previous key has expired (their lifetimes are chosen by whoever mints them, up to one day) and to hand the new key to every minter (CI secret stores, backends), which it cannot do.',
  });
  Validations.of(stack.guestTokenKey).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'The workers derive every Genesys guest token from this key (worker/guest-token.ts); a new key would give every open session a different token, and Genesys would not resume those conversations. It is replaced by the operator, deliberately, when every session it served has ended (docs/deploy.md).',
  });
  const executionRole = stack.worker.taskDefinition.executionRole;
  if (executionRole !== undefined) {
    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken (the ECS execution role pulling the worker image) has no resource-level permissions.',
    });
  }
  for (const api of [stack.publicApi.api, stack.controlApi.api]) {
    nag.acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalId(api)}>/live/*/@connections/*]`,
      reason:
        'execute-api:ManageConnections on this API and stage only; the wildcards are the HTTP method (POST to post, DELETE to close) and the connection id, which exists only at run time.',
    });
  }
}
