/**
 * `guest-relay test <files, folders or globs>`: scripted conversations against a local or a running stack.
 * Everything that can be wrong with the input (options, `--url`, files) is refused with exit code 2
 * before any stack starts or any scenario runs; docs/ci.md documents the options and exit codes.
 */
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { EMBEDDED, type LocalOptions, type LocalStack, startLocalStack } from '../../local/stack.js';
import { CliError, type Io } from '../io.js';
import { scenarioFiles } from './files.js';
import { ModelConfigError } from './models/model.js';
import { modelsFor } from './models/providers.js';
import {
  emulatorPlatformApi,
  ParticipantData,
  type PlatformApiConfig,
  platformApiForRegion,
} from './participant-data.js';
import { formatResult, json, junit, summary } from './report.js';
import { runAll, type Target } from './runner.js';
import { parseScenarioFile, type Scenario, ScenarioFileError } from './scenario.js';
import { discoverStack } from './stack-discovery.js';
import { chooseStack, onEmulator, type StackChoice, withOverrides } from './target.js';

export interface TestOptions {
  readonly url?: string;
  readonly token?: string;
  /** The built-in Genesys emulator, whatever deployment the files name (the default without --url). */
  readonly emulator?: boolean;
  readonly deploymentId?: string;
  readonly region?: string;
  readonly origin?: string;
  readonly parallel: number;
  /** Seconds a step waits unless it says otherwise (every file's `stepTimeoutSeconds`). */
  readonly timeout?: number;
  readonly failuresOnly?: boolean;
  /** Generative scenarios' placeholder choices (and the model's seed); random when absent, and printed. */
  readonly seed?: number;
  readonly junit?: string;
  readonly json?: string;
  readonly genesysRegion?: string;
  readonly genesysApiUrl?: string;
  readonly genesysLoginUrl?: string;
  readonly genesysClientId?: string;
  readonly genesysClientSecret?: string;
}

