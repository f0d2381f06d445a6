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
  /**
   * When the token expires (epoch ms): the connection outlives it no longer than its next frame, and its
   * session's owner closes it when it stays silent (docs/security.md).
   */
  readonly expiresAt: number;
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
  /** Epoch milliseconds: token times, and the age of the cached keys. */
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
  const keys = createKeyCache(deps, now);

  return async (event: WebSocketAuthorizerEvent): Promise<AuthorizerPolicy> => {
    const token = event.queryStringParameters?.[TOKEN_QUERY_PARAMETER];
    try {
      const access = await verifyAccessToken(token, {
        secret: await keys(),
        audience: deps.config.audience,
        issuer: deps.config.issuer,
        now: now(),
      });
      const context: AuthorizerContext = {
        team: access.team,
        role: access.role,
        ...(access.subject === undefined ? {} : { subject: access.subject }),
        expiresAt: access.expiresAt,
      };
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

interface CachedKeys {
  readonly keys: readonly Uint8Array[];
  /** When these keys were read (epoch ms). */
  readonly loadedAt: number;
  /** When a read was last tried, successful or not. */
  readonly triedAt: number;
}

/**
 * The verification keys, read through the loader and kept for `keyTtlMs`: a rotated secret takes effect
 * within that. A failed read keeps the keys already read (logged as a warning) and is tried again after
 * another `keyTtlMs`, but only while they are younger than `keyMaxAgeMs`: past it, every call reads
 * again and a failure is an error (API Gateway's 500), so a key replaced in an emergency cannot outlive
 * it however long Secrets Manager is unreachable. The first read has nothing to fall back on: it fails
 * the call and is tried again on the next. Concurrent calls share one read. Local mode has nothing to read.
 */
function createKeyCache(
  deps: AuthorizerDependencies,
  now: () => number,
): () => Promise<readonly Uint8Array[]> {
  const { config } = deps;
  if (config.secret.kind === 'value') {
    const local = resolveSecrets(config, deps.loadSecret);
    return () => local;
  }
  let cached: CachedKeys | undefined;
  let reading: Promise<readonly Uint8Array[]> | undefined;

  const read = async (at: number): Promise<readonly Uint8Array[]> => {
    try {
      const keys = await resolveSecrets(config, deps.loadSecret);
      cached = { keys, loadedAt: at, triedAt: at };
      return keys;
    } catch (error) {
      if (cached === undefined) throw error;
      const ageMs = at - cached.loadedAt;
      // Only the error's name: a loader's message may say more about the secret than a log should.
      const reason = error instanceof Error ? error.name : 'Error';
      if (ageMs >= config.keyMaxAgeMs) {
        deps.logger.error('signing keys could not be read again and are past their maximum age', {
          ageMs,
          maxAgeMs: config.keyMaxAgeMs,
          reason,
        });
        throw error;
      }
      deps.logger.warn('signing keys could not be read again; using the keys read before', {
        ageMs,
        maxAgeMs: config.keyMaxAgeMs,
        reason,
      });
      cached = { ...cached, triedAt: at };
      return cached.keys;
    }
  };

  return async () => {
    const at = now();
    if (
      cached !== undefined &&
      at - cached.triedAt < config.keyTtlMs &&
      at - cached.loadedAt < config.keyMaxAgeMs
    ) {
      return cached.keys;
    }
    reading ??= read(at).finally(() => {
      reading = undefined;
    });
    return reading;
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
