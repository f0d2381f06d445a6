import type { Logger } from '@aws-lambda-powertools/logger';
import { type AuthConfig, type LoadSecret, resolveSecrets } from './config.js';
import { AuthError } from './errors.js';
import { type AccessTokenRole, verifyAccessToken } from './tokens.js';

/**
 * The REQUEST authorizer event API Gateway sends for a WebSocket `$connect`. Narrower than
 * `APIGatewayRequestAuthorizerEvent` (the REST one): a WebSocket event has no path or HTTP method.
 */
export interface WebSocketAuthorizerEvent {
  readonly type: 'REQUEST';
  /** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect` */
  readonly methodArn: string;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly requestContext?: { readonly connectionId?: string; readonly requestId?: string };
}

/** What reaches the route handlers as `event.requestContext.authorizer` (API Gateway adds principalId). */
export interface AuthorizerContext {
  readonly team: string;
  readonly role: AccessTokenRole;
  readonly subject?: string;
}

export interface AuthorizerPolicy {
  readonly principalId: string;
  readonly policyDocument: {
    readonly Version: '2012-10-17';
    readonly Statement: readonly [
      { readonly Action: 'execute-api:Invoke'; readonly Effect: 'Allow' | 'Deny'; readonly Resource: string },
    ];
  };
  readonly context?: AuthorizerContext;
}

export interface AuthorizerDependencies {
  readonly config: AuthConfig;
  /** Fetches ACCESS_TOKEN_SECRET_ARN's value; needed only when the config names an ARN. */
  readonly loadSecret?: LoadSecret;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Epoch milliseconds. */
  readonly now?: () => number;
}

/** The query-string parameter that carries the token (browsers cannot set headers on a WebSocket). */
export const TOKEN_QUERY_PARAMETER = 'token';

/**
 * The `$connect` authorizer: Allow with the token's team and role as context, Deny for a token that
 * does not verify (API Gateway answers the handshake with 403), and `Error('Unauthorized')` when there
 * is no token at all (API Gateway's 401). Any other failure (the secret cannot be loaded) is thrown
 * as is, which API Gateway turns into a 500. The token itself is never logged.
 */
export function createAuthorizer(deps: AuthorizerDependencies) {
  const now = deps.now ?? Date.now;
  let secrets: Promise<readonly Uint8Array[]> | undefined;
  const keys = () => {
    // Fetched once per cold start; a failed fetch is retried on the next call rather than cached.
    secrets ??= resolveSecrets(deps.config, deps.loadSecret).catch((error: unknown) => {
      secrets = undefined;
      throw error;
    });
    return secrets;
  };

  return async (event: WebSocketAuthorizerEvent): Promise<AuthorizerPolicy> => {
    const token = event.queryStringParameters?.[TOKEN_QUERY_PARAMETER];
    try {
      const access = await verifyAccessToken(token, {
        secret: await keys(),
        audience: deps.config.audience,
        issuer: deps.config.issuer,
        now: now(),
      });
      const context: AuthorizerContext =
        access.subject === undefined
          ? { team: access.team, role: access.role }
          : { team: access.team, role: access.role, subject: access.subject };
      deps.logger.info('access allowed', { decision: 'Allow', team: access.team, role: access.role });
      return policy(principalOf(context), 'Allow', event.methodArn, context);
    } catch (error) {
      if (!(error instanceof AuthError)) {
        deps.logger.error('authorizer failed', error as Error);
        throw error;
      }
      if (error.code === 'AUTH_MISSING') {
        deps.logger.info('access refused', { decision: 'Unauthorized', reason: error.code });
        throw new Error('Unauthorized');
      }
      deps.logger.info('access refused', { decision: 'Deny', reason: error.code, detail: error.message });
      return policy('anonymous', 'Deny', event.methodArn);
    }
  };
}

function principalOf(context: AuthorizerContext): string {
  return `${context.team}/${context.role}${context.subject === undefined ? '' : `/${context.subject}`}`;
}

function policy(
  principalId: string,
  effect: 'Allow' | 'Deny',
  resource: string,
  context?: AuthorizerContext,
): AuthorizerPolicy {
  const document = {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
  } as const;
  return context === undefined
    ? { principalId, policyDocument: document }
    : { principalId, policyDocument: document, context };
}
