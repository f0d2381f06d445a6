/**
 * Scenario files for `guest-relay test`: YAML, read with positions so that every problem names its file,
 * line and column. The format extends the scripted-dialogue files teams already have (`config` with
 * `deploymentId`/`region`, `scenarios` mapping a name to a list of `say` / `waitForReplyContaining` /
 * `waitForReplyMatching` steps): those run unchanged. A scenario with `setup` instead of steps is
 * generative (generative-file.ts). docs/ci.md documents every step and key.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import {
  type AiSettings,
  GENERATIVE_DEFAULTS,
  type GenerativeSetup,
  readAi,
  readSetup,
} from './generative-file.js';

export type Step =
  | { readonly kind: 'say'; readonly text: string }
  | { readonly kind: 'waitForReplyContaining'; readonly text: string }
  | { readonly kind: 'waitForReplyMatching'; readonly regex: RegExp }
  | { readonly kind: 'expectQuickReplies'; readonly labels: readonly string[] }
  | { readonly kind: 'chooseQuickReply'; readonly label: string }
  | { readonly kind: 'expectTyping' }
  | { readonly kind: 'setContext'; readonly data: Readonly<Record<string, unknown>> }
  | {
      readonly kind: 'upload';
      readonly filename: string;
      readonly contentType: string;
      readonly bytes: Buffer;
    }
  | { readonly kind: 'expectParticipantData'; readonly attributes: Readonly<Record<string, string>> }
  | { readonly kind: 'disconnect' }
  | { readonly kind: 'reconnect' }
  | { readonly kind: 'expectNoReplyWithin'; readonly ms: number };

export type StepKind = Step['kind'];

export interface PlacedStep {
  readonly step: Step;
  /** 1-based, in the scenario file. */
  readonly line: number;
  /** Overrides the scenario's step timeout. */
  readonly timeoutMs?: number;
  /** The step as written, for messages. */
  readonly source: string;
}

export interface Scenario {
  readonly file: string;
  readonly name: string;
  readonly line: number;
  readonly deploymentId?: string;
  readonly region?: string;
  readonly guestInfo?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly stepTimeoutMs: number;
  /** Empty for a generative scenario. */
  readonly steps: readonly PlacedStep[];
  /** A language model plays the guest (generative-file.ts); absent for a scripted scenario. */
  readonly generative?: GenerativeSetup;
}

export const DEFAULT_STEP_TIMEOUT_MS = 15_000;
export const DEFAULT_SCENARIO_TIMEOUT_MS = 120_000;
/** Inline uploads are sent through the WebSocket; larger files go through the presigned URL. */
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

export const STEP_KINDS: readonly StepKind[] = [
  'say',
  'waitForReplyContaining',
  'waitForReplyMatching',
  'expectQuickReplies',
  'chooseQuickReply',
  'expectTyping',
  'setContext',
  'upload',
  'expectParticipantData',
  'disconnect',
  'reconnect',
  'expectNoReplyWithin',
];

const GUEST_INFO_KEYS = [
  'name',
  'firstName',
  'lastName',
  'nickname',
  'email',
  'phone',
  'avatarUrl',
  'locale',
];
const CONFIG_KEYS = [
  'deploymentId',
  'region',
  'origin',
  'guestInfo',
  'timeoutSeconds',
  'stepTimeoutSeconds',
  'ai',
];
const SCENARIO_KEYS = [
  'steps',
  'deploymentId',
  'region',
  'guestInfo',
  'timeoutSeconds',
  'stepTimeoutSeconds',
];
/** A generative scenario (one with `setup`): the model's turns replace the steps. */
const GENERATIVE_SCENARIO_KEYS = ['setup', 'deploymentId', 'region', 'guestInfo', 'timeoutSeconds'];

/** One problem in a scenario file, at a position. */
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export class ScenarioFileError extends Error {
  override readonly name = 'ScenarioFileError';
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n'));
    this.problems = problems;
  }
}

export class Reader {
  readonly problems: Problem[] = [];
  readonly file: string;
  readonly lines: LineCounter;
  constructor(file: string, lines: LineCounter) {
    this.file = file;
    this.lines = lines;
  }

