/**
 * Generative scenarios: a model plays the guest against the Genesys emulator's bot (through local mode),
 * the model being a loopback fake of an OpenAI-compatible chat-completions endpoint driven by the real
 * `openai` client. A file in the shape the existing testers read passes and fails as its phrases say; the
 * turn limit, the bot ending the conversation and every kind of provider trouble end the run with their
 * reason; placeholders repeat with the same seed; bad files and missing keys are refused before anything
 * runs. Nothing but 127.0.0.1 is contacted: the loopback guard refuses any other connection or lookup.
 */
import './scenario-runner-loopback-guard.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  choosePlaceholders,
  fillPlaceholders,
  findPhrase,
  seededRandom,
} from '../../../cli/scenarios/generative-run.js';
import { createModel } from '../../../cli/scenarios/models/providers.js';
import { runScenario, type ScenarioResult, type Target } from '../../../cli/scenarios/runner.js';
import { parseScenarioFile, type Scenario, ScenarioFileError } from '../../../cli/scenarios/scenario.js';
import { EMBEDDED, type LocalStack, startLocalStack } from '../../../local/stack.js';
import {
  type ChatRequest,
  type FakeChatCompletions,
  startFakeChatCompletions,
} from '../../support/fake-chat-completions.js';
import { startFakeVertex } from '../../support/fake-vertex.js';
import { cliHere } from './cli-here.js';

/** The issue's file, as the existing testers' users write it (a real deployment and region). */
const ACCEPT_SURVEY = `
config:
  deploymentId: 00000000-0000-4000-8000-000000000000
  region: mypurecloud.ie
  ai:
    provider: chatgpt
    config: { temperature: 1 }
scenarios:
  "Accept survey":
    setup:
      placeholders: { NAME: [John, Jane] }
      prompt: |
        I want you to play the role of a customer called {NAME} talking to a company's chatbot. Ask to see
        your order as a card. If the chatbot shows you the order, say 'PASS'. If it does not understand
        you, say 'FAIL'.
      terminatingPhrases: { pass: ["PASS"], fail: ["FAIL"] }
`;

const lastBotText = (request: ChatRequest): string =>
  request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';

/** A customer who asks for a card and judges the answer, as a model following ACCEPT_SURVEY would. */
function surveyCustomer(request: ChatRequest) {
  const bot = lastBotText(request);
  if (bot.includes('Order #1042')) return { text: 'Thanks, that is my order. PASS', completionTokens: 8 };
  if (bot.includes('did not get that')) return { text: 'It did not understand me. FAIL' };
  return { text: 'card' };
}

