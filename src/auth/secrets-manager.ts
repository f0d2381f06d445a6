import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AUTH_ENV, type LoadSecret } from './config.js';
import { AuthConfigError } from './errors.js';

/**
 * The cloud's LoadSecret: reads the signing key's secret string from Secrets Manager. The client is
 * injected (built once per cold start). Errors name the setting, never the secret or the raw SDK text.
 */
export function secretsManagerLoader(client: SecretsManagerClient): LoadSecret {
  return async (arn) => {
    let secret: string | undefined;
    try {
      ({ SecretString: secret } = await client.send(new GetSecretValueCommand({ SecretId: arn })));
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name;
      throw new AuthConfigError(
        AUTH_ENV.secretArn,
        `Reading the signing key from Secrets Manager failed (${typeof name === 'string' ? name : 'Error'}).`,
      );
    }
    if (secret === undefined || secret === '') {
      throw new AuthConfigError(AUTH_ENV.secretArn, 'The signing key secret has no SecretString.');
    }
    return secret;
  };
}
