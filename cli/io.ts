/** Where the CLI writes, and its colours: only when the stream is a terminal (and NO_COLOR is unset). */
export interface Colors {
  red(text: string): string;
  green(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  cyan(text: string): string;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly color: Colors;
  /** Lines typed by the user (chat); absent when stdin is not readable. */
  readonly input?: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Resolves when the user asks to stop (Ctrl-C / SIGTERM). Calling it says the command stops by itself
   * (closes what it opened) when asked; until a command has, Ctrl-C ends the process at once, as a
   * terminal user expects (processIo), and a second Ctrl-C always does.
   */
  interrupted(): Promise<string>;
}

/** A problem the user can fix: printed as `error: …`, exit code 2 (bad input) or 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export const ANSI: Colors = {
  red: wrap(31, 39),
  green: wrap(32, 39),
  cyan: wrap(36, 39),
  dim: wrap(2, 22),
  bold: wrap(1, 22),
};

const same = (text: string) => text;
export const PLAIN: Colors = { red: same, green: same, cyan: same, dim: same, bold: same };

/** Exit codes of a process ended by a signal, as shells report them (128 + the signal's number). */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

export function processIo(): Io {
  const tty = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  // A listener keeps Node from ending the process on a signal, so a command that never asked (reading
  // `--token -`, opening a connection, a scenario run) would ignore Ctrl-C: end it here instead.
  let watched = false;
  let asked = false;
  let resolveInterrupted: (signal: string) => void = () => {};
  const interrupted = new Promise<string>((resolve) => {
    resolveInterrupted = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!watched || asked) {
      process.stderr.write(`\n${signal}: stopped\n`);
      process.exit(SIGNAL_EXIT[signal] ?? 1);
    }
    asked = true;
    resolveInterrupted(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Output piped into a reader that stopped (`| head`): the rest is not wanted; stop quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    color: tty ? ANSI : PLAIN,
    input: process.stdin,
    env: process.env,
    interrupted: () => {
      watched = true;
      return interrupted;
    },
  };
}
