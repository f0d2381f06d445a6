import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createAuthorizer, loadAuthConfig } from '../src/auth/index.js';
import { createRedactingLogger } from './middleware/ws-logger.js';

/**
 * The public API's `$connect` REQUEST authorizer (identity source: `route.request.querystring.token`).
 * Composition root: config read once at cold start (a bad config fails here, naming the key), the
 * logger built with redaction, the core in src/auth/authorizer.ts.
 *
 * In the cloud the secret comes from Secrets Manager (ACCESS_TOKEN_SECRET_ARN). That fetch is not
 * wired yet: no `loadSecret` is passed, so an ARN config fails on the first call with a clear
 * AuthConfigError (API Gateway: 500) instead of a silent Allow or Deny.
 */
const config = loadAuthConfig(process.env);
const logger = createRedactingLogger({ serviceName: 'guest-relay-authorizer' });

export const handler = middy(createAuthorizer({ config, logger })).use(injectLambdaContext(logger));
