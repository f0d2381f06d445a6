/** The log methods the worker uses: the redacting Powertools Logger fits (src/logging/logger.ts). */
export interface WorkerLog {
  debug(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}
