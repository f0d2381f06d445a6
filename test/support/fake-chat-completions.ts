/**
 * A loopback fake of an OpenAI-compatible chat-completions endpoint (`POST /v1/chat/completions`), for
 * generative scenarios against the real `openai` client. It plays scripted model answers: a list of
 * answers given in order, or a function of the request (to answer what the bot just said). Every request
 * is recorded. A request with no answer left gets a 500 that says so; any other path a 404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly { readonly role: string; readonly content: string }[];
  readonly max_tokens?: number;
  readonly max_completion_tokens?: number;
  readonly temperature?: number;
  readonly seed?: number;
  readonly authorization: string | undefined;
}

export type ChatAnswer =
  /** A completion with this text and usage (default 50 prompt, 10 completion tokens). */
  | { readonly text: string; readonly promptTokens?: number; readonly completionTokens?: number }
  /** An error status with an OpenAI-shaped error body and these headers (e.g. `retry-after`). */
  | {
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly message?: string;
    }
  /** `answer`, given after `delayMs` (never, when the client has gone). */
  | { readonly delayMs: number; readonly answer: ChatAnswer }
  /** A 200 whose body is this text as is (e.g. not JSON, or JSON without choices). */
  | { readonly raw: string };

export interface FakeChatCompletions {
  /** The client's base URL: `http://127.0.0.1:<port>/v1`. */
  readonly baseUrl: string;
  readonly requests: readonly ChatRequest[];
  /** Answers in order, or a function asked for each request (it may return undefined: a 500). */
  answer(answers: readonly ChatAnswer[] | ((request: ChatRequest) => ChatAnswer | undefined)): void;
  close(): Promise<void>;
}

export async function startFakeChatCompletions(): Promise<FakeChatCompletions> {
  const requests: ChatRequest[] = [];
  let queue: ChatAnswer[] = [];
  let script: ((request: ChatRequest) => ChatAnswer | undefined) | undefined;

  const send = (res: ServerResponse, answer: ChatAnswer | undefined): void => {
    if (res.destroyed) return;
    if (answer === undefined) {
      json(res, 500, {
        error: { message: 'the fake has no answer left for this request', type: 'server_error' },
      });
    } else if ('delayMs' in answer) {
      const timer = setTimeout(() => send(res, answer.answer), answer.delayMs);
      res.once('close', () => clearTimeout(timer));
    } else if ('raw' in answer) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer.raw);
    } else if ('status' in answer) {
      json(
        res,
        answer.status,
        { error: { message: answer.message ?? `scripted HTTP ${answer.status}`, type: 'fake_error' } },
        answer.headers,
      );
    } else {
      const prompt = answer.promptTokens ?? 50;
      const completion = answer.completionTokens ?? 10;
      json(res, 200, {
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: requests.at(-1)?.model ?? 'fake',
        choices: [{ index: 0, message: { role: 'assistant', content: answer.text }, finish_reason: 'stop' }],
        usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      });
    }
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      json(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<ChatRequest, 'authorization'>;
    const request = { ...body, authorization: req.headers.authorization };
    requests.push(request);
    send(res, script ? script(request) : queue.shift());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    answer(answers) {
      if (typeof answers === 'function') {
        script = answers;
        queue = [];
      } else {
        script = undefined;
        queue = [...answers];
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
