/**
 * The language models that play the guest in generative scenarios (docs/ci.md), behind one small
 * interface: given the scenario's prompt and the conversation so far, the guest's next message.
 */

/** One message of the conversation as the model sees it: what it said (as the guest), or the bot's reply. */
export interface ChatTurn {
  readonly role: 'guest' | 'bot';
  readonly text: string;
}

export interface TokenUsage {
  readonly prompt: number;
  readonly completion: number;
}

export interface ModelReply {
  readonly text: string;
  readonly usage: TokenUsage;
}

export interface ReplyOptions {
  /** The most tokens the reply may use. */
  readonly maxTokens: number;
  /** Aborted when the turn's time is up. */
  readonly signal: AbortSignal;
}

export interface ChatModel {
  /** For reports: the provider and model, e.g. `openai-compatible gpt-4o-mini`. */
  readonly description: string;
  /** The guest's next message. @throws ModelError */
  reply(prompt: string, turns: readonly ChatTurn[], options: ReplyOptions): Promise<ModelReply>;
}

export type ModelErrorCode =
  /** The provider kept answering 429 after its retries. */
  | 'rate_limited'
  /** No answer within the turn's time. */
  | 'timeout'
  /** The key was refused (401/403). */
  | 'auth'
  /** Any other HTTP error status. */
  | 'http'
  /** Nothing listens, DNS, TLS: the request never got an answer. */
  | 'connection'
  /** An answer that is not a chat completion, or one without text. */
  | 'malformed';

/** A model call that failed; the scenario fails with this reason, never waits. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A provider or its configuration is wrong: found when the files are loaded (exit code 2). */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
}
