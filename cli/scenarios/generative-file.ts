/**
 * Generative scenarios in scenario files: a language model plays the guest with a goal, until it says a
 * pass or fail phrase. The shape is the one the existing Genesys testers read (`config.ai` with
 * `provider` and `config`; a scenario with `setup: {prompt, placeholders, terminatingPhrases}`), so their
 * files run unchanged, next to scripted scenarios in the same file. docs/ci.md documents every key.
 */
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import type { Reader } from './scenario.js';

/** The providers a file may name, and what each is here. */
export const AI_PROVIDERS = {
  chatgpt: 'openai-compatible',
  openai: 'openai-compatible',
  'google-vertex-ai': 'google-vertex-ai',
} as const;

export type AiSettings =
  | {
      readonly provider: 'openai-compatible';
      /** The name the file used (`chatgpt`, `openai`). */
      readonly named: string;
      readonly model?: string;
      readonly baseUrl?: string;
      readonly temperature?: number;
      readonly seed?: number;
      readonly maxRetries?: number;
    }
  | {
      readonly provider: 'google-vertex-ai';
      readonly named: string;
      readonly project: string;
      readonly location: string;
      readonly model?: string;
      readonly temperature?: number;
      readonly topK?: number;
      readonly topP?: number;
      readonly seed?: number;
      readonly examples?: readonly { readonly input: string; readonly output: string }[];
      readonly maxRetries?: number;
    };

export interface GenerativeSetup {
  readonly ai: AiSettings;
  /** The model's instructions, with `{NAME}` placeholders. */
  readonly prompt: string;
  /** Each placeholder's candidate values; one is chosen per run (seeded). */
  readonly placeholders: Readonly<Record<string, readonly string[]>>;
  readonly pass: readonly string[];
  readonly fail: readonly string[];
  /** The most messages the model sends before the scenario fails on the turn limit. */
  readonly maxTurns: number;
  /** Per turn: the model's answer, and the bot's first reply, each within this. */
  readonly turnTimeoutMs: number;
  /** The most tokens one answer of the model may use. */
  readonly maxTokens: number;
  /** After the bot's first reply, further replies are awaited until it has been quiet this long. */
  readonly replyQuietMs: number;
}

export const GENERATIVE_DEFAULTS = {
  maxTurns: 12,
  turnTimeoutMs: 30_000,
  maxTokens: 400,
  replyQuietMs: 1_500,
  /** A whole generative scenario (its model calls and the bot's replies). */
  timeoutMs: 300_000,
} as const;

const SETUP_KEYS = [
  'prompt',
  'placeholders',
  'terminatingPhrases',
  'maxTurns',
  'turnTimeoutSeconds',
  'maxTokens',
  'replyQuietSeconds',
];
const OPENAI_KEYS = ['model', 'baseUrl', 'temperature', 'seed', 'maxRetries'];
const GOOGLE_KEYS = [
  'project',
  'location',
  'model',
  'modelVersion',
  'temperature',
  'topK',
  'topP',
  'seed',
  'examples',
  'maxRetries',
];

const keyOf = (pair: { key: unknown }): string => (isScalar(pair.key) ? String(pair.key.value) : '');

function number(
  reader: Reader,
  node: Node | null,
  what: string,
  min: number,
  max: number,
): number | undefined {
  if (isScalar(node) && typeof node.value === 'number' && Number.isFinite(node.value)) {
    if (node.value >= min && node.value <= max) return node.value;
  }
  reader.problem(node, `${what} must be a number from ${min} to ${max}`);
  return undefined;
}

function integer(
  reader: Reader,
  node: Node | null,
  what: string,
  min: number,
  max: number,
): number | undefined {
  const value = number(reader, node, what, min, max);
  if (value !== undefined && !Number.isInteger(value)) {
    reader.problem(node, `${what} must be a whole number`);
    return undefined;
  }
  return value;
}

