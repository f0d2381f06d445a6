/**
 * The `guest-relay` command (commander 14): `start`, `chat`, `token`, `transcript`, `emulator`.
 * Each command's work lives in its own module; this file is the interface: names, flags, help, and how
 * an error becomes a message and an exit code (1: failed, 2: bad input).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ACCESS_TOKEN_ROLES } from '../src/auth/tokens.js';
import type { ResponseTime } from '../src/genesys/emulator/index.js';
import { COMMANDS, runChat } from './chat.js';
import { argParser, botErrorRateArg, botLatencyArg, runEmulator } from './emulator.js';
import { CliError, type Io } from './io.js';
import { parseDuration, parseRamp, parseThink, runLoadCommand } from './load/command.js';
import { runTest } from './scenarios/command.js';
import { expandTestAliases } from './scenarios/legacy-flags.js';
import { resolveSecretOptions, type SecretOption, secretHelp } from './secrets.js';
import { runStart } from './start.js';
import { runToken } from './token.js';
import { runTranscript } from './transcript.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('a port number (0-65535)');
  return n;
}

/** The secret-bearing options (cli/secrets.ts): environment, `-` for stdin, or (warned) the argument. */
const TOKEN: SecretOption = { key: 'token', flag: '--token', env: 'GUEST_RELAY_TOKEN' };
const SIGNING_SECRET: SecretOption = { key: 'secret', flag: '--secret', env: 'ACCESS_TOKEN_SECRET' };
const CLIENT_SECRET: SecretOption = {
  key: 'genesysClientSecret',
  flag: '--genesys-client-secret',
  env: 'GENESYS_CLIENT_SECRET',
};

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1');
  return n;
}

/** A seed for generative scenarios' placeholder choices: 0 to 2^31 - 1. */
function seed(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 31 - 1)
    throw new InvalidArgumentError('a whole number from 0 to 2147483647');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError('a fraction from 0 to 1, e.g. 0.01');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number of seconds greater than 0');
  return n;
}

/** What the connect frame accepts (src/protocol/client-frames.ts), checked before anything runs. */
function deploymentId(value: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value))
    throw new InvalidArgumentError('a Genesys deployment id (letters, digits and "-")');
  return value;
}

function regionDomain(value: string): string {
  if (!/^[a-z0-9._-]{2,64}$/.test(value))
    throw new InvalidArgumentError('a Genesys region domain such as mypurecloud.ie');
  return value;
}

/**
 * Where scenarios run, for `test` and `load` alike: a running stack (`--url`, `--token`), or a local stack
 * started for the run, with the emulator or in front of real Genesys; the deployment and region of every
 * scenario.
 */
function withTargetOptions(command: Command): Command {
  return command
    .option(
      '--url <url>',
      'a running stack (ws:// or wss://); without it a local stack is started for the run',
    )
    .addOption(new Option('--token <token>', secretHelp('access token for --url', TOKEN)))
    .addOption(
      new Option(
        '--emulator',
        "run on a local stack's Genesys emulator, whatever deployment the files name (the default without --url and GENESYS_DEPLOYMENT_ID)",
      ).conflicts('url'),
    )
    .addOption(
      new Option('--deployment-id <id>', 'the Genesys deployment of every scenario (short: -id)').argParser(
        deploymentId,
      ),
    )
    .addOption(
      new Option(
        '-r, --region <region>',
        'the Genesys region domain of every scenario, e.g. mypurecloud.ie',
      ).argParser(regionDomain),
    )
    .option('-o, --origin <origin>', 'the origin a local stack presents to real Genesys (GENESYS_ORIGIN)');
}