  at(node: Node | null | undefined): { line: number; column: number } {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  problem(node: Node | null | undefined, message: string): void {
    this.problems.push({ file: this.file, ...this.at(node), message });
  }

  string(node: Node | null | undefined, what: string): string | undefined {
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) {
      const text = String(node.value);
      if (text.length > 0) return text;
    }
    this.problem(node, `${what} must be a non-empty text`);
    return undefined;
  }

  seconds(node: Node | null | undefined, what: string): number | undefined {
    if (isScalar(node) && typeof node.value === 'number' && Number.isFinite(node.value) && node.value > 0) {
      return Math.round(node.value * 1000);
    }
    this.problem(node, `${what} must be a number of seconds greater than 0`);
    return undefined;
  }

  stringMap(
    node: Node | null | undefined,
    what: string,
    allowed?: readonly string[],
  ): Record<string, string> | undefined {
    if (!isMap(node)) {
      this.problem(node, `${what} must be a mapping of names to texts`);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (allowed && !allowed.includes(key)) {
        this.problem(pair.key as Node, `${what}: unknown key "${key}" (allowed: ${allowed.join(', ')})`);
        continue;
      }
      const value = isScalar(pair.value) ? pair.value.value : undefined;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        this.problem((pair.value ?? pair.key) as Node, `${what}.${key} must be a text`);
        continue;
      }
      out[key] = String(value);
    }
    return out;
  }
}

/** The flags of a bare `waitForReplyMatching` pattern: the existing scenario testers' `new RegExp(text, 'im')`. */
const BARE_PATTERN_FLAGS = 'im';

/**
 * `/pattern/flags`, as written, or a bare pattern, compiled as the existing scenario testers compile it:
 * case-insensitive, `^` and `$` at every line (flags `im`), so their files match the same replies here.
 */
export function parseRegex(text: string): RegExp {
  const slashed = /^\/(.*)\/([dgimsuvy]*)$/s.exec(text);
  return slashed ? new RegExp(slashed[1] ?? '', slashed[2]) : new RegExp(text, BARE_PATTERN_FLAGS);
}