function texts(reader: Reader, node: Node | null, what: string): string[] | undefined {
  if (!isSeq(node) || node.items.length === 0) {
    reader.problem(node, `${what} must be a non-empty list of texts`);
    return undefined;
  }
  const out: string[] = [];
  for (const item of node.items) {
    const text = reader.string(item as Node, `each of ${what}`);
    if (text !== undefined) out.push(text);
  }
  return out.length === node.items.length ? out : undefined;
}

/**
 * `config.ai`: the provider (checked here, so that an unknown one is an error when the files are read)
 * and its settings. Credentials never come from the file: they are read from the environment at run time.
 */
export function readAi(reader: Reader, node: Node | null): AiSettings | undefined {
  if (!isMap(node)) {
    reader.problem(node, 'config.ai must be a mapping with "provider" (and optionally "config")');
    return undefined;
  }
  const providerNode = node.get('provider', true) as Node | null;
  const named =
    providerNode === undefined || providerNode === null
      ? undefined
      : reader.string(providerNode, 'config.ai.provider');
  if (providerNode === undefined || providerNode === null) reader.problem(node, 'config.ai needs "provider"');
  for (const pair of node.items) {
    const key = keyOf(pair);
    if (key !== 'provider' && key !== 'config')
      reader.problem(pair.key as Node, `config.ai: unknown key "${key}" (allowed: provider, config)`);
  }
  if (named === undefined) return undefined;
  const provider = (AI_PROVIDERS as Record<string, AiSettings['provider']>)[named];
  if (provider === undefined) {
    reader.problem(
      providerNode,
      `unknown AI provider "${named}" (supported: ${Object.keys(AI_PROVIDERS).join(', ')})`,
    );
    return undefined;
  }
  const configNode = (node.get('config', true) ?? null) as Node | null;
  if (configNode !== null && !isMap(configNode)) {
    reader.problem(configNode, 'config.ai.config must be a mapping');
    return undefined;
  }
  const settings: Record<string, unknown> = {};
  const allowed = provider === 'openai-compatible' ? OPENAI_KEYS : GOOGLE_KEYS;
  for (const pair of (configNode as YAMLMap | null)?.items ?? []) {
    const key = keyOf(pair);
    const value = pair.value as Node | null;
    const what = `config.ai.config.${key}`;
    if (!allowed.includes(key)) {
      reader.problem(pair.key as Node, `${what}: not a setting of ${named} (allowed: ${allowed.join(', ')})`);
      continue;
    }
    switch (key) {
      case 'model':
      case 'baseUrl':
      case 'project':
      case 'location':
        settings[key] = reader.string(value, what);
        break;
      case 'modelVersion':
        // The PaLM chat models it chose are retired; `model` names a Gemini model instead.
        break;
      case 'temperature':
        settings[key] = number(reader, value, what, 0, 2);
        break;
      case 'topP':
        settings[key] = number(reader, value, what, 0, 1);
        break;
      case 'topK':
        settings[key] = integer(reader, value, what, 1, 1000);
        break;
      case 'seed':
        settings[key] = integer(reader, value, what, 0, 2 ** 31 - 1);
        break;
      case 'maxRetries':
        settings[key] = integer(reader, value, what, 0, 10);
        break;
      case 'examples':
        settings[key] = examples(reader, value, what);
        break;
    }
  }
  if (provider === 'google-vertex-ai') {
    // Missing, that is: a value that is there but wrong was reported where it is.
    for (const required of ['project', 'location']) {
      if (!(configNode as YAMLMap | null)?.has(required))
        reader.problem(configNode ?? node, `google-vertex-ai needs config.ai.config.${required}`);
    }
  }
  const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  return { provider, named, ...defined } as AiSettings;
}

function examples(
  reader: Reader,
  node: Node | null,
  what: string,
): { input: string; output: string }[] | undefined {
  if (!isSeq(node)) {
    reader.problem(node, `${what} must be a list of {input, output}`);
    return undefined;
  }
  const out: { input: string; output: string }[] = [];
  for (const item of node.items) {
    const pair = reader.stringMap(item as Node, `each of ${what}`, ['input', 'output']);
    if (pair?.input === undefined || pair.output === undefined) {
      reader.problem(item as Node, `each of ${what} needs "input" and "output"`);
      continue;
    }
    out.push({ input: pair.input, output: pair.output });
  }
  return out;
}

