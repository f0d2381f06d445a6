/**
 * A small HTTP router for the emulator's REST endpoints: method + path patterns with `:params` (each
 * one URL-decoded path segment), JSON in and out, errors as JSON with a stable code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Log } from '../../logging/log.js';
import { EmulatorError } from './errors.js';
import { describeIssues } from './scripts.js';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
}

export type RouteHandler = (context: RouteContext) => void | Promise<void>;

/** An error answer with its HTTP status and JSON body. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** The emulator's own error body: `{"error":{"code":"…","message":"…"}}`. */
export function emulatorError(
  status: number,
  code: string,
  message: string,
  issues?: readonly string[],
): HttpError {
  return new HttpError(status, { error: { code, message, ...(issues ? { issues } : {}) } });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(data),
  });
  res.end(data);
}

export interface ReadBody {
  /** The first `maxBytes` bytes. */
  readonly bytes: Buffer;
  /** How many bytes the body really had. */
  readonly length: number;
}

/** Reads the whole body, keeping at most `maxBytes` of it (the rest is counted and dropped). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (kept < maxBytes) {
        const part = chunk.subarray(0, maxBytes - kept);
        chunks.push(part);
        kept += part.length;
      }
    });
    req.on('end', () => resolve({ bytes: Buffer.concat(chunks), length }));
    req.on('error', reject);
  });
}

const MAX_JSON_BYTES = 64 * 1024;

/** The body as JSON; an empty body is `{}`. @throws HttpError 400 / 413 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const { bytes, length } = await readBody(req, MAX_JSON_BYTES);
  if (length > MAX_JSON_BYTES) {
    throw emulatorError(413, 'body_too_large', `The body is larger than ${MAX_JSON_BYTES} bytes.`);
  }
  const text = bytes.toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw emulatorError(400, 'invalid_json', 'The body is not valid JSON.');
  }
}

/** Parses a body with a zod schema. @throws HttpError 400 naming every problem */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = describeIssues(result.error);
    throw emulatorError(400, 'invalid_request', `Invalid request body: ${issues.join('; ')}`, issues);
  }
  return result.data;
}

interface Route {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

export class Router {
  readonly #routes: Route[] = [];
  readonly #logger: Log;

  constructor(logger: Log) {
    this.#logger = logger;
  }

  on(method: string, pattern: string, handler: RouteHandler): this {
    this.#routes.push({ method, segments: splitPath(pattern), handler });
    return this;
  }

  /** Routes one request: 404 for an unknown path, 405 for a known path with another method. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://emulator.invalid');
      const path = splitPath(url.pathname);
      let pathKnown = false;
      for (const route of this.#routes) {
        const params = matchSegments(route.segments, path);
        if (!params) continue;
        pathKnown = true;
        if (route.method !== req.method) continue;
        await route.handler({ req, res, url, params });
        return;
      }
      if (pathKnown) throw emulatorError(405, 'method_not_allowed', `${req.method} is not allowed here.`);
      throw emulatorError(404, 'not_found', `Nothing at ${url.pathname}.`);
    } catch (error) {
      this.#fail(res, error);
    }
  }

  #fail(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof HttpError) {
      sendJson(res, error.status, error.body, error.headers);
    } else if (error instanceof EmulatorError) {
      sendJson(res, error.status, { error: { code: error.code, message: error.message } });
    } else {
      this.#logger.error('emulator HTTP handler failed', error);
      sendJson(res, 500, { error: { code: 'internal_error', message: 'The emulator failed; see its log.' } });
    }
  }
}

function matchSegments(
  pattern: readonly string[],
  path: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  if (pattern.some((want, i) => !want.startsWith(':') && want !== path[i])) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] ?? '';
    const have = path[i] ?? '';
    if (!want.startsWith(':')) continue;
    try {
      params[want.slice(1)] = decodeURIComponent(have);
    } catch {
      throw emulatorError(400, 'invalid_path', `Path segment "${have}" is not valid URL encoding.`);
    }
  }
  return params;
}
