/**
 * Where `guest-relay test` runs the scenarios, and what the command line overrides in every file. Pure
 * decisions (no I/O), so that each rule is tested on its own:
 *
 * - `--url`: a running stack (deployed, or `npm start`); the files' deployment and region are sent as
 *   written, or as `--deployment-id` / `--region` override them.
 * - `--emulator`, or neither `--url` nor a Genesys environment: a local stack with the Genesys emulator,
 *   whose one deployment replaces whatever the files or flags name (a line says so).
 * - no `--url` but the environment `npm start` reads for real Genesys (GENESYS_DEPLOYMENT_ID, or
 *   GENESYS_WS_URL and GENESYS_API_URL): a local stack in front of that deployment.
 */
import type { LocalOptions } from '../../local/stack.js';
import { CliError, type Io } from '../io.js';
import { genesysFromEnv } from '../start.js';
import type { Scenario } from './scenario.js';

export type StackChoice =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'emulator'; readonly explicit: boolean }
  | { readonly kind: 'genesys'; readonly genesys: NonNullable<LocalOptions['genesys']> };

export interface StackOptions {
  readonly url?: string;
  readonly emulator?: boolean;
  readonly origin?: string;
}

/** The stack's WebSocket URL must be ws(s); the message never repeats the URL (it may hold a token). */
export function checkWsUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(
      "--url must be a ws:// or wss:// URL (the stack's WebSocketUrl); this is not a URL.",
      2,
    );
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new CliError(
      `--url must be a ws:// or wss:// URL (the stack's WebSocketUrl), not ${parsed.protocol}//…`,
      2,
    );
  }
}

/**
 * The variables by which `npm start` talks to real Genesys. GENESYS_REGION alone does not count: it is
 * also the region of the OAuth client for participant data (`--genesys-region`).
 */
export function hasGenesysEnvironment(env: Io['env']): boolean {
  return ['GENESYS_DEPLOYMENT_ID', 'GENESYS_WS_URL', 'GENESYS_API_URL'].some((key) => env[key]?.trim());
}

/** @throws CliError (exit code 2) for a bad `--url`, `--emulator` with `--url`, or an incomplete environment. */
export function chooseStack(options: StackOptions, env: Io['env']): StackChoice {
  if (options.url !== undefined) {
    if (options.emulator === true)
      throw new CliError('--emulator starts a local stack: it does not go with --url.', 2);
    checkWsUrl(options.url);
    return { kind: 'url', url: options.url };
  }
  if (options.emulator === true) return { kind: 'emulator', explicit: true };
  if (!hasGenesysEnvironment(env)) return { kind: 'emulator', explicit: false };
  const genesys = genesysFromEnv(env) as NonNullable<LocalOptions['genesys']>;
  return {
    kind: 'genesys',
    genesys: options.origin === undefined ? genesys : { ...genesys, origin: options.origin },
  };
}

export interface Overrides {
  readonly deploymentId?: string;
  readonly region?: string;
  /** Replaces every file's per-step default (`stepTimeoutSeconds`); a step's own `timeout:` still wins. */
  readonly stepTimeoutMs?: number;
}

export function withOverrides(scenarios: readonly Scenario[], overrides: Overrides): Scenario[] {
  const { deploymentId, region, stepTimeoutMs } = overrides;
  return scenarios.map((scenario) => ({
    ...scenario,
    ...(deploymentId === undefined ? {} : { deploymentId }),
    ...(region === undefined ? {} : { region }),
    ...(stepTimeoutMs === undefined ? {} : { stepTimeoutMs }),
  }));
}

/**
 * Every scenario on the emulator's deployment (and no region: the emulator is the stack's only endpoint),
 * with one line per file whose deployment or region was replaced, or one line for the flags when
 * `--deployment-id` / `--region` were given (they name the same for every file).
 */
export function onEmulator(
  scenarios: readonly Scenario[],
  deploymentId: string,
  flags: Pick<Overrides, 'deploymentId' | 'region'>,
  explicit: boolean,
): { scenarios: Scenario[]; notices: string[] } {
  const who = explicit ? '--emulator' : 'No --url: the emulator';
  const notices: string[] = [];
  const named = (what: string, values: readonly (string | undefined)[]): string[] => {
    const distinct = [...new Set(values.filter((v): v is string => v !== undefined))];
    return distinct.length === 0 ? [] : [`${what} ${distinct.join(', ')}`];
  };
  const flagged = [...named('--deployment-id', [flags.deploymentId]), ...named('--region', [flags.region])];
  if (flagged.length > 0) {
    notices.push(`${who} replaces ${flagged.join(' and ')} with its deployment ${deploymentId}.`);
  } else {
    const byFile = new Map<string, Scenario[]>();
    for (const scenario of scenarios)
      byFile.set(scenario.file, [...(byFile.get(scenario.file) ?? []), scenario]);
    for (const [file, inFile] of byFile) {
      const replaced = [
        ...named(
          'deploymentId',
          inFile.map((s) => (s.deploymentId === deploymentId ? undefined : s.deploymentId)),
        ),
        ...named(
          'region',
          inFile.map((s) => s.region),
        ),
      ];
      if (replaced.length > 0)
        notices.push(
          `${who} replaces ${file}'s ${replaced.join(' and ')} with its deployment ${deploymentId}.`,
        );
    }
  }
  return {
    scenarios: scenarios.map(({ deploymentId: _deploymentId, region: _region, ...scenario }) => ({
      ...scenario,
      deploymentId,
    })),
    notices,
  };
}
