/** `guest-relay token`: mints an HS256 access token with the stack's signing secret. */
import { type AccessTokenRole, mintAccessToken, secretFromString } from '../src/auth/index.js';
import { CliError, type Io } from './io.js';

export interface TokenOptions {
  readonly secret: string;
  readonly team: string;
  readonly role: AccessTokenRole;
  readonly ttl: number;
  readonly subject?: string;
  readonly audience: string;
}

export async function runToken(options: TokenOptions, io: Io): Promise<void> {
  let token: string;
  try {
    token = await mintAccessToken(
      {
        team: options.team,
        role: options.role,
        ttlSeconds: options.ttl,
        ...(options.subject === undefined ? {} : { subject: options.subject }),
      },
      {
        secret: secretFromString(options.secret, 'ACCESS_TOKEN_SECRET'),
        audience: options.audience,
        now: Date.now(),
      },
    );
  } catch (error) {
    // The auth layer's messages name the field, never the secret.
    throw new CliError(error instanceof Error ? error.message : String(error), 2);
  }
  io.out(`${token}\n`);
}