describe('generative scenarios', () => {
  let stack: LocalStack;
  let fake: FakeChatCompletions;
  let dir: string;
  beforeAll(async () => {
    [stack, fake] = await Promise.all([startLocalStack(EMBEDDED), startFakeChatCompletions()]);
    dir = mkdtempSync(join(tmpdir(), 'guest-relay-generative-'));
  }, 30_000);
  afterAll(async () => {
    await Promise.all([stack?.stop(), fake?.close()]);
  });

  const env = (): Record<string, string> => ({ OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: fake.baseUrl });

  /** The file as the emulator runs it (as `guest-relay test` does without --url). */
  function parse(yaml: string): Scenario[] {
    return parseScenarioFile('generative.yaml', yaml).map(({ region: _region, ...scenario }) => ({
      ...scenario,
      deploymentId: stack.deploymentId,
    }));
  }

  async function run(scenario: Scenario, seed = 7): Promise<ScenarioResult> {
    const target: Target = {
      url: stack.wsUrl,
      token: stack.token,
      seed,
      model: (ai) => createModel(ai, env(), seed),
    };
    return runScenario(scenario, target);
  }

  it('passes when the model says a pass phrase, with the whole conversation and the tokens', async () => {
    fake.answer(surveyCustomer);
    const [scenario] = parse(ACCEPT_SURVEY);
    const result = await run(scenario as Scenario);
    expect(result.passed, JSON.stringify(result.failure)).toBe(true);
    const outcome = result.generative;
    expect(outcome).toMatchObject({ verdict: 'pass', reason: 'phrase', phrase: 'PASS', seed: 7, turns: 1 });
    expect(outcome?.transcript.map((t) => t.role)).toEqual(['guest', 'bot', 'guest']);
    expect(outcome?.transcript[1]?.text).toContain('Order #1042');
    expect(outcome?.tokens).toEqual({ prompt: 100, completion: 18, total: 118 });
    // The model was told its role with the placeholder filled, and saw the bot's reply as the user's turn.
    const first = fake.requests.at(-2) as ChatRequest;
    expect(first.messages[0]?.role).toBe('system');
    expect(first.messages[0]?.content).toMatch(new RegExp(`customer called ${outcome?.placeholders.NAME}`));
    expect(['John', 'Jane']).toContain(outcome?.placeholders.NAME);
    expect(first).toMatchObject({ model: 'gpt-4o-mini', temperature: 1, seed: 7, max_tokens: 400 });
    expect(first.authorization).toBe('Bearer test-key');
  }, 60_000);

  it('fails when the model says a fail phrase', async () => {
    fake.answer((request) =>
      lastBotText(request).includes('did not get that')
        ? { text: 'FAIL: it did not understand' }
        : { text: 'qwxz?' },
    );
    const [scenario] = parse(ACCEPT_SURVEY);
    const result = await run(scenario as Scenario);
    expect(result.passed).toBe(false);
    expect(result.generative).toMatchObject({ verdict: 'fail', reason: 'phrase', phrase: 'FAIL' });
    expect(result.failure?.message).toBe('the model said the fail phrase "FAIL"');
  }, 60_000);

  it('fails on the turn limit when the model never judges', async () => {
    fake.answer(() => ({ text: 'menu' }));
    const [scenario] = parse(ACCEPT_SURVEY.replace('setup:', 'setup:\n      maxTurns: 2'));
    const result = await run(scenario as Scenario);
    expect(result.generative).toMatchObject({ verdict: 'fail', reason: 'turn_limit', turns: 2 });
    expect(result.failure?.message).toContain('no pass or fail phrase after 2 messages');
  }, 60_000);

  it("stops at the scenario's time limit and keeps the conversation so far", async () => {
    fake.answer(() => ({ delayMs: 700, answer: { text: 'menu' } }));
    const yaml = ACCEPT_SURVEY.replace('    setup:', '    timeoutSeconds: 3\n    setup:');
    const [scenario] = parse(yaml);
    const result = await run(scenario as Scenario);
    expect(result.generative).toMatchObject({ verdict: 'fail', reason: 'time_limit' });
    expect(result.generative?.transcript.length).toBeGreaterThan(0);
  }, 30_000);

  it('gives the model a last word when the bot ends the conversation, and fails without a phrase', async () => {
    fake.answer((request) =>
      lastBotText(request).includes('ended the conversation') ? { text: 'Alright.' } : { text: 'bye' },
    );
    const [scenario] = parse(ACCEPT_SURVEY);
    const result = await run(scenario as Scenario);
    expect(result.generative).toMatchObject({ verdict: 'fail', reason: 'bot_ended' });
    expect(result.generative?.transcript.at(-2)).toEqual({
      role: 'bot',
      text: '(The chatbot ended the conversation.)',
    });
  }, 60_000);

  it.each([
    ['rate limited on every try', [{ status: 429, headers: { 'retry-after': '0' } }], 'rate_limited'],
    ['an error status', [{ status: 500 }], 'http'],
    ['a refused key', [{ status: 401 }], 'auth'],
    ['an answer that is not JSON', [{ raw: 'not json' }], 'malformed'],
    ['a completion without text', [{ raw: JSON.stringify({ choices: [] }) }], 'malformed'],
    ['no answer within the turn', [{ delayMs: 10_000, answer: { text: 'too late' } }], 'timeout'],
  ] as const)(
    'fails with the provider trouble: %s',
    async (_name, answers, code) => {
      fake.answer([...answers, ...answers, ...answers]);
      const yaml = ACCEPT_SURVEY.replace(
        'config: { temperature: 1 }',
        'config: { temperature: 1, maxRetries: 1 }',
      ).replace('setup:', 'setup:\n      turnTimeoutSeconds: 1');
      const [scenario] = parse(yaml);
      const result = await run(scenario as Scenario);
      expect(result.generative).toMatchObject({ verdict: 'fail', reason: 'model_error' });
      expect(result.failure?.message).toContain(
        `the model failed (openai-compatible gpt-4o-mini at ${fake.baseUrl}): ${code}:`,
      );
      expect(result.failure?.message).not.toContain('test-key');
    },
    60_000,
  );

  it('retries a rate-limited request as the provider asks, and goes on', async () => {
    fake.answer([{ status: 429, headers: { 'retry-after': '0' } }, { text: 'PASS straight away' }]);
    const [scenario] = parse(ACCEPT_SURVEY);
    const result = await run(scenario as Scenario);
    expect(result.generative).toMatchObject({ verdict: 'pass', reason: 'phrase', turns: 0 });
  }, 30_000);

  it('sends max_completion_tokens once the server asks for it instead of max_tokens', async () => {
    fake.answer([
      {
        status: 400,
        message:
          "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      },
      { text: 'PASS' },
    ]);
    const [scenario] = parse(ACCEPT_SURVEY);
    const result = await run(scenario as Scenario);
    expect(result.generative).toMatchObject({ verdict: 'pass' });
    const [refused, accepted] = fake.requests.slice(-2);
    expect(refused).toMatchObject({ max_tokens: 400 });
    expect(accepted).toMatchObject({ max_completion_tokens: 400 });
    expect(accepted?.max_tokens).toBeUndefined();
  }, 30_000);

  it('chooses the same placeholders with the same seed, and says which', async () => {
    const values = ['Ada', 'Bob', 'Cy', 'Di', 'Ed', 'Flo', 'Gus', 'Hal'];
    const placeholders = { NAME: values, CITY: ['Rome', 'Oslo', 'Lima', 'Kyiv'] };
    const pick = (seed: number) => choosePlaceholders(placeholders, seededRandom(seed, 'f.yaml', 'S'));
    expect(pick(42)).toEqual(pick(42));
    const seen = new Set(Array.from({ length: 40 }, (_, seed) => pick(seed).NAME));
    expect(seen.size).toBeGreaterThan(4);
    // Another scenario with the same seed chooses on its own.
    const other = Array.from(
      { length: 20 },
      (_, seed) =>
        choosePlaceholders(placeholders, seededRandom(seed, 'f.yaml', 'T')).NAME === pick(seed).NAME,
    );
    expect(other.some((same) => !same)).toBe(true);
    expect(fillPlaceholders('{NAME} from {CITY} {UNKNOWN} {NAME}', { NAME: 'Ada', CITY: 'Oslo' })).toBe(
      'Ada from Oslo {UNKNOWN} Ada',
    );
    expect(findPhrase('all good, PASS', { pass: ['PASS'], fail: ['FAIL'] })).toEqual({
      verdict: 'pass',
      phrase: 'PASS',
    });
    expect(findPhrase('PASS? no: FAIL', { pass: ['PASS'], fail: ['FAIL'] })).toEqual({
      verdict: 'fail',
      phrase: 'FAIL',
    });
    expect(findPhrase('passport', { pass: ['PASS'], fail: ['FAIL'] })).toBeUndefined();

    // Through the runner: the chosen name is the one in the prompt, and repeats with the seed.
    fake.answer(() => ({ text: 'PASS' }));
    const yaml = ACCEPT_SURVEY.replace('{ NAME: [John, Jane] }', `{ NAME: [${values.join(', ')}] }`);
    const [scenario] = parse(yaml);
    const names = [];
    for (const seed of [5, 5, 6]) {
      const result = await run(scenario as Scenario, seed);
      names.push(result.generative?.placeholders.NAME);
      expect(fake.requests.at(-1)?.messages[0]?.content).toContain(
        `customer called ${result.generative?.placeholders.NAME}`,
      );
    }
    expect(names[0]).toBe(names[1]);
  }, 60_000);

  it('runs a file unchanged through guest-relay test, next to a scripted scenario, with its reports', async () => {
    fake.answer((request) =>
      request.messages[0]?.content.includes('play the role') ? surveyCustomer(request) : { text: 'FAIL' },
    );
    const file = join(dir, 'survey.yaml');
    writeFileSync(
      file,
      `${ACCEPT_SURVEY}  "Scripted hello":\n    - say: hello\n    - waitForReplyContaining: emulator's bot\n`,
    );
    const junitFile = join(dir, 'junit.xml');
    const jsonFile = join(dir, 'report.json');
    const result = await cliHere(
      ['test', file, '--seed', '11', '--junit', junitFile, '--json', jsonFile],
      env(),
    );
    expect(result.code, result.out + result.err).toBe(0);
    expect(result.err).toContain('Generative scenarios: 1, seed 11 (the same placeholders again: --seed 11)');
    expect(result.out).toContain('✓ Accept survey');
    expect(result.out).toContain('the model said the pass phrase "PASS"');
    expect(result.out).toMatch(
      /1 message · \d+ tokens \(\d+ prompt, \d+ completion\) · NAME=(John|Jane), seed 11/,
    );
    expect(result.out).toContain('✓ Scripted hello');
    const report = JSON.parse(readFileSync(jsonFile, 'utf8'));
    const generative = report.scenarios[0].generative;
    expect(generative).toMatchObject({ verdict: 'pass', seed: 11, reason: 'phrase' });
    expect(generative.transcript).toHaveLength(3);
    const junit = readFileSync(junitFile, 'utf8');
    expect(junit).toContain('<system-out>the model said the pass phrase &quot;PASS&quot;');
    expect(junit).toContain('guest (model): card');
  }, 90_000);

  it('shows a failed conversation whole in the terminal and exits 1', async () => {
    fake.answer(() => ({ text: 'FAIL right away' }));
    const file = join(dir, 'fail.yaml');
    writeFileSync(file, ACCEPT_SURVEY);
    const result = await cliHere(['test', file, '--seed', '3'], env());
    expect(result.code).toBe(1);
    expect(result.out).toContain('✗ Accept survey');
    expect(result.out).toContain('fail: the model said the fail phrase "FAIL"');
    expect(result.out).toContain('guest (model): FAIL right away');
  }, 60_000);

  it('runs the same file with the google-vertex-ai provider', async () => {
    const vertex = await startFakeVertex();
    try {
      vertex.answer({ text: 'card' }, { text: 'That is it. PASS' });
      const yaml = ACCEPT_SURVEY.replace(
        'provider: chatgpt\n    config: { temperature: 1 }',
        'provider: google-vertex-ai\n    config: { project: demo, location: europe-west4, temperature: 0 }',
      );
      const [scenario] = parse(yaml);
      const env = { GOOGLE_VERTEX_ACCESS_TOKEN: 'vertex-token', GOOGLE_VERTEX_BASE_URL: vertex.url };
      const result = await runScenario(scenario as Scenario, {
        url: stack.wsUrl,
        token: stack.token,
        seed: 1,
        model: (ai) => createModel(ai, env, 1),
      });
      expect(result.generative).toMatchObject({
        verdict: 'pass',
        turns: 1,
        model: 'google-vertex-ai gemini-2.5-flash (demo/europe-west4)',
      });
      expect(vertex.requests[0]).toMatchObject({
        project: 'demo',
        location: 'europe-west4',
        model: 'gemini-2.5-flash',
      });
      expect(vertex.requests[0]?.authorization).toBe('Bearer vertex-token');
    } finally {
      await vertex.close();
    }
  }, 60_000);

  it('refuses an unknown provider and a missing key before anything runs (exit 2)', async () => {
    expect(() =>
      parseScenarioFile('x.yaml', ACCEPT_SURVEY.replace('provider: chatgpt', 'provider: claude-9')),
    ).toThrow(ScenarioFileError);
    try {
      parseScenarioFile('x.yaml', ACCEPT_SURVEY.replace('provider: chatgpt', 'provider: claude-9'));
    } catch (error) {
      expect((error as ScenarioFileError).problems[0]).toMatchObject({
        line: 6,
        message: 'unknown AI provider "claude-9" (supported: chatgpt, openai, google-vertex-ai)',
      });
    }
    const google = (config: string) =>
      ACCEPT_SURVEY.replace(
        'provider: chatgpt\n    config: { temperature: 1 }',
        `provider: google-vertex-ai\n    config: ${config}`,
      );
    expect(() => parseScenarioFile('x.yaml', google('{ location: eu }'))).toThrow(
      /google-vertex-ai needs config.ai.config.project/,
    );
    expect(() => parseScenarioFile('x.yaml', google('{ project: "", location: eu }'))).toThrow(
      /^x.yaml:\d+:\d+: config.ai.config.project must be a non-empty text$/,
    );
    const noAi = ACCEPT_SURVEY.replace(/ {2}ai:\n.*\n.*\n/, '');
    expect(() => parseScenarioFile('x.yaml', noAi)).toThrow(/needs config.ai with a provider/);
    const file = join(dir, 'nokey.yaml');
    writeFileSync(file, ACCEPT_SURVEY);
    const before = fake.requests.length;
    const result = await cliHere(['test', file]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('The chatgpt provider needs OPENAI_API_KEY in the environment');
    expect(fake.requests.length).toBe(before);
  }, 30_000);
});
