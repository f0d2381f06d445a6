/**
 * Evaluates a REQUEST authorizer's answer as API Gateway does for `$connect`: an explicit Deny or no
 * Allow matching the methodArn is 403, a result without principalId or with a non-scalar context value
 * is an authorizer configuration error (500). Pure.
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { AuthorizerContext } from './events.js';

export type AuthorizerDecision =
  | { readonly allow: true; readonly authorizer: AuthorizerContext }
  | { readonly allow: false; readonly status: 403 | 500; readonly message: string };

interface LooseStatement {
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
}

function list(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function globMatches(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${regex}$`).test(value);
}

function statementCovers(statement: LooseStatement, methodArn: string): boolean {
  const actionOk = list(statement.Action).some((action) => globMatches(action, 'execute-api:Invoke'));
  return actionOk && list(statement.Resource).some((resource) => globMatches(resource, methodArn));
}

export function decide(result: unknown, methodArn: string): AuthorizerDecision {
  const answer = result as Partial<APIGatewayAuthorizerResult> | null | undefined;
  if (!answer || typeof answer !== 'object' || typeof answer.principalId !== 'string') {
    return { allow: false, status: 500, message: 'Authorizer result has no principalId' };
  }
  const statements: LooseStatement[] = Array.isArray(answer.policyDocument?.Statement)
    ? (answer.policyDocument.Statement as LooseStatement[])
    : [];
  const covering = statements.filter((s) => statementCovers(s, methodArn));
  if (covering.some((s) => s.Effect === 'Deny') || !covering.some((s) => s.Effect === 'Allow')) {
    return { allow: false, status: 403, message: 'Forbidden' };
  }
  const context: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(answer.context ?? {})) {
    if (value !== null && typeof value === 'object') {
      return { allow: false, status: 500, message: `Authorizer context value "${key}" is not a scalar` };
    }
    if (
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      value === null
    ) {
      context[key] = value;
    }
  }
  return { allow: true, authorizer: Object.freeze({ ...context, principalId: answer.principalId }) };
}