function readStep(reader: Reader, node: Node, dir: string): PlacedStep | undefined {
  if (!isMap(node)) {
    reader.problem(
      node,
      `a step must be a mapping such as "- say: hello" (one of: ${STEP_KINDS.join(', ')})`,
    );
    return undefined;
  }
  const map = node as YAMLMap;
  let timeoutMs: number | undefined;
  let kindPair: (typeof map.items)[number] | undefined;
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key === 'timeout') {
      timeoutMs = reader.seconds(pair.value as Node, 'timeout');
    } else if ((STEP_KINDS as readonly string[]).includes(key)) {
      if (kindPair) reader.problem(pair.key as Node, `one step per list item: "${key}" follows another step`);
      else kindPair = pair;
    } else {
      reader.problem(
        pair.key as Node,
        `unknown step "${key}" (steps: ${STEP_KINDS.join(', ')}; or "timeout")`,
      );
    }
  }
  if (!kindPair) {
    if (map.items.length > 0 && reader.problems.length === 0)
      reader.problem(node, `a step needs one of: ${STEP_KINDS.join(', ')}`);
    return undefined;
  }
  const kind = String((kindPair.key as { value: unknown }).value) as StepKind;
  const value = kindPair.value as Node | null;
  const what = kind;
  let step: Step | undefined;
  switch (kind) {
    case 'say':
    case 'waitForReplyContaining':
    case 'chooseQuickReply': {
      const text = reader.string(value, what);
      if (text !== undefined) step = kind === 'chooseQuickReply' ? { kind, label: text } : { kind, text };
      break;
    }
    case 'waitForReplyMatching': {
      const text = reader.string(value, what);
      if (text !== undefined) {
        try {
          step = { kind, regex: parseRegex(text) };
        } catch (error) {
          reader.problem(
            value,
            `waitForReplyMatching: not a valid regular expression (${(error as Error).message})`,
          );
        }
      }
      break;
    }
    case 'expectQuickReplies': {
      if (!isSeq(value) || value.items.length === 0) {
        reader.problem(
          value ?? node,
          'expectQuickReplies must be a list of the quick reply labels, e.g. [Yes, No]',
        );
        break;
      }
      const labels = value.items.map((item) => reader.string(item as Node, 'a quick reply label'));
      if (labels.every((label): label is string => label !== undefined)) step = { kind, labels };
      break;
    }
    case 'expectTyping':
    case 'disconnect':
    case 'reconnect': {
      const plain = value === null || (isScalar(value) && (value.value === null || value.value === true));
      if (!plain) reader.problem(value, `${kind} takes no value (write "- ${kind}:" or "- ${kind}: true")`);
      else step = { kind };
      break;
    }
    case 'setContext': {
      if (!isMap(value)) {
        reader.problem(value ?? node, 'setContext must be a mapping (the UI state, e.g. {page: checkout})');
        break;
      }
      const data = value.toJSON() as Record<string, unknown>;
      step = { kind, data };
      break;
    }
    case 'expectParticipantData': {
      const attributes = reader.stringMap(value, what);
      if (attributes !== undefined) step = { kind, attributes };
      break;
    }
    case 'expectNoReplyWithin': {
      const ms = reader.seconds(value, what);
      if (ms !== undefined) step = { kind, ms };
      break;
    }
    case 'upload': {
      const options = reader.stringMap(value, what, ['file', 'filename', 'content', 'contentType']);
      if (options === undefined) break;
      if ((options.file === undefined) === (options.content === undefined)) {
        reader.problem(
          value,
          'upload needs either "file" (a path, relative to this scenario file) or "content" (text)',
        );
        break;
      }
      let bytes: Buffer;
      let filename = options.filename;
      if (options.file !== undefined) {
        const path = resolve(dir, options.file);
        try {
          bytes = readFileSync(path);
        } catch {
          reader.problem(value, `upload: cannot read the file ${options.file}`);
          break;
        }
        filename ??= options.file.split('/').at(-1) ?? options.file;
      } else {
        bytes = Buffer.from(options.content ?? '', 'utf8');
        if (filename === undefined) {
          reader.problem(value, 'upload: "content" needs a "filename"');
          break;
        }
      }
      if (bytes.length > MAX_UPLOAD_BYTES) {
        reader.problem(value, `upload: the file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`);
        break;
      }
      step = { kind, filename, contentType: options.contentType ?? guessType(filename), bytes };
      break;
    }
  }
  if (step === undefined) return undefined;
  const source = `${kind}${value === null ? '' : `: ${JSON.stringify(value.toJSON())}`}`;
  return { step, line: reader.at(node).line, source, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

function guessType(filename: string): string {
  const ext = filename.toLowerCase().split('.').at(-1);
  const types: Record<string, string> = {
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    pdf: 'application/pdf',
    txt: 'text/plain',
  };
  return (ext && types[ext]) ?? 'application/octet-stream';
}

interface Settings {
  deploymentId?: string;
  region?: string;
  guestInfo?: Record<string, string>;
  timeoutMs?: number;
  stepTimeoutMs?: number;
  ai?: AiSettings | undefined;
}

function readSettings(reader: Reader, map: YAMLMap, allowed: readonly string[], where: string): Settings {
  const out: Settings = {};
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const value = pair.value as Node | null;
    if (!allowed.includes(key)) {
      reader.problem(pair.key as Node, `${where}: unknown key "${key}" (allowed: ${allowed.join(', ')})`);
      continue;
    }
    if (key === 'deploymentId' || key === 'region') {
      const text = reader.string(value, `${where}.${key}`);
      if (text !== undefined) out[key] = text;
    } else if (key === 'guestInfo') {
      const info = reader.stringMap(value, `${where}.guestInfo`, GUEST_INFO_KEYS);
      if (info !== undefined) out.guestInfo = info;
    } else if (key === 'timeoutSeconds') {
      const ms = reader.seconds(value, `${where}.timeoutSeconds`);
      if (ms !== undefined) out.timeoutMs = ms;
    } else if (key === 'stepTimeoutSeconds') {
      const ms = reader.seconds(value, `${where}.stepTimeoutSeconds`);
      if (ms !== undefined) out.stepTimeoutMs = ms;
    } else if (key === 'ai') {
      out.ai = readAi(reader, value);
    }
    // `origin` is accepted for compatibility: the stack's workers present the deployment's origin.
  }
  return out;
}

