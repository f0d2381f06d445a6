/** `guest-relay emulator` / `npm run emulator`: the Genesys emulator alone, until Ctrl-C. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import {
  type BotBehaviour,
  type BotScript,
  formatResponseTime,
  parseBotScript,
  parseErrorRate,
  parseResponseTime,
  type ResponseTime,
  startGenesysEmulator,
} from '../src/genesys/emulator/index.js';
import { CliError, type Io } from './io.js';

export interface EmulatorOptions {
  readonly port: number;
  readonly host: string;
  readonly deploymentId?: string;
  /** A file; `false` with --no-script. */
  readonly script?: string | false;
  readonly verbose?: boolean;
  /** --bot-latency, parsed by botLatencyArg. */
  readonly botLatency?: ResponseTime;
  /** --bot-error-rate, parsed by botErrorRateArg. */
  readonly botErrorRate?: number;
}

/** commander argParsers: a bad value is a usage error (exit 2) that names the accepted forms. */
export function argParser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

export const botLatencyArg = argParser(parseResponseTime);
export const botErrorRateArg = argParser(parseErrorRate);

function botOf(options: EmulatorOptions): BotBehaviour {
  return {
    ...(options.botLatency === undefined ? {} : { responseTime: options.botLatency }),
    ...(options.botErrorRate === undefined ? {} : { errorRate: options.botErrorRate }),
  };
}

function describeBot(bot: BotBehaviour): string {
  const latency = bot.responseTime ? formatResponseTime(bot.responseTime) : 'none';
  return `response time ${latency}, error rate ${bot.errorRate ?? 0}`;
}

function loadScript(path: string): BotScript {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CliError(`Cannot read the script file ${path}.`, 2);
  }
  try {
    return parseBotScript(/\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text));
  } catch (error) {
    throw new CliError(`The script ${path} is not valid: ${(error as Error).message}`, 2);
  }
}

export async function runEmulator(options: EmulatorOptions, io: Io): Promise<void> {
  const script = options.script === false ? null : options.script ? loadScript(options.script) : undefined;
  const quiet = (): void => {};
  const bot = botOf(options);
  const emulator = await startGenesysEmulator({
    port: options.port,
    host: options.host,
    ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
    script,
    bot,
    logger: {
      debug: options.verbose ? (...a: unknown[]) => io.out(`[debug] ${a.map(String).join(' ')}\n`) : quiet,
      info: (...a: unknown[]) => io.out(`${a.map(String).join(' ')}\n`),
      warn: (...a: unknown[]) => io.err(`${a.map(String).join(' ')}\n`),
      error: (...a: unknown[]) => io.err(`${a.map(String).join(' ')}\n`),
    },
  });
  io.out(`
Genesys emulator ready
  guest WebSocket   ${emulator.wsUrl}?deploymentId=${emulator.deploymentId}
  REST base         ${emulator.httpUrl}
  deployment id     ${emulator.deploymentId}
  OAuth client      emulator-client / emulator-secret (client credentials)
  console           ${emulator.httpUrl}/emulator/sessions, ws${emulator.httpUrl.slice(4)}/emulator/console
  bot script        ${script === null ? 'none' : (script?.name ?? 'default')}
  bot behaviour     ${describeBot(bot)}
Press Ctrl+C to stop.
`);
  const signal = await io.interrupted();
  io.out(`\n${signal}: stopping the emulator\n`);
  await emulator.close();
}
