import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { createAuthorizer, loadAuthConfig, secretsManagerLoader } from '../src/auth/index.js';
import { createRedactingLogger } from './middleware/ws-logger.js';

/**
 * The public API's `$connect` REQUEST authorizer (identity source: `route.request.querystring.token`).
 * Composition root: config read once at cold start (a bad config fails here, naming the key), the
 * logger built with redaction, the core in src/auth/authorizer.ts. In the cloud the key is read from
 * Secrets Manager (ACCESS_TOKEN_SECRET_ARN) once per cold start.
 */
const config = loadAuthConfig(process.env);
const logger = createRedactingLogger({ serviceName: 'guest-relay-authorizer' });
const loadSecret =
  config.secret.kind === 'arn' ? secretsManagerLoader(new SecretsManagerClient({})) : undefined;

export const handler = middy(
  createAuthorizer({ config, logger, ...(loadSecret === undefined ? {} : { loadSecret }) }),
).use(injectLambdaContext(logger));
