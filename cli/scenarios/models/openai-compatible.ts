/**
 * Any OpenAI-compatible chat-completions endpoint: OpenAI itself, hosted models that speak the same API,
 * and local model servers. Through the `openai` client library (its retries honour `retry-after`).
 *
 * The model is told the scenario's prompt as its system message; its own earlier messages are the
 * `assistant` turns, the bot's replies the `user` turns.
 */
import OpenAI from 'openai';
import { type ChatModel, type ChatTurn, ModelError, type ModelReply, type ReplyOptions } from './model.js';

export interface OpenAiCompatibleOptions {
  readonly apiKey: string;
  /** The API's base URL, up to and including its version (`http://127.0.0.1:8080/v1`). Default: OpenAI's. */
  readonly baseUrl?: string;
  readonly model: string;
  readonly temperature?: number;
  /** Asks the model for repeatable answers (providers honour it on a best-effort basis). */
  readonly seed?: number;
  /** Retries of a failed request (429, 5xx, a dropped connection), with the library's backoff. */
  readonly maxRetries: number;
}

/**
 * The bot's side of the chat before the guest's first message: the model reads a conversation that
 * starts with the user, as chat models are trained to (and some servers refuse a system message alone).
 */
export const OPENING = '(The chat window is open. Write your first message to the chatbot.)';

/**
 * OpenAI's reasoning models refuse `max_tokens` (400, naming `max_completion_tokens`); many local servers
 * know only `max_tokens`. The first is sent until a server asks for the second.
 */
function asksForCompletionTokens(error: unknown): boolean {
  return error instanceof OpenAI.BadRequestError && /max_completion_tokens/.test(error.message);
}

export function openAiCompatible(options: OpenAiCompatibleOptions): ChatModel {
  let limitField: 'max_tokens' | 'max_completion_tokens' = 'max_tokens';
  const client = new OpenAI({
    apiKey: options.apiKey,
    maxRetries: options.maxRetries,
    ...(options.baseUrl === undefined ? {} : { baseURL: options.baseUrl }),
  });
  return {
    description: `openai-compatible ${options.model}${options.baseUrl === undefined ? '' : ` at ${shownUrl(options.baseUrl)}`}`,
    async reply(prompt: string, turns: readonly ChatTurn[], call: ReplyOptions): Promise<ModelReply> {
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: prompt },
        ...(turns[0]?.role === 'bot' ? [] : [{ role: 'user' as const, content: OPENING }]),
        ...turns.map((turn) => ({
          role: turn.role === 'guest' ? ('assistant' as const) : ('user' as const),
          content: turn.text,
        })),
      ];
      const create = () =>
        client.chat.completions.create(
          {
            model: options.model,
            messages,
            [limitField]: call.maxTokens,
            ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
            ...(options.seed === undefined ? {} : { seed: options.seed }),
          },
          { signal: call.signal },
        );
      let completion: OpenAI.Chat.ChatCompletion;
      try {
        try {
          completion = await create();
        } catch (error) {
          if (limitField === 'max_completion_tokens' || !asksForCompletionTokens(error)) throw error;
          limitField = 'max_completion_tokens';
          completion = await create();
        }
      } catch (error) {
        throw asModelError(error, call.signal, (text) => quoted(text, options.apiKey));
      }
      const text = completion?.choices?.[0]?.message?.content;
      if (typeof text !== 'string' || text.trim().length === 0) {
        throw new ModelError(
          'malformed',
          'The model answered without any text (no choices[0].message.content).',
        );
      }
      return {
        text: text.trim(),
        usage: {
          prompt: completion.usage?.prompt_tokens ?? 0,
          completion: completion.usage?.completion_tokens ?? 0,
        },
      };
    },
  };
}

/** A URL as reports may show it: without credentials (`user:pass@`) or query string. */
export function shownUrl(url: string): string {
  try {
    const shown = new URL(url);
    shown.username = '';
    shown.password = '';
    shown.search = '';
    return shown.href;
  } catch {
    return '(a URL that cannot be read)';
  }
}

/**
 * What the library or the server said, as reports may quote it: without the key (a key holding a line
 * break is quoted whole in Node's header error) or the credentials of a URL, should either be echoed.
 */
export function quoted(text: string, apiKey: string): string {
  const withoutKey = apiKey.length === 0 ? text : text.split(apiKey).join('[redacted]');
  return withoutKey.replace(/\/\/[^/\s@]*@/g, '//');
}

function asModelError(error: unknown, signal: AbortSignal, quote: (text: string) => string): ModelError {
  if (signal.aborted || error instanceof OpenAI.APIUserAbortError) {
    return new ModelError('timeout', 'The model did not answer within the turn timeout.');
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new ModelError('timeout', 'The model did not answer in time.');
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new ModelError(
      'connection',
      `The model could not be reached: ${quote(error.cause instanceof Error ? error.cause.message : error.message)}`,
    );
  }
  if (error instanceof OpenAI.RateLimitError) {
    return new ModelError(
      'rate_limited',
      `The model is rate limited (HTTP 429) after retrying: ${quote(error.message)}`,
    );
  }
  if (error instanceof OpenAI.AuthenticationError || error instanceof OpenAI.PermissionDeniedError) {
    return new ModelError('auth', `The model refused the key (HTTP ${error.status}): check OPENAI_API_KEY.`);
  }
  if (error instanceof OpenAI.APIError) {
    return new ModelError('http', `The model answered HTTP ${error.status ?? '?'}: ${quote(error.message)}`);
  }
  // The library parses the body itself: text that is not JSON ends here.
  return new ModelError(
    'malformed',
    `The model's answer could not be read: ${quote((error as Error).message)}`,
  );
}
