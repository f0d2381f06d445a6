/**
 * The one structured logger of every long-running part and Lambda: a Powertools Logger (JSON lines)
 * whose every line goes through the redaction rules of `redact.ts`, so a token, secret or signature can
 * never reach a log, whatever a caller passes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { redactingReplacer } from './redact.js';

export { type Log, silentLog } from './log.js';
export { REDACTED, redact, redactingReplacer, redactString } from './redact.js';

/** A Powertools Logger whose every line goes through the redaction rules. */
export function createRedactingLogger(options: { serviceName?: string; logLevel?: LogLevel } = {}): Logger {
  return new Logger({ ...options, jsonReplacerFn: redactingReplacer });
}
