/**
 * The one logging interface of this codebase: what the worker, the Lambdas' middlewares, the relay,
 * the Genesys client and both emulators write to. The redacting Powertools logger (./logger.ts) fits
 * it, so does `console`. A module that needs fewer levels takes `Pick<Log, 'warn'>`. No imports: the
 * Genesys client and the emulators use it without pulling in Powertools.
 */
export interface Log {
  debug(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

const quiet = (): void => {};

/** A Log that writes nothing: the default where a logger is optional. */
export const silentLog: Log = Object.freeze({ debug: quiet, info: quiet, warn: quiet, error: quiet });
