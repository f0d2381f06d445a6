/**
 * A loopback fake of Vertex AI's `generateContent` (POST
 * `…/projects/:project/locations/:location/publishers/google/models/:model:generateContent`), for the
 * `google-vertex-ai` model against the real @google/genai client. It answers from a queue of scripted
 * answers, in order, and records every request it was sent. A request with no answer left gets a 500 that
 * says so; any other path gets a 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer to one request. */
export type VertexAnswer =
  /** A normal candidate with this text, and usageMetadata (`promptTokens`/`completionTokens`, default 11/7). */
  | { readonly text: string; readonly promptTokens?: number; readonly completionTokens?: number }
  /** Any status with a JSON body (default: Google's error shape for the status) and headers, e.g. `retry-after`. */
  | {
      readonly status: number;
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /**
   * `answer`, only after `delayMs` (never, if the client goes away first). Not named `then`: an object with
   * a `then` is taken for a promise (Biome's noThenProperty).
   */
  | { readonly delayMs: number; readonly answer: VertexAnswer }
  /** A 200 whose body is this text as is, with `content-type: application/json` (e.g. `'not json'`). */
  | { readonly raw: string };

export interface VertexRequest {
  readonly project: string;
  readonly location: string;
  readonly model: string;
  /** The path and query as sent, e.g. `/v1beta1/projects/p/locations/l/publishers/google/models/m:generateContent`. */
  readonly url: string;
  readonly authorization: string | undefined;
  /** The parsed JSON body; the raw text when it is not JSON. */
  readonly body: unknown;
}

export interface FakeVertex {
  /** `http://127.0.0.1:<port>`: the model's `baseUrl`. */
  readonly url: string;
  /** Every generateContent request, in the order they arrived. */
  readonly requests: VertexRequest[];
  /** Adds answers to the end of the queue. */
  answer(...answers: VertexAnswer[]): void;
  /** How many scripted answers are still queued. */
  readonly pending: number;
  /** Forgets the queued answers and the recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

const GENERATE =
  /\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):generateContent$/;

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** Google's error body: `{ error: { code, message, status } }`. */
function errorBody(status: number, message: string): unknown {
  return { error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN' } };
}

function candidate(text: string, promptTokens: number, completionTokens: number): unknown {
  return {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: {
      promptTokenCount: promptTokens,
      candidatesTokenCount: completionTokens,
      totalTokenCount: promptTokens + completionTokens,
    },
    modelVersion: 'fake-vertex',
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startFakeVertex(): Promise<FakeVertex> {
  const queue: VertexAnswer[] = [];
  const requests: VertexRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(body));
  };

  const send = (res: ServerResponse, answer: VertexAnswer): void => {
    if (res.destroyed) return;
    if ('delayMs' in answer) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(res, answer.answer);
      }, answer.delayMs);
      timers.add(timer);
      res.on('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
      });
    } else if ('raw' in answer) {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(answer.raw);
    } else if ('text' in answer) {
      json(res, 200, candidate(answer.text, answer.promptTokens ?? 11, answer.completionTokens ?? 7));
    } else {
      json(
        res,
        answer.status,
        answer.body ?? errorBody(answer.status, `Scripted HTTP ${answer.status}.`),
        answer.headers === undefined ? {} : { ...answer.headers },
      );
    }
  };

  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const match = req.method === 'POST' ? GENERATE.exec(path) : null;
    if (match === null) {
      json(res, 404, errorBody(404, `The fake answers only generateContent, not ${req.method} ${req.url}.`));
      return;
    }
    const [, project = '', location = '', model = ''] = match.map((part) => decodeURIComponent(part));
    requests.push({
      project,
      location,
      model,
      url: req.url ?? '',
      authorization: req.headers.authorization,
      body: parsed(await readBody(req)),
    });
    const answer = queue.shift();
    if (answer === undefined) {
      json(res, 500, errorBody(500, 'The fake has no scripted answer left for this request.'));
      return;
    }
    send(res, answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answer: (...answers) => {
      queue.push(...answers);
    },
    get pending() {
      return queue.length;
    },
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
