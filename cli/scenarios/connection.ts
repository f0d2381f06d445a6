/**
 * The scenario runner's connection to a stack: the CLI's RelayClient (cli/relay-client.ts), reading frames
 * with events.ts (tolerant of event shapes a newer stack sends) and failing with a StepFailure, which the
 * report shows as the step's reason.
 */
import { RelayClient } from '../relay-client.js';
import { type RunnerEvent, readFrame } from './events.js';

/**
 * A step cannot go on: the message says why, for the report; `reason` is a short stable word for counting
 * failures (`guest-relay load`): `timeout`, `error:<code>` (the stack refused), `genesys:<code>`,
 * `unexpected_reply`, `upstream`, `connection`, or `failed`.
 */
export class StepFailure extends Error {
  override readonly name = 'StepFailure';
  readonly reason: string;
  constructor(message: string, reason = 'failed') {
    super(message);
    this.reason = reason;
  }
}

export type RunnerConnection = RelayClient<RunnerEvent>;

/** Opens the runner's connection; a refusal says which it is (wrong path, bad or expired token). */
export function openRunnerConnection(url: string, token: string): Promise<RunnerConnection> {
  return RelayClient.open(url, token, {
    read: readFrame,
    fail: (message, code) =>
      new StepFailure(
        code === undefined ? message : `${code}: ${message}`,
        code === undefined ? 'connection' : `error:${code}`,
      ),
  });
}
