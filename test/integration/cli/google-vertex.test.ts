/**
 * The `google-vertex-ai` model against the real @google/genai client, pointed at a loopback fake of Vertex
 * AI's generateContent (test/support/fake-vertex.ts) with a bearer token, so the request the library builds
 * and the answers it parses are real. The loopback guard refuses any connection or DNS lookup that is not
 * for 127.0.0.1 or localhost, and Application Default Credentials point at a file that does not exist: a
 * model that looked for credentials or a Google host would fail these tests instead of leaving the machine.
 */
import './scenario-runner-loopback-guard.js';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type GoogleVertexOptions, googleVertex } from '../../../cli/scenarios/models/google-vertex.js';
import { type ChatModel, ModelConfigError, ModelError } from '../../../cli/scenarios/models/model.js';
import { OPENING } from '../../../cli/scenarios/models/openai-compatible.js';
import { closedPort } from '../../support/closed-port.js';
import { type FakeVertex, startFakeVertex } from '../../support/fake-vertex.js';

const TOKEN = 'test-token';
const PROMPT = 'You are Ana, a hotel guest who wants to move her booking to next Friday.';

let fake: FakeVertex;

beforeAll(async () => {
  fake = await startFakeVertex();
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  // A test that failed part way leaves no answers or requests behind.
  fake.reset();
  vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', '/nonexistent/guest-relay-test/adc.json');
  vi.stubEnv('GOOGLE_API_KEY', undefined);
  vi.stubEnv('GEMINI_API_KEY', undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

function model(options: Partial<GoogleVertexOptions> = {}): ChatModel {
  return googleVertex({
    project: 'guest-relay-test',
    location: 'europe-west4',
    model: 'gemini-2.5-flash',
    accessToken: TOKEN,
    baseUrl: fake.url,
    maxRetries: 2,
    ...options,
  });
}

/** A generous turn: these tests never wait for it, but a stuck call still ends. */
function call(maxTokens = 200, signal: AbortSignal = AbortSignal.timeout(20_000)) {
  return { maxTokens, signal };
}

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelError);
  return error as ModelError;
}

describe('google-vertex-ai model', () => {
  it('describes itself with the model, project and location', () => {
    expect(model().description).toBe('google-vertex-ai gemini-2.5-flash (guest-relay-test/europe-west4)');
  });

  it('sends the prompt, the examples and the turns with their roles, and counts the usage', async () => {
    fake.answer({ text: '  Friday works, thanks!  ', promptTokens: 120, completionTokens: 9 });
    const reply = await model({
      temperature: 0.3,
      topK: 20,
      topP: 0.9,
      seed: 7,
      examples: [{ input: 'Hello, how can I help?', output: 'Hi, I have a booking question.' }],
    }).reply(
      PROMPT,
      [
        { role: 'guest', text: 'I want to change my booking.' },
        { role: 'bot', text: 'Sure, what is the reference?' },
        { role: 'guest', text: 'It is ABC123.' },
        { role: 'bot', text: 'Which date would you like?' },
      ],
      call(123),
    );

    expect(reply).toEqual({ text: 'Friday works, thanks!', usage: { prompt: 120, completion: 9 } });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({
      project: 'guest-relay-test',
      location: 'europe-west4',
      model: 'gemini-2.5-flash',
      authorization: `Bearer ${TOKEN}`,
    });
    const body = request?.body as {
      systemInstruction: { parts: { text: string }[] };
      contents: { role: string; parts: { text: string }[] }[];
      generationConfig: Record<string, unknown>;
    };
    expect(body.systemInstruction.parts).toEqual([{ text: PROMPT }]);
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Hello, how can I help?' }] },
      { role: 'model', parts: [{ text: 'Hi, I have a booking question.' }] },
      { role: 'user', parts: [{ text: OPENING }] },
      { role: 'model', parts: [{ text: 'I want to change my booking.' }] },
      { role: 'user', parts: [{ text: 'Sure, what is the reference?' }] },
      { role: 'model', parts: [{ text: 'It is ABC123.' }] },
      { role: 'user', parts: [{ text: 'Which date would you like?' }] },
    ]);
    expect(body.generationConfig).toEqual({
      maxOutputTokens: 123,
      temperature: 0.3,
      topK: 20,
      topP: 0.9,
      seed: 7,
    });
  });

  it('opens the conversation with the OPENING line when there are no turns, and leaves out unset options', async () => {
    fake.answer({ text: 'Hi! I need to move my booking.' });
    const reply = await model().reply(PROMPT, [], call(50));

    expect(reply.text).toBe('Hi! I need to move my booking.');
    const body = fake.requests[0]?.body as { contents: unknown; generationConfig: unknown };
    expect(body.contents).toEqual([{ role: 'user', parts: [{ text: OPENING }] }]);
    expect(body.generationConfig).toEqual({ maxOutputTokens: 50 });
  });

  it('starts with the bot when the bot spoke first, joining its adjacent messages', async () => {
    fake.answer({ text: 'Yes, booking ABC123.' });
    await model().reply(
      PROMPT,
      [
        { role: 'bot', text: 'Welcome!' },
        { role: 'bot', text: 'Do you have a booking?' },
      ],
      call(),
    );

    const body = fake.requests[0]?.body as { contents: unknown };
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Welcome!' }, { text: 'Do you have a booking?' }] },
    ]);
  });

  it('retries a 429 as its Retry-After says, then answers', async () => {
    fake.answer({ status: 429, headers: { 'retry-after': '1' } }, { text: 'Second time lucky.' });
    const started = performance.now();
    const reply = await model().reply(PROMPT, [], call());

    expect(reply.text).toBe('Second time lucky.');
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.authorization).toBe(`Bearer ${TOKEN}`);
    // A lower bound only: the wait cannot be shorter than what Retry-After asked.
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('retries a 5xx with backoff when there is no Retry-After', async () => {
    fake.answer({ status: 503 }, { status: 500 }, { text: 'Back again.' });
    const reply = await model().reply(PROMPT, [], call());

    expect(reply.text).toBe('Back again.');
    expect(fake.requests).toHaveLength(3);
  });

  it("fails 'rate_limited' when every retry is answered 429", async () => {
    const limited = { status: 429, headers: { 'retry-after': '0' } };
    fake.answer(limited, limited, limited);
    const error = await failure(model({ maxRetries: 2 }).reply(PROMPT, [], call()));

    expect(error.code).toBe('rate_limited');
    expect(error.message).toContain('429');
    expect(fake.requests).toHaveLength(3);
  });

  it("fails 'http' with the status for a 5xx that outlasts the retries", async () => {
    fake.answer(
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 503, headers: { 'retry-after': '0' } },
    );
    const error = await failure(model({ maxRetries: 1 }).reply(PROMPT, [], call()));

    expect(error.code).toBe('http');
    expect(error.message).toContain('HTTP 503');
    expect(fake.requests).toHaveLength(2);
  });

  it("fails 'http' at once for another client error, quoting Google's message", async () => {
    fake.answer({
      status: 400,
      body: { error: { code: 400, message: 'Model gemini-nope is not found.', status: 'INVALID_ARGUMENT' } },
    });
    const error = await failure(model().reply(PROMPT, [], call()));

    expect(error.code).toBe('http');
    expect(error.message).toBe('The model answered HTTP 400: Model gemini-nope is not found.');
    expect(fake.requests).toHaveLength(1);
  });

  it.each([401, 403])("fails 'auth' on %i without retrying, and never shows the token", async (status) => {
    fake.answer({
      status,
      body: { error: { code: status, message: `Token ${TOKEN} is not valid.`, status: 'UNAUTHENTICATED' } },
    });
    const error = await failure(model().reply(PROMPT, [], call()));

    expect(error.code).toBe('auth');
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain('GOOGLE_VERTEX_ACCESS_TOKEN');
    expect(error.message).not.toContain(TOKEN);
    expect(fake.requests).toHaveLength(1);
  });

  it("fails 'timeout' when the signal aborts before a slow answer", async () => {
    fake.answer({ delayMs: 30_000, answer: { text: 'Too late.' } });
    const controller = new AbortController();
    const started = performance.now();
    const reply = model().reply(PROMPT, [], call(200, controller.signal));
    setTimeout(() => controller.abort(), 100);
    const error = await failure(reply);

    expect(error.code).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it("stops waiting out a Retry-After when the signal aborts, and fails 'timeout'", async () => {
    fake.answer({ status: 429, headers: { 'retry-after': '30' } }, { text: 'Never asked for.' });
    const controller = new AbortController();
    const started = performance.now();
    const reply = model().reply(PROMPT, [], call(200, controller.signal));
    await expect.poll(() => fake.requests.length).toBe(1);
    controller.abort();
    const error = await failure(reply);

    expect(error.code).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(fake.requests).toHaveLength(1);
    expect(fake.pending).toBe(1);
  });

  it("fails 'malformed' on a 200 whose body is not JSON", async () => {
    fake.answer({ raw: 'not json' });
    const error = await failure(model().reply(PROMPT, [], call()));

    expect(error.code).toBe('malformed');
  });

  it("fails 'malformed' on a 200 with no candidate text", async () => {
    fake.answer(
      { status: 200, body: { candidates: [], usageMetadata: { promptTokenCount: 5 } } },
      { status: 200, body: { candidates: [{ finishReason: 'SAFETY', index: 0 }] } },
      { status: 200, body: { candidates: [{ content: { role: 'model', parts: [{ text: '   ' }] } }] } },
    );
    const messages: string[] = [];
    for (let i = 0; i < 3; i++) {
      const error = await failure(model().reply(PROMPT, [], call()));
      expect(error.code).toBe('malformed');
      messages.push(error.message);
    }
    expect(messages[1]).toContain('SAFETY');
  });

  it("fails 'connection' when nothing listens", async () => {
    const port = await closedPort();
    const error = await failure(model({ baseUrl: `http://127.0.0.1:${port}` }).reply(PROMPT, [], call()));

    expect(error.code).toBe('connection');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it("without a token, asks Application Default Credentials, and fails 'auth' unsent when they cannot be read", async () => {
    fake.answer({ text: 'Never asked for.' });
    const adc = googleVertex({
      project: 'guest-relay-test',
      location: 'europe-west4',
      model: 'gemini-2.5-flash',
      baseUrl: fake.url,
      maxRetries: 0,
    });
    const error = await failure(adc.reply(PROMPT, [], call()));

    expect(error.code).toBe('auth');
    expect(error.message).toContain('GOOGLE_APPLICATION_CREDENTIALS');
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses an empty access token when it is built', () => {
    expect(() => model({ accessToken: ' ' })).toThrow(ModelConfigError);
  });
});