/** A scenario's `setup`; `ai` is the file's `config.ai` (a generative scenario without one is a problem). */
export function readSetup(
  reader: Reader,
  node: Node | null,
  ai: AiSettings | undefined,
  name: string,
): GenerativeSetup | undefined {
  if (!isMap(node)) {
    reader.problem(
      node,
      `scenario "${name}": setup must be a mapping with "prompt" and "terminatingPhrases"`,
    );
    return undefined;
  }
  const before = reader.problems.length;
  let prompt: string | undefined;
  let placeholders: Record<string, string[]> = {};
  let pass: string[] | undefined;
  let fail: string[] | undefined;
  const limits: Record<string, number | undefined> = {};
  for (const pair of node.items) {
    const key = keyOf(pair);
    const value = pair.value as Node | null;
    const what = `scenario "${name}": setup.${key}`;
    switch (key) {
      case 'prompt':
        prompt = reader.string(value, what);
        break;
      case 'placeholders':
        if (!isMap(value)) {
          reader.problem(value, `${what} must map each placeholder to a list of values`);
          break;
        }
        placeholders = {};
        for (const entry of value.items) {
          const values = texts(reader, entry.value as Node | null, `${what}.${keyOf(entry)}`);
          if (values !== undefined) placeholders[keyOf(entry)] = values;
        }
        break;
      case 'terminatingPhrases':
        if (!isMap(value)) {
          reader.problem(value, `${what} must have "pass" and "fail" lists`);
          break;
        }
        for (const entry of value.items) {
          const which = keyOf(entry);
          if (which === 'pass') pass = texts(reader, entry.value as Node | null, `${what}.pass`);
          else if (which === 'fail') fail = texts(reader, entry.value as Node | null, `${what}.fail`);
          else reader.problem(entry.key as Node, `${what}: unknown key "${which}" (allowed: pass, fail)`);
        }
        if (pass === undefined || fail === undefined)
          reader.problem(value, `${what} needs both "pass" and "fail"`);
        break;
      case 'maxTurns':
        limits.maxTurns = integer(reader, value, what, 1, 100);
        break;
      case 'maxTokens':
        limits.maxTokens = integer(reader, value, what, 1, 32_000);
        break;
      case 'turnTimeoutSeconds':
        limits.turnTimeoutMs = reader.seconds(value, what);
        break;
      case 'replyQuietSeconds':
        limits.replyQuietMs = reader.seconds(value, what);
        break;
      default:
        reader.problem(pair.key as Node, `${what}: unknown key (allowed: ${SETUP_KEYS.join(', ')})`);
    }
  }
  if (prompt === undefined && !node.has('prompt'))
    reader.problem(node, `scenario "${name}": setup needs "prompt"`);
  if (!node.has('terminatingPhrases'))
    reader.problem(node, `scenario "${name}": setup needs "terminatingPhrases" with "pass" and "fail"`);
  if (ai === undefined) {
    reader.problem(
      node,
      `scenario "${name}" is generative (it has "setup"): the file needs config.ai with a provider`,
    );
  }
  if (reader.problems.length > before || ai === undefined || prompt === undefined || !pass || !fail)
    return undefined;
  return {
    ai,
    prompt,
    placeholders,
    pass,
    fail,
    maxTurns: limits.maxTurns ?? GENERATIVE_DEFAULTS.maxTurns,
    turnTimeoutMs: limits.turnTimeoutMs ?? GENERATIVE_DEFAULTS.turnTimeoutMs,
    maxTokens: limits.maxTokens ?? GENERATIVE_DEFAULTS.maxTokens,
    replyQuietMs: limits.replyQuietMs ?? GENERATIVE_DEFAULTS.replyQuietMs,
  };
}
