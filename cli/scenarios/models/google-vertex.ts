/**
 * Gemini models on Google Cloud's Vertex AI (`google-vertex-ai` in scenario files), through Google's
 * `@google/genai` client library in its Vertex mode.
 *
 * The model is told the scenario's prompt as its system instruction; the scenario's examples come first as
 * (user: input, model: output) pairs; its own earlier messages are the `model` turns, the bot's replies the
 * `user` turns. A conversation that the guest opens starts with the OPENING line as the user's, as the
 * model saw it when it wrote that first message (Gemini wants the contents to start with the user).
 *
 * Credentials: a bearer token (`accessToken`, e.g. `gcloud auth print-access-token`) is sent as it is and
 * nothing else is asked for: no Application Default Credentials, no metadata server, no token endpoint.
 * Without one, the library's Application Default Credentials.
 *
 * Retries (429 and 5xx) are this file's: the library's own retries do not honour `Retry-After`, so each
 * call hands the library a fetch that retries with backoff, waiting what `Retry-After` asks when the
 * answer has one, and stops waiting when the turn's signal aborts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, type Content, type GenerateContentResponse, GoogleGenAI } from '@google/genai';
import { OAuth2Client } from 'google-auth-library';
import {
  type ChatModel,
  type ChatTurn,
  ModelConfigError,
  ModelError,
  type ModelReply,
  type ReplyOptions,
} from './model.js';
import { OPENING } from './openai-compatible.js';

export interface GoogleVertexOptions {
  /** The Google Cloud project that pays for the calls. */
  readonly project: string;
  /** The Vertex AI location (`us-central1`, `europe-west4`, `global`). */
  readonly location: string;
  /** A Gemini model, e.g. `gemini-2.5-flash`. */
  readonly model: string;
  readonly temperature?: number;
  readonly topK?: number;
  readonly topP?: number;
  /** Asks the model for repeatable answers (honoured on a best-effort basis). */
  readonly seed?: number;
  /** Example exchanges shown to the model before the conversation (the old files' `examples`). */
  readonly examples?: readonly { readonly input: string; readonly output: string }[];
  /** A bearer token (e.g. `gcloud auth print-access-token`) used instead of Application Default Credentials. */
  readonly accessToken?: string;
  /** Overrides the Vertex AI endpoint (a proxy, or a test's loopback server). */
  readonly baseUrl?: string;
  /** Retries of a request answered 429 or 5xx. */
  readonly maxRetries: number;
}

/** The first retry's wait when the answer has no `Retry-After`; it doubles with each retry, up to the cap. */
const BACKOFF_START_MS = 500;
const BACKOFF_CAP_MS = 8_000;
/** The longest `Retry-After` honoured as it is; a longer one is waited this long (the turn's timeout still ends it). */
const RETRY_AFTER_CAP_MS = 60_000;
/** How much of an error answer's message a ModelError quotes. */
const DETAIL_LIMIT = 300;

export function googleVertex(options: GoogleVertexOptions): ChatModel {
  if (options.accessToken !== undefined && options.accessToken.trim() === '') {
    throw new ModelConfigError('google-vertex-ai: the access token is empty (GOOGLE_VERTEX_ACCESS_TOKEN).');
  }
  const client = new GoogleGenAI({
    vertexai: true,
    project: options.project,
    location: options.location,
    ...(options.baseUrl === undefined ? {} : { httpOptions: { baseUrl: options.baseUrl } }),
    ...(options.accessToken === undefined
      ? {}
      : { googleAuthOptions: { authClient: bearer(options.accessToken) } }),
  });

  return {
    description: `google-vertex-ai ${options.model} (${options.project}/${options.location})`,
    async reply(prompt: string, turns: readonly ChatTurn[], call: ReplyOptions): Promise<ModelReply> {
      const attempt = { sent: false };
      let response: GenerateContentResponse;
      try {
        response = await client.models.generateContent({
          model: options.model,
          contents: contents(options.examples ?? [], turns),
          config: {
            systemInstruction: prompt,
            maxOutputTokens: call.maxTokens,
            ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
            ...(options.topK === undefined ? {} : { topK: options.topK }),
            ...(options.topP === undefined ? {} : { topP: options.topP }),
            ...(options.seed === undefined ? {} : { seed: options.seed }),
            abortSignal: call.signal,
            httpOptions: { fetch: retryingFetch(options.maxRetries, attempt) },
          },
        });
      } catch (error) {
        throw asModelError(error, call.signal, attempt.sent, options);
      }
      const text = replyText(response);
      if (text === undefined) {
        throw new ModelError('malformed', `The model answered without any text${whyNoText(response)}.`);
      }
      return {
        text,
        usage: {
          prompt: response?.usageMetadata?.promptTokenCount ?? 0,
          // A thinking model's hidden reasoning is billed as output: it counts here too.
          completion:
            (response?.usageMetadata?.candidatesTokenCount ?? 0) +
            (response?.usageMetadata?.thoughtsTokenCount ?? 0),
        },
      };
    },
  };
}

/** An auth client that sends this token and can do nothing else: it has no refresh token to refresh with. */
function bearer(accessToken: string): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: accessToken, token_type: 'Bearer' });
  return client;
}

/** The examples, then the conversation, with adjacent messages of one role joined into one content. */
function contents(
  examples: NonNullable<GoogleVertexOptions['examples']>,
  turns: readonly ChatTurn[],
): Content[] {
  const messages: { role: 'user' | 'model'; text: string }[] = [];
  for (const example of examples) {
    messages.push({ role: 'user', text: example.input }, { role: 'model', text: example.output });
  }
  if (turns[0]?.role !== 'bot') messages.push({ role: 'user', text: OPENING });
  for (const turn of turns)
    messages.push({ role: turn.role === 'guest' ? 'model' : 'user', text: turn.text });

  const joined: Content[] = [];
  for (const { role, text } of messages) {
    const last = joined.at(-1);
    if (last?.role === role && last.parts !== undefined) last.parts.push({ text });
    else joined.push({ role, parts: [{ text }] });
  }
  return joined;
}