async function loadScenarios(patterns: readonly string[]): Promise<Scenario[]> {
  const files = await scenarioFiles(patterns);
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

function platformApi(options: TargetOptions): PlatformApiConfig | undefined {
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

const needsParticipantData = (scenarios: readonly Scenario[]): boolean =>
  scenarios.some((scenario) => scenario.steps.some((placed) => placed.step.kind === 'expectParticipantData'));

/** `npm start`'s emulator, found through the stack at `--url` (stack-discovery.ts); undefined otherwise. */
async function participantDataFromStack(url: string, io: Io): Promise<ParticipantData | undefined> {
  const found = await discoverStack(url);
  const note = (text: string): void => io.err(io.color.dim(`expectParticipantData: ${text}\n`));
  if (!found.ok) {
    note(`the stack at --url is not a local stack (${found.reason}).`);
    return undefined;
  }
  if (found.info.emulatorUrl === undefined) {
    note(
      'the local stack at --url talks to real Genesys: its participant data needs the --genesys-* options.',
    );
    return undefined;
  }
  note(`read from the Genesys emulator of the local stack at --url (${found.info.emulatorUrl}).`);
  return new ParticipantData(emulatorPlatformApi(found.info.emulatorUrl));
}

/**
 * The models of the generative scenarios (made now, so that a missing key is bad input: exit 2) and the
 * run's seed, said once so that the run can be repeated.
 */
function generativeModels(
  scenarios: readonly Scenario[],
  options: TargetOptions,
  io: Io,
): Pick<Target, 'model' | 'seed'> {
  const settings = scenarios.flatMap((scenario) => (scenario.generative ? [scenario.generative.ai] : []));
  if (settings.length === 0) return {};
  const seed = options.seed ?? randomInt(2 ** 31 - 1);
  try {
    const model = modelsFor(settings, io.env, seed);
    io.err(
      io.color.dim(
        `Generative scenarios: ${settings.length}, seed ${seed} (the same placeholders again: --seed ${seed}).\n`,
      ),
    );
    return { model, seed };
  } catch (error) {
    if (error instanceof ModelConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

function originNotice(choice: StackChoice, origin: string | undefined): string | undefined {
  if (origin === undefined || choice.kind === 'genesys') return undefined;
  return choice.kind === 'url'
    ? "--origin is not used with --url: the stack's workers present the origin their deployment expects."
    : '--origin is not used with the emulator: it checks no origin.';
}

/** What `prepareTarget` reads: the options of where scenarios run (`guest-relay test` and `load`). */
export type TargetOptions = Omit<TestOptions, 'parallel' | 'failuresOnly' | 'junit' | 'json'>;

/** Where scenarios run: the target, the scenarios as placed there, what to tell the user, and the stack started for the run. */
export interface PreparedTarget {
  readonly target: Target;
  readonly scenarios: Scenario[];
  readonly notices: string[];
  /** A local stack started for the run: stop it when done. */
  readonly stack?: LocalStack;
}

/**
 * Checks the options (exit 2, before anything starts) and opens the target: the stack at `--url`, or a
 * local stack started for the run, with the emulator (`emulator`: extra options of its bot) or in front of
 * the Genesys deployment the environment names.
 */
export async function prepareTarget(
  patterns: readonly string[],
  options: TargetOptions,
  io: Io,
  emulator: LocalOptions['emulator'] = {},
): Promise<PreparedTarget> {
  // Bad input first, and all of it before a stack starts or a scenario runs (exit code 2).
  const choice = chooseStack(options, io.env);
  if (choice.kind === 'url' && options.token === undefined)
    throw new CliError('--url needs --token (or GUEST_RELAY_TOKEN).', 2);
  const api = platformApi(options);
  const flags = {
    ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
    ...(options.region === undefined ? {} : { region: options.region }),
  };
  let scenarios = withOverrides(await loadScenarios(patterns), {
    ...flags,
    ...(options.timeout === undefined ? {} : { stepTimeoutMs: Math.round(options.timeout * 1000) }),
  });
  const notices = [originNotice(choice, options.origin)].filter((n): n is string => n !== undefined);
  const generative = generativeModels(scenarios, options, io);

  if (choice.kind === 'url') {
    const participantData = api
      ? new ParticipantData(api)
      : needsParticipantData(scenarios)
        ? await participantDataFromStack(choice.url, io)
        : undefined;
    const target = {
      url: choice.url,
      token: options.token as string,
      ...(participantData ? { participantData } : {}),
      ...generative,
    };
    return { target, scenarios, notices };
  }
  let stack: LocalStack;
  if (choice.kind === 'emulator') {
    io.err(io.color.dim('Starting a local stack with the Genesys emulator for this run…\n'));
    stack = await startLocalStack({ ...EMBEDDED, emulator });
    const placed = onEmulator(scenarios, stack.deploymentId, flags, choice.explicit);
    scenarios = placed.scenarios;
    notices.push(...placed.notices);
    const target = {
      url: stack.wsUrl,
      token: stack.token,
      participantData: new ParticipantData(emulatorPlatformApi(stack.emulatorUrl as string)),
      ...generative,
    };
    return { target, scenarios, notices, stack };
  }
  io.err(
    io.color.dim(
      `Starting a local stack in front of Genesys deployment ${choice.genesys.deploymentId} for this run…\n`,
    ),
  );
  stack = await startLocalStack({ ...EMBEDDED, genesys: choice.genesys });
  const target = {
    url: stack.wsUrl,
    token: stack.token,
    ...(api ? { participantData: new ParticipantData(api) } : {}),
    ...generative,
  };
  return { target, scenarios, notices, stack };
}

export async function runTest(patterns: readonly string[], options: TestOptions, io: Io): Promise<void> {
  const prepared = await prepareTarget(patterns, options, io);
  try {
    for (const notice of prepared.notices) io.err(`${notice}\n`);
    await run(prepared.scenarios, prepared.target, options, io);
  } finally {
    await prepared.stack?.stop();
  }
}

async function run(
  scenarios: readonly Scenario[],
  target: Target,
  options: TestOptions,
  io: Io,
): Promise<void> {
  const tty = process.stderr.isTTY === true;
  const clear = (): void => {
    if (tty) io.err('\r\u001b[2K');
  };
  const started = Date.now();
  let done = 0;
  let failed = 0;
  let running = 0;
  const progress = (): void => {
    if (!tty) return;
    io.err(io.color.dim(`[${done}/${scenarios.length}] ${failed} failed, ${running} running`));
  };
  const results = await runAll(
    scenarios,
    target,
    options.parallel,
    (result, stillRunning) => {
      done++;
      running = stillRunning;
      if (!result.passed) failed++;
      clear();
      if (!result.passed || options.failuresOnly !== true) io.out(formatResult(result, io.color));
      progress();
    },
    (scenario, line) => {
      clear();
      io.err(`${io.color.dim('…')} ${scenario.name} ${io.color.dim(`(${scenario.file})`)}: ${line}\n`);
      progress();
    },
  );
  clear();
  const duration = Date.now() - started;
  io.out(summary(results, duration, io.color));
  if (options.junit !== undefined) writeFileSync(options.junit, junit(results, new Date(started)));
  if (options.json !== undefined) writeFileSync(options.json, json(results, duration));
  const failures = results.filter((r) => !r.passed).length;
  if (failures > 0) throw new CliError(`${failures} of ${results.length} scenarios failed.`, 1);
}