export function buildProgram(io: Io): Command {
  const program = new Command('guest-relay')
    .description(
      'Simulated Genesys Cloud Web Messaging guests: run the stack, chat, mint tokens, export transcripts.',
    )
    .version('0.1.0')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');

  program
    .command('start')
    .description(
      'Run the whole system on this machine (database, gateway, handlers, worker, Genesys emulator, web page).',
    )
    .addOption(
      new Option('--host <host>', 'address every server listens on')
        .env('GUEST_RELAY_HOST')
        .default('127.0.0.1'),
    )
    .addOption(new Option('--port <port>', 'web page').env('GUEST_RELAY_PORT').argParser(port).default(3000))
    .addOption(
      new Option('--api-port <port>', 'public WebSocket API')
        .env('GUEST_RELAY_API_PORT')
        .argParser(port)
        .default(3001),
    )
    .addOption(
      new Option('--control-port <port>', 'control API (workers)')
        .env('GUEST_RELAY_CONTROL_PORT')
        .argParser(port)
        .default(3002),
    )
    .addOption(
      new Option('--emulator-port <port>', 'Genesys emulator')
        .env('EMULATOR_PORT')
        .argParser(port)
        .default(8787),
    )
    .addOption(
      new Option(
        '--secret <secret>',
        secretHelp('token signing secret (default: random per run)', SIGNING_SECRET),
      ),
    )
    .addOption(
      new Option('--log-level <level>', 'log level of the services')
        .choices(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'])
        .env('LOG_LEVEL')
        .default('WARN'),
    )
    .addHelpText(
      'after',
      `
Real Genesys instead of the emulator:
  GENESYS_DEPLOYMENT_ID and GENESYS_REGION (e.g. eu_west_1 or mypurecloud.ie), optional GENESYS_ORIGIN;
  or GENESYS_DEPLOYMENT_ID with GENESYS_WS_URL and GENESYS_API_URL for any other guest-API endpoint.`,
    )
    .action(async (options) => runStart(await resolveSecretOptions(options, [SIGNING_SECRET], io), io));

  program
    .command('chat')
    .description('Talk as a guest from the terminal, against any guest-relay stack.')
    .requiredOption('--url <url>', 'the public WebSocket URL (ws:// or wss://)')
    .addOption(new Option('--token <token>', secretHelp('an access token (guest role)', TOKEN)))
    .option('--session <sessionId>', 'resume this session instead of starting one')
    .option('--deployment-id <id>', 'the Genesys deployment of a new session')
    .option('--json', 'for scripts: events out and frames in as JSON lines (see below)')
    .addHelpText(
      'after',
      `
In the chat: type a line to send it; a number picks a numbered choice (quick reply, card button) of the
latest message. Commands:
${COMMANDS.map(([name, what]) => `  ${name.padEnd(8)} ${what}`).join('\n')}

--json: every event the stack sends is written to stdout as one JSON line, exactly as received; every
stdin line is a JSON frame to send as is (a line that is not a JSON object is reported on stderr as
{"type":"cliError","message":…} and not sent). The chat sends connect itself (--session, --deployment-id),
so its answer is the first line; it exits when the session ends or the connection closes (the end of
stdin alone does not end it: send {"action":"end"} or press Ctrl-C). No prompt, colours or banner.`,
    )
    .action(async (options) =>
      runChat(await resolveSecretOptions(options, [{ ...TOKEN, required: true }], io), io),
    );

  program
    .command('token')
    .description('Mint an access token from the signing secret.')
    .addOption(new Option('--secret <secret>', secretHelp('the signing secret', SIGNING_SECRET)))
    .addOption(new Option('--team <team>', 'the team the token belongs to').default('local'))
    .addOption(
      new Option('--role <role>', 'what it may do').choices([...ACCESS_TOKEN_ROLES]).default('guest'),
    )
    .addOption(
      new Option('--ttl <seconds>', 'lifetime in seconds (at most 86400)').argParser(positive).default(3600),
    )
    .addOption(new Option('--subject <subject>', 'who it is for (appears in logs)'))
    .addOption(
      new Option('--audience <audience>', 'must match the stack')
        .env('ACCESS_TOKEN_AUDIENCE')
        .default('guest-relay'),
    )
    .action(async (options) =>
      runToken(await resolveSecretOptions(options, [{ ...SIGNING_SECRET, required: true }], io), io),
    );

  program
    .command('transcript')
    .description('Export a session as JSON or Markdown.')
    .requiredOption('--url <url>', 'the public WebSocket URL')
    .addOption(new Option('--token <token>', secretHelp('an access token', TOKEN)))
    .requiredOption('--session <sessionId>', 'the session to export')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'md']).default('json'))
    .action(async (options) =>
      runTranscript(await resolveSecretOptions(options, [{ ...TOKEN, required: true }], io), io),
    );

  withTargetOptions(
    program
      .command('test')
      .description(
        'Run scripted conversations, and generative ones where a language model plays the guest (YAML scenario files), against a local stack or a running one.',
      )
      .argument(
        '<paths...>',
        'scenario files, folders (every .yaml, .yml, .json under them) or globs ("tests/**/*.yaml")',
      ),
  )
    .addOption(new Option('-p, --parallel <n>', 'scenarios at once').argParser(positive).default(1))
    .addOption(
      new Option(
        '-t, --timeout <seconds>',
        "how long a step waits (every file's stepTimeoutSeconds)",
      ).argParser(seconds),
    )
    .option('--failures-only', 'print only the scenarios that failed (short: -fo)')
    .addOption(
      new Option(
        '--seed <n>',
        "generative scenarios: chooses their placeholders (and is the model's seed); default random, printed",
      ).argParser(seed),
    )
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--json <file>', 'write a JSON report')
    .addOption(
      new Option('--genesys-region <region>', 'for expectParticipantData: the Genesys region').env(
        'GENESYS_REGION',
      ),
    )
    .addOption(
      new Option('--genesys-client-id <id>', 'for expectParticipantData: an OAuth client').env(
        'GENESYS_CLIENT_ID',
      ),
    )
    .addOption(
      new Option(
        '--genesys-client-secret <secret>',
        secretHelp('for expectParticipantData: its secret', CLIENT_SECRET),
      ),
    )
    .option('--genesys-api-url <url>', 'another Platform API base (with --genesys-login-url)')
    .option('--genesys-login-url <url>', 'where POST /oauth/token is')
    .addHelpText(
      'after',
      `
Without --url a local stack is started for the run: with the Genesys emulator (--emulator), or, when
GENESYS_DEPLOYMENT_ID is set (GENESYS_REGION, or GENESYS_WS_URL and GENESYS_API_URL, as for start), in
front of that Genesys deployment.
-id and -fo are the two-letter short flags of the existing Web Messaging scenario testers: they are read
as --deployment-id and --failures-only (commander itself reads one-letter short flags only).
Generative scenarios read their model's key from the environment: OPENAI_API_KEY (and OPENAI_BASE_URL,
OPENAI_MODEL) for chatgpt/openai, Application Default Credentials or GOOGLE_VERTEX_ACCESS_TOKEN for
google-vertex-ai.
Exit codes: 0 all passed, 1 a scenario failed, 2 bad input (nothing ran). Scenario format: docs/ci.md.`,
    )
    .action(async (files: string[], options) =>
      runTest(files, await resolveSecretOptions(options, [TOKEN, CLIENT_SECRET], io), io),
    );

  withTargetOptions(
    program
      .command('load')
      .description(
        'Many simulated guests at once, each running scenario files (as guest-relay test), with a report per step.',
      )
      .argument(
        '<paths...>',
        'scenario files, folders or globs (scripted scenarios; as for guest-relay test)',
      ),
  )
    .addOption(new Option('-g, --guests <n>', 'guests at most').argParser(positive).default(10))
    .addOption(
      new Option('--ramp <rate>', 'guests started a second: "10/s"')
        .argParser(argParser(parseRamp))
        .default(5),
    )
    .addOption(
      new Option('-d, --duration <time>', 'keep starting scenarios this long: "60s", "5m"').argParser(
        argParser(parseDuration),
      ),
    )
    .addOption(
      new Option(
        '-n, --iterations <n>',
        'scenarios each guest runs (default 1 without --duration)',
      ).argParser(positive),
    )
    .addOption(
      new Option('--think <time>', 'pause before each step after the first: "1s", "1-3s", "0"')
        .argParser(argParser(parseThink))
        .default({ min: 1000, max: 1000 }, '1s'),
    )
    .addOption(
      new Option(
        '--max-p95 <ms>',
        'fail (exit 1) when the p95 time to the first reply is over this',
      ).argParser(positive),
    )
    .addOption(
      new Option(
        '--max-error-rate <fraction>',
        'fail (exit 1) when more than this share of steps failed',
      ).argParser(fraction),
    )
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--json <file>', 'write the report as JSON')
    .addOption(
      new Option(
        '-t, --timeout <seconds>',
        "how long a step waits (every file's stepTimeoutSeconds)",
      ).argParser(seconds),
    )
    .addOption(
      new Option(
        '--bot-latency <spec>',
        "the local emulator's bot: response time, 200ms | 100-400ms | p50=200ms,p95=800ms",
      ).argParser(botLatencyArg),
    )
    .addOption(
      new Option(
        '--bot-error-rate <fraction>',
        "the local emulator's bot: share of messages left unanswered",
      ).argParser(botErrorRateArg),
    )
    .addHelpText(
      'after',
      `
Each guest runs the scenarios one after another (guest N starts with the Nth), sends at most 2 messages a
second (Genesys' limit per session), waits out a rate_limited refusal and sends again (counted), and
ends every session it started when the run stops, Ctrl+C included (a second Ctrl+C quits at once).
The time to the first reply is measured from each message a guest sends to the bot's (or agent's) first
message after it. Exit codes: 0 thresholds met, 1 a threshold missed or nothing measured, 2 bad input.
docs/load.md.`,
    )
    .action(async (files: string[], options) => {
      const resolved = await resolveSecretOptions(options, [TOKEN], io);
      const { botLatency, botErrorRate, ...rest } = resolved as typeof resolved & {
        botLatency?: ResponseTime;
        botErrorRate?: number;
      };
      await runLoadCommand(
        files,
        {
          ...rest,
          ...(botLatency === undefined && botErrorRate === undefined
            ? {}
            : {
                bot: {
                  ...(botLatency === undefined ? {} : { responseTime: botLatency }),
                  ...(botErrorRate === undefined ? {} : { errorRate: botErrorRate }),
                },
              }),
        },
        io,
      );
    });

  program
    .command('emulator')
    .description('Run the Genesys emulator alone (guest API, agent console, faults).')
    .addOption(new Option('--port <port>', 'port').env('EMULATOR_PORT').argParser(port).default(8787))
    .option('--host <host>', 'address', '127.0.0.1')
    .option('--deployment-id <id>', 'the deployment id it serves')
    .option('--script <file>', 'bot script (YAML or JSON)')
    .option('--no-script', 'no bot: drive the agent yourself')
    .option('--verbose', 'log every guest request')
    .addOption(
      new Option(
        '--bot-latency <spec>',
        'bot response time before each answer: 200ms (fixed), 100-400ms (uniform), p50=200ms,p95=800ms (lognormal)',
      ).argParser(botLatencyArg),
    )
    .addOption(
      new Option(
        '--bot-error-rate <fraction>',
        'share of guest messages the bot leaves unanswered: 0-1 (0.05) or a percentage (5%)',
      ).argParser(botErrorRateArg),
    )
    .action(async (options) => runEmulator(options, io));

  return program;
}

/** Runs the program; resolves with the exit code for commands that finish (start/chat/emulator keep running). */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(expandTestAliases(argv), { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`${io.color.red('error:')} ${error.message}\n`);
      return error.exitCode;
    }
    // commander's own exits: help and version are 0; usage errors are 2 (already printed).
    const exit = error as { code?: string; exitCode?: number };
    if (typeof exit.code === 'string' && exit.code.startsWith('commander.')) {
      return exit.code === 'commander.helpDisplayed' ||
        exit.code === 'commander.version' ||
        exit.exitCode === 0
        ? 0
        : 2;
    }
    io.err(`${io.color.red('error:')} ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
