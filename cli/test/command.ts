/** `guest-relay test <files or globs>`: scripted conversations against a local or deployed stack. */
import { writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { EMBEDDED, type LocalStack, startLocalStack } from '../../local/stack.js';
import { CliError, type Io } from '../io.js';
import {
  emulatorPlatformApi,
  ParticipantData,
  type PlatformApiConfig,
  platformApiForRegion,
} from './participant-data.js';
import { formatResult, json, junit, summary } from './report.js';
import { runAll, type Target } from './runner.js';
import { parseScenarioFile, type Scenario, ScenarioFileError } from './scenario.js';

export interface TestOptions {
  readonly url?: string;
  readonly token?: string;
  readonly parallel: number;
  readonly junit?: string;
  readonly json?: string;
  readonly genesysRegion?: string;
  readonly genesysApiUrl?: string;
  readonly genesysLoginUrl?: string;
  readonly genesysClientId?: string;
  readonly genesysClientSecret?: string;
}

/**
 * The files the patterns name. A plain path stays as the user wrote it (so errors name the file the way
 * they named it); a glob's matches are relative to the working directory, or absolute for an absolute glob.
 */
async function scenarioFiles(patterns: readonly string[]): Promise<string[]> {
  const files = new Set<string>();
  for (const pattern of patterns) {
    if (!isDynamicPattern(pattern)) {
      if ((await stat(pattern).catch(() => undefined))?.isFile()) files.add(pattern);
      continue;
    }
    const found = await glob([pattern], {
      onlyFiles: true,
      expandDirectories: false,
      absolute: isAbsolute(pattern),
    });
    for (const file of found) files.add(file);
  }
  return [...files].sort();
}

async function loadScenarios(patterns: readonly string[]): Promise<Scenario[]> {
  const files = await scenarioFiles(patterns);
  if (files.length === 0) throw new CliError(`No scenario file matches ${patterns.join(' ')}.`, 2);
  const problems: ScenarioFileError['problems'][number][] = [];
  const scenarios: Scenario[] = [];
  for (const file of files) {
    try {
      scenarios.push(...parseScenarioFile(file, await readFile(file, 'utf8')));
    } catch (error) {
      if (error instanceof ScenarioFileError) problems.push(...error.problems);
      else throw error;
    }
  }
  if (problems.length > 0) {
    throw new CliError(
      `invalid scenario files:\n${problems.map((p) => `  ${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n')}`,
      2,
    );
  }
  return scenarios;
}

function platformApi(options: TestOptions): PlatformApiConfig | undefined {
  const { genesysClientId: id, genesysClientSecret: secret } = options;
  if (id === undefined && secret === undefined) return undefined;
  if (id === undefined || secret === undefined) {
    throw new CliError('--genesys-client-id and --genesys-client-secret go together.', 2);
  }
  if (options.genesysApiUrl !== undefined) {
    if (options.genesysLoginUrl === undefined)
      throw new CliError('--genesys-api-url needs --genesys-login-url.', 2);
    return {
      apiUrl: options.genesysApiUrl,
      loginUrl: options.genesysLoginUrl,
      clientId: id,
      clientSecret: secret,
    };
  }
  if (options.genesysRegion === undefined) {
    throw new CliError(
      'The Genesys OAuth client needs --genesys-region (or --genesys-api-url and --genesys-login-url).',
      2,
    );
  }
  try {
    return platformApiForRegion(options.genesysRegion, id, secret);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
}

export async function runTest(patterns: readonly string[], options: TestOptions, io: Io): Promise<void> {
  const scenarios = await loadScenarios(patterns);
  let stack: LocalStack | undefined;
  let target: Target;
  if (options.url !== undefined) {
    if (options.token === undefined) throw new CliError('--url needs --token (or GUEST_RELAY_TOKEN).', 2);
    const api = platformApi(options);
    target = {
      url: options.url,
      token: options.token,
      ...(api ? { participantData: new ParticipantData(api) } : {}),
    };
  } else {
    io.err(io.color.dim('No --url: starting a local stack for this run…\n'));
    stack = await startLocalStack(EMBEDDED);
    target = {
      url: stack.wsUrl,
      token: stack.token,
      participantData: new ParticipantData(emulatorPlatformApi(stack.emulatorUrl as string)),
    };
  }
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  let done = 0;
  let failed = 0;
  const progress = (running: number): void => {
    if (!tty) return;
    io.err(
      `\r\u001b[2K${io.color.dim(`[${done}/${scenarios.length}] ${failed} failed, ${running} running`)}`,
    );
  };
  try {
    const results = await runAll(scenarios, target, options.parallel, (result, running) => {
      done++;
      if (!result.passed) failed++;
      if (tty) io.err('\r\u001b[2K');
      io.out(formatResult(result, io.color));
      progress(running);
    });
    if (tty) io.err('\r\u001b[2K');
    const duration = Date.now() - started;
    io.out(summary(results, duration, io.color));
    if (options.junit !== undefined) writeFileSync(options.junit, junit(results, new Date(started)));
    if (options.json !== undefined) writeFileSync(options.json, json(results, duration));
    const failures = results.filter((r) => !r.passed).length;
    if (failures > 0) throw new CliError(`${failures} of ${results.length} scenarios failed.`, 1);
  } finally {
    await stack?.stop();
  }
}