/** The first candidate's text, without thoughts; undefined when there is none. */
function replyText(response: GenerateContentResponse | undefined): string | undefined {
  const parts = response?.candidates?.[0]?.content?.parts;
  if (!Array.isArray(parts)) return undefined;
  const text = parts
    .filter((part) => typeof part?.text === 'string' && part.thought !== true)
    .map((part) => part.text)
    .join('')
    .trim();
  return text.length === 0 ? undefined : text;
}

function whyNoText(response: GenerateContentResponse | undefined): string {
  const blocked = response?.promptFeedback?.blockReason;
  if (blocked !== undefined) return ` (the prompt was blocked: ${blocked})`;
  const candidate = response?.candidates?.[0];
  if (candidate === undefined) return ' (no candidates)';
  return candidate.finishReason === undefined
    ? ' (no text parts)'
    : ` (finishReason ${candidate.finishReason})`;
}

/**
 * The fetch the library calls for one reply: retries 429 and 5xx answers up to `maxRetries` times, and
 * marks `attempt.sent` once the library got this far (so credentials were found).
 */
function retryingFetch(maxRetries: number, attempt: { sent: boolean }): typeof fetch {
  return async (input, init) => {
    attempt.sent = true;
    const signal = init?.signal ?? undefined;
    for (let retry = 0; ; retry++) {
      const response = await fetch(input, init);
      if (retry >= maxRetries || !(response.status === 429 || response.status >= 500)) return response;
      const delay = retryAfterMs(response.headers) ?? Math.min(BACKOFF_START_MS * 2 ** retry, BACKOFF_CAP_MS);
      await response.body?.cancel().catch(() => {});
      // Rejects with an AbortError when the turn's time is up.
      await sleep(delay, undefined, signal === undefined ? {} : { signal });
    }
  };
}

/** The wait an answer asks for: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
function retryAfterMs(headers: Headers): number | undefined {
  const milliseconds = headers.get('retry-after-ms');
  const seconds = headers.get('retry-after');
  let wait: number | undefined;
  if (milliseconds !== null && /^\d+(\.\d+)?$/.test(milliseconds.trim())) wait = Number(milliseconds);
  else if (seconds !== null && /^\d+(\.\d+)?$/.test(seconds.trim())) wait = Number(seconds) * 1000;
  else if (seconds !== null && !Number.isNaN(Date.parse(seconds)))
    wait = Math.max(0, Date.parse(seconds) - Date.now());
  return wait === undefined ? undefined : Math.min(wait, RETRY_AFTER_CAP_MS);
}

function asModelError(
  error: unknown,
  signal: AbortSignal,
  sent: boolean,
  options: GoogleVertexOptions,
): ModelError {
  if (signal.aborted || (error instanceof Error && error.name === 'AbortError')) {
    return new ModelError('timeout', 'The model did not answer within the turn timeout.');
  }
  // What the server or the libraries said is quoted without the token, should any of them echo it.
  const redact = (text: string): string =>
    options.accessToken === undefined ? text : text.split(options.accessToken).join('[redacted]');
  const message = redact(error instanceof Error ? error.message : String(error));
  if (error instanceof ApiError) {
    const detail = redact(apiErrorDetail(error.message));
    if (error.status === 401 || error.status === 403) {
      const check =
        options.accessToken === undefined
          ? `check the Application Default Credentials (gcloud auth application-default login, GOOGLE_APPLICATION_CREDENTIALS) and their access to project ${options.project}`
          : 'check GOOGLE_VERTEX_ACCESS_TOKEN (a token from `gcloud auth print-access-token` lasts an hour)';
      return new ModelError(
        'auth',
        `The model refused the credentials (HTTP ${error.status}): ${check}. ${detail}`,
      );
    }
    if (error.status === 429) {
      return new ModelError('rate_limited', `The model is rate limited (HTTP 429) after retrying: ${detail}`);
    }
    return new ModelError('http', `The model answered HTTP ${error.status}: ${detail}`);
  }
  if (!sent) {
    // The library asks for credentials before it sends anything: no request means none could be had.
    return new ModelError(
      'auth',
      `No Google credentials for Vertex AI: ${message}. Set GOOGLE_VERTEX_ACCESS_TOKEN or configure Application Default Credentials.`,
    );
  }
  if (error instanceof SyntaxError) {
    return new ModelError('malformed', `The model's answer is not JSON: ${message}`);
  }
  // fetch's own failures (refused, reset, DNS, TLS) are a TypeError whose cause says what happened.
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error || message === 'fetch failed') {
    const why =
      cause instanceof Error ? cause.message || String((cause as { code?: unknown }).code) : message;
    return new ModelError('connection', `The model could not be reached: ${redact(why)}`);
  }
  return new ModelError('malformed', `The model's answer could not be read: ${message}`);
}

/** Google's `{ error: { message } }`, or the answer's text, cut short. */
function apiErrorDetail(raw: string): string {
  let detail = raw;
  try {
    const body = JSON.parse(raw) as { error?: { message?: unknown } };
    if (typeof body?.error?.message === 'string') detail = body.error.message;
  } catch {
    // Not JSON: the text as it is.
  }
  detail = detail.replace(/\s+/g, ' ').trim();
  return detail.length > DETAIL_LIMIT ? `${detail.slice(0, DETAIL_LIMIT)}…` : detail;
}
