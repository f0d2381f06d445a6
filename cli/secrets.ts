/**
 * Secret-bearing options (`--token`, `--secret`, `--genesys-client-secret`), one convention for all:
 *
 * - the environment variable (GUEST_RELAY_TOKEN, ACCESS_TOKEN_SECRET, GENESYS_CLIENT_SECRET), preferred;
 * - `--token -`: one line read from stdin (a pipe, a file, a secret manager's CLI);
 * - `--token <value>`: still works, but the value is visible to every user of the machine in `ps` (and
 *   stays in shell history), so it prints a one-line warning to stderr.
 *
 * The option's own value wins over the environment. No message here ever contains a secret.
 */
import { CliError, type Io } from './io.js';

/** The option value that means "read it from stdin". */
export const FROM_STDIN = '-';

/** A line longer than this is not a token or a key: refuse it rather than buffer without bound. */
const MAX_LINE_BYTES = 64 * 1024;

export interface SecretOption {
  /** The key commander stores the value under ('token', 'secret', 'genesysClientSecret'). */
  readonly key: string;
  /** The flag as typed, for messages ('--token'). */
  readonly flag: string;
  /** The environment variable that can carry it instead. */
  readonly env: string;
  /** Missing altogether is a usage error (exit 2). */
  readonly required?: boolean;
}

/** The help text's note on where a secret option may come from. */
export function secretHelp(what: string, option: Pick<SecretOption, 'flag' | 'env'>): string {
  return `${what}; better from ${option.env}, or "${option.flag} -" to read it from stdin`;
}

/**
 * `options` with each secret option taken from its flag, stdin (`-`) or the environment, in the order
 * given (two `-` read two lines). A flag given its value on the command line prints the warning.
 */
export async function resolveSecretOptions<T extends object>(
  options: T,
  secrets: readonly SecretOption[],
  io: Io,
): Promise<T> {
  const resolved: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  for (const option of secrets) {
    const given = resolved[option.key];
    let value: string | undefined;
    if (given === FROM_STDIN) {
      value = await readSecretLine(io, option);
    } else if (typeof given === 'string') {
      io.err(
        `warning: ${option.flag} on the command line is visible to other users of this machine (ps, shell ` +
          `history); set ${option.env} or pass "${option.flag} -" to read it from stdin instead.\n`,
      );
      value = given;
    } else {
      value = nonEmpty(io.env[option.env]);
    }
    if (value === undefined) {
      if (option.required) {
        throw new CliError(
          `missing ${option.flag}: set ${option.env}, or pass "${option.flag} -" to read it from stdin.`,
          2,
        );
      }
      delete resolved[option.key];
    } else {
      resolved[option.key] = value;
    }
  }
  return resolved as T;
}

async function readSecretLine(io: Io, option: SecretOption): Promise<string> {
  if (io.input === undefined) {
    throw new CliError(`${option.flag} - reads stdin, which is not readable here; set ${option.env}.`, 2);
  }
  // At a terminal nothing else says that the command waits for a line.
  if ((io.input as { isTTY?: boolean }).isTTY === true) {
    io.err(
      `${option.flag} -: paste the value and press Enter (Ctrl-C cancels; ${option.env} saves typing it): `,
    );
  }
  const line = nonEmpty(await readLine(io.input));
  if (line === undefined) {
    throw new CliError(`${option.flag} -: stdin gave no line to read (set ${option.env} instead?).`, 2);
  }
  return line;
}

/**
 * One line of `input` (without its `\n` or `\r\n`), or what is there at its end. Whatever came after
 * the line is pushed back and the stream paused, so a later reader (chat's prompt) gets it. Its handle
 * (process.stdin is a socket for a pipe or a terminal) no longer keeps the process alive: a command that
 * reads nothing more exits while its stdin stays open; chat lives on through its WebSocket.
 */
export function readLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error: Error | undefined, line?: string, rest?: Buffer): void => {
      input.removeListener('readable', onReadable);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      if (rest !== undefined && rest.length > 0) input.unshift(rest);
      input.pause();
      (input as { unref?: () => void }).unref?.();
      if (error !== undefined) reject(error);
      else resolve((line ?? '').replace(/\r$/, ''));
    };
    const onReadable = (): void => {
      for (;;) {
        const chunk = input.read() as Buffer | string | null;
        if (chunk === null) return;
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        const newline = bytes.indexOf(0x0a);
        if (newline >= 0) {
          chunks.push(bytes.subarray(0, newline));
          done(undefined, Buffer.concat(chunks).toString('utf8'), bytes.subarray(newline + 1));
          return;
        }
        chunks.push(bytes);
        size += bytes.length;
        if (size > MAX_LINE_BYTES) {
          done(new CliError(`stdin: no end of line within ${MAX_LINE_BYTES} bytes.`, 2));
          return;
        }
      }
    };
    const onEnd = (): void => done(undefined, Buffer.concat(chunks).toString('utf8'));
    const onError = (error: Error): void => done(new CliError(`stdin: ${error.message}`, 1));
    input.on('readable', onReadable);
    input.on('end', onEnd);
    input.on('error', onError);
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed.length === 0 ? undefined : trimmed;
}
