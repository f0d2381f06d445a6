/**
 * A file's `config.ai` and the run's environment make a model. Credentials and endpoints come from the
 * environment only (never from a scenario file, which is committed); a missing one is a
 * ModelConfigError before any scenario runs. docs/ci.md lists the variables.
 */
import type { AiSettings } from '../generative-file.js';
import { googleVertex } from './google-vertex.js';
import { type ChatModel, ModelConfigError } from './model.js';
import { openAiCompatible, shownUrl } from './openai-compatible.js';

export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';
export const DEFAULT_GOOGLE_MODEL = 'gemini-2.5-flash';
/** Retries of a failed model request (429, 5xx, a dropped connection) unless the file says otherwise. */
export const DEFAULT_MAX_RETRIES = 2;

type Env = Readonly<Record<string, string | undefined>>;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

const set = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value.trim();

/**
 * The model for one `config.ai`. `seed` is the run's (`--seed`): the model's own seed unless the file
 * sets one. @throws ModelConfigError
 */
export function createModel(ai: AiSettings, env: Env, seed: number): ChatModel {
  const maxRetries = ai.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (ai.provider === 'openai-compatible') {
    const apiKey = set(env.OPENAI_API_KEY);
    if (apiKey === undefined) {
      throw new ModelConfigError(
        `The ${ai.named} provider needs OPENAI_API_KEY in the environment (any non-empty value for a local model server that checks none).`,
      );
    }
    if (CONTROL_CHARACTER.test(apiKey)) {
      throw new ModelConfigError(
        'OPENAI_API_KEY holds a line break or another control character (split when pasted?): set it again, on one line.',
      );
    }
    const baseUrl = set(env.OPENAI_BASE_URL) ?? ai.baseUrl;
    if (baseUrl !== undefined && !/^https?:\/\//.test(baseUrl)) {
      throw new ModelConfigError(`The model's base URL must be http(s)://…, got "${shownUrl(baseUrl)}".`);
    }
    return openAiCompatible({
      apiKey,
      model: set(env.OPENAI_MODEL) ?? ai.model ?? DEFAULT_OPENAI_MODEL,
      maxRetries,
      seed: ai.seed ?? seed,
      ...(baseUrl === undefined ? {} : { baseUrl }),
      ...(ai.temperature === undefined ? {} : { temperature: ai.temperature }),
    });
  }
  const accessToken = set(env.GOOGLE_VERTEX_ACCESS_TOKEN);
  if (accessToken !== undefined && CONTROL_CHARACTER.test(accessToken)) {
    throw new ModelConfigError(
      'GOOGLE_VERTEX_ACCESS_TOKEN holds a line break or another control character (split when pasted?): set it again, on one line.',
    );
  }
  const baseUrl = set(env.GOOGLE_VERTEX_BASE_URL);
  return googleVertex({
    project: ai.project,
    location: ai.location,
    model: set(env.GOOGLE_VERTEX_MODEL) ?? ai.model ?? DEFAULT_GOOGLE_MODEL,
    maxRetries,
    seed: ai.seed ?? seed,
    ...(accessToken === undefined ? {} : { accessToken }),
    ...(baseUrl === undefined ? {} : { baseUrl }),
    ...(ai.temperature === undefined ? {} : { temperature: ai.temperature }),
    ...(ai.topK === undefined ? {} : { topK: ai.topK }),
    ...(ai.topP === undefined ? {} : { topP: ai.topP }),
    ...(ai.examples === undefined ? {} : { examples: ai.examples }),
  });
}

/**
 * One model per distinct `config.ai` of the run, made (and so checked) before any scenario runs.
 * @throws ModelConfigError
 */
export function modelsFor(
  settings: readonly AiSettings[],
  env: Env,
  seed: number,
): (ai: AiSettings) => ChatModel {
  const models = new Map<string, ChatModel>();
  for (const ai of settings) {
    const key = JSON.stringify(ai);
    if (!models.has(key)) models.set(key, createModel(ai, env, seed));
  }
  return (ai) => {
    const model = models.get(JSON.stringify(ai));
    if (model === undefined) throw new ModelConfigError(`No model was made for provider ${ai.named}.`);
    return model;
  };
}
