/** `guest-relay start` / `npm start`: local mode, until Ctrl-C. */

import { type LocalOptions, startLocalStack } from '../local/stack.js';
import { ConfigError, optional } from '../src/config/index.js';
import type { GenesysEndpoint } from '../src/genesys/client/index.js';
import { genesysEndpointFromEnv, WORKER_ENV } from '../worker/config.js';
import { CliError, type Io } from './io.js';

export interface StartOptions {
  readonly host: string;
  readonly port: number;
  readonly apiPort: number;
  readonly controlPort: number;
  readonly emulatorPort: number;
  readonly secret?: string;
  readonly logLevel: LocalOptions['logLevel'];
}

/**
 * Real Genesys (or another guest-API endpoint) from the environment; undefined = the emulator. The
 * endpoint keys are the worker's own (worker/config.ts reads them for both); a bad one exits 2 naming it.
 */
export function genesysFromEnv(env: Io['env']): LocalOptions['genesys'] {
  const deploymentId = optional(env, 'GENESYS_DEPLOYMENT_ID');
  let endpoint: GenesysEndpoint | undefined;
  try {
    endpoint = genesysEndpointFromEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
  if (deploymentId === undefined && endpoint === undefined) return undefined;
  if (deploymentId === undefined)
    throw new CliError('GENESYS_DEPLOYMENT_ID is required to talk to Genesys.', 2);
  if (endpoint === undefined) {
    throw new CliError(
      `Set ${WORKER_ENV.genesysRegion} (e.g. eu_west_1), or ${WORKER_ENV.genesysWsUrl} with ${WORKER_ENV.genesysApiUrl}, to talk to Genesys.`,
      2,
    );
  }
  const origin = optional(env, WORKER_ENV.genesysOrigin);
  return { deploymentId, endpoint, ...(origin === undefined ? {} : { origin }) };
}

/** The WebSocket URL with an access token in its query string: what a client opens, ready to paste. */
export function withToken(wsUrl: string, token: string): string {
  const url = new URL(wsUrl);
  url.searchParams.set('token', token);
  return url.href;
}

export async function runStart(options: StartOptions, io: Io): Promise<void> {
  const genesys = genesysFromEnv(io.env);
  const started = Date.now();
  let stack: Awaited<ReturnType<typeof startLocalStack>>;
  try {
    stack = await startLocalStack({
      host: options.host,
      port: options.port,
      apiPort: options.apiPort,
      controlPort: options.controlPort,
      emulatorPort: options.emulatorPort,
      logLevel: options.logLevel,
      ...(options.secret ? { secret: options.secret } : {}),
      ...(genesys ? { genesys } : {}),
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      throw new CliError(
        `A port is in use: ${(error as Error).message}. Choose others with --port, --api-port, …`,
      );
    }
    throw error;
  }
  const c = io.color;
  // The tokens are printed for the person who started the stack, on this terminal only: the services'
  // logger never sees them (a JSON log line may be collected; this banner is not a log line).
  io.out(
    [
      '',
      c.bold(c.green(`guest-relay is running (${Date.now() - started} ms)`)),
      `  web page        ${c.cyan(stack.pageUrl)}`,
      `  WebSocket       ${c.cyan(withToken(stack.wsUrl, stack.token))}`,
      `  guest token     ${stack.token}`,
      `  agent token     ${stack.agentToken}`,
      `  Genesys         ${stack.emulatorUrl ? `emulator ${stack.emulatorUrl} (deployment ${stack.deploymentId})` : `deployment ${stack.deploymentId}`}`,
      c.dim('  The WebSocket URL holds the guest token. Tokens are valid 12 hours. Press Ctrl+C to stop.'),
      '',
    ].join('\n'),
  );
  const signal = await io.interrupted();
  io.out(`\n${signal}: stopping…\n`);
  await stack.stop();
  io.out('stopped\n');
}
