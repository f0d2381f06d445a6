/**
 * `npm run emulator [-- --port 8787 --host 127.0.0.1 --deployment-id <uuid> --script bot.yaml --no-script --verbose]`
 * Runs the Genesys emulator until SIGINT/SIGTERM. The port also comes from EMULATOR_PORT.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { type BotScript, parseBotScript, startGenesysEmulator } from '../src/genesys/emulator/index.js';

const DEFAULT_PORT = 8787;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'deployment-id': { type: 'string' },
    script: { type: 'string' },
    'no-script': { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
});

function portFrom(value: string, name: string): number {
  const port = Number(value);
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be a port number (0-65535), got "${value}"`);
  }
  return port;
}

function loadScript(path: string): BotScript {
  const text = readFileSync(path, 'utf8');
  return parseBotScript(/\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text));
}

const port =
  values.port !== undefined
    ? portFrom(values.port, '--port')
    : process.env.EMULATOR_PORT
      ? portFrom(process.env.EMULATOR_PORT, 'EMULATOR_PORT')
      : DEFAULT_PORT;
const script = values['no-script'] ? null : values.script ? loadScript(values.script) : undefined;
const quiet = () => {};
const emulator = await startGenesysEmulator({
  port,
  host: values.host,
  deploymentId: values['deployment-id'],
  script,
  logger: {
    debug: values.verbose ? (...a: unknown[]) => console.log('[debug]', ...a) : quiet,
    info: (...a: unknown[]) => console.log(...a),
    warn: (...a: unknown[]) => console.warn(...a),
    error: (...a: unknown[]) => console.error(...a),
  },
});

console.log(`
Genesys emulator ready
  guest WebSocket   ${emulator.wsUrl}?deploymentId=${emulator.deploymentId}
  REST base         ${emulator.httpUrl}
  deployment id     ${emulator.deploymentId}
  OAuth client      emulator-client / emulator-secret (client credentials)
  console           ${emulator.httpUrl}/emulator/sessions, ws${emulator.httpUrl.slice(4)}/emulator/console
  bot script        ${script === null ? 'none' : (script?.name ?? 'default')}
Press Ctrl+C to stop.`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the emulator`);
  emulator.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