/** Parses one scenario file; every problem of the file at once, with positions. @throws ScenarioFileError */
export function parseScenarioFile(file: string, text: string): Scenario[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const reader = new Reader(file, lines);
  for (const error of doc.errors) {
    const { line, col } = lines.linePos(error.pos[0]);
    reader.problems.push({ file, line, column: col, message: `YAML: ${error.message.split('\n')[0]}` });
  }
  if (reader.problems.length > 0) throw new ScenarioFileError(reader.problems);
  const root = doc.contents as Node | null;
  if (!isMap(root))
    throw new ScenarioFileError([
      { file, line: 1, column: 1, message: 'expected a mapping with "scenarios" (and optionally "config")' },
    ]);
  let config: Settings = {};
  let scenariosNode: Node | null = null;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key === 'config') {
      if (isMap(pair.value)) config = readSettings(reader, pair.value, CONFIG_KEYS, 'config');
      else reader.problem(pair.value as Node, 'config must be a mapping');
    } else if (key === 'scenarios') {
      scenariosNode = pair.value as Node;
    } else {
      reader.problem(pair.key as Node, `unknown top-level key "${key}" (expected: config, scenarios)`);
    }
  }
  const scenarios: Scenario[] = [];
  if (!isMap(scenariosNode) || scenariosNode.items.length === 0) {
    reader.problem(scenariosNode ?? root, '"scenarios" must map each scenario name to its steps');
  } else {
    const dir = dirname(resolve(file));
    for (const pair of scenariosNode.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      const value = pair.value as Node | null;
      if (isMap(value) && value.has('followUp')) {
        reader.problem(
          value.get('followUp', true) as Node,
          `scenario "${name}": followUp is not supported: write the follow-up as its own scenario`,
        );
      }
      if (isMap(value) && value.has('setup')) {
        const own = readSettings(
          reader,
          value,
          [...GENERATIVE_SCENARIO_KEYS, 'followUp'],
          `scenario "${name}"`,
        );
        const setup = readSetup(reader, value.get('setup', true) as Node | null, config.ai, name);
        if (setup === undefined) continue;
        const merged = { ...config, ...own, guestInfo: own.guestInfo ?? config.guestInfo };
        scenarios.push({
          file,
          name,
          line: reader.at(pair.key as Node).line,
          timeoutMs: merged.timeoutMs ?? GENERATIVE_DEFAULTS.timeoutMs,
          stepTimeoutMs: setup.turnTimeoutMs,
          steps: [],
          generative: setup,
          ...(merged.deploymentId === undefined ? {} : { deploymentId: merged.deploymentId }),
          ...(merged.region === undefined ? {} : { region: merged.region }),
          ...(merged.guestInfo === undefined ? {} : { guestInfo: merged.guestInfo }),
        });
        continue;
      }
      let stepsNode: Node | null = value;
      let own: Settings = {};
      if (isMap(value)) {
        own = readSettings(reader, value, SCENARIO_KEYS, `scenario "${name}"`);
        stepsNode = value.get('steps', true) as Node | null;
      }
      if (!isSeq(stepsNode) || stepsNode.items.length === 0) {
        reader.problem(stepsNode ?? (pair.key as Node), `scenario "${name}" needs a non-empty list of steps`);
        continue;
      }
      const steps = stepsNode.items
        .map((item) => readStep(reader, item as Node, dir))
        .filter((step): step is PlacedStep => step !== undefined);
      const merged = { ...config, ...own, guestInfo: own.guestInfo ?? config.guestInfo };
      scenarios.push({
        file,
        name,
        line: reader.at(pair.key as Node).line,
        timeoutMs: merged.timeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS,
        stepTimeoutMs: merged.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
        steps,
        ...(merged.deploymentId === undefined ? {} : { deploymentId: merged.deploymentId }),
        ...(merged.region === undefined ? {} : { region: merged.region }),
        ...(merged.guestInfo === undefined ? {} : { guestInfo: merged.guestInfo }),
      });
    }
  }
  if (reader.problems.length > 0) throw new ScenarioFileError(reader.problems);
  return scenarios;
}
