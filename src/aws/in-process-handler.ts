/**
 * An AWS SDK v3 request handler that hands each request to a Node HTTP request listener in this process,
 * instead of sending it over a socket. Local mode runs the same code as the cloud (DESIGN §4): the same
 * SDK clients, the same store and gateway code, and the same listener the embedded engine's HTTP server
 * runs (dynalite, the gateway emulator's `@connections`). Only the loopback hop goes, and with it the
 * HTTP client and server work on every request (sockets, parsing, the agent's pool).
 *
 * The listener gets a small stand-in for IncomingMessage (method, url, lower-cased headers, a Readable
 * body) and ServerResponse (statusCode, setHeader, writeHead, write, end, destroy, headersSent); the
 * handler resolves when the listener ends the response, with the whole body as bytes, which the SDK
 * collects as it is. A response the listener destroys rejects, like a reset connection. Headers Node adds
 * on the wire (date, connection, transfer-encoding) are not made up; the SDK reads `date` only to correct
 * clock skew, which one process cannot have.
 *
 * One handler may serve many clients at once, so `destroy()` (which `client.destroy()` calls) releases
 * nothing and stops nothing: there are no sockets to close.
 */
import { EventEmitter } from 'node:events';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import type {
  HttpHandlerOptions,
  HttpRequest,
  HttpResponse,
  QueryParameterBag,
  RequestHandler,
  RequestHandlerOutput,
  AbortSignal as SmithyAbortSignal,
} from '@smithy/types';
import { withDefaults } from '../domain/options.js';

/** What `http.createServer(listener)` takes. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface InProcessHandlerOptions {
  /** Milliseconds before a request the listener has not answered rejects with a TimeoutError; 0: never. */
  readonly requestTimeout: number;
}

/** What an SDK client's `requestHandler` option accepts, plus the two config hooks the SDK core calls. */
export interface InProcessRequestHandler
  extends RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  readonly metadata: { readonly handlerProtocol: string };
  handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<RequestHandlerOutput<HttpResponse>>;
  /** Called by `client.destroy()`; the handler is shared and holds no sockets, so it does nothing. */
  destroy(): void;
  /** The SDK passes its logger and socket timeout here (symbol keys); only `requestTimeout` is kept. */
  updateHttpClientConfig(key: keyof InProcessHandlerOptions, value: number): void;
  httpHandlerConfigs(): InProcessHandlerOptions;
}

const DEFAULTS: InProcessHandlerOptions = Object.freeze({ requestTimeout: 0 });

export function inProcessRequestHandler(
  listener: RequestListener,
  options: Partial<InProcessHandlerOptions> = {},
): InProcessRequestHandler {
  const config = withDefaults('inProcessRequestHandler', DEFAULTS, options);
  checkTimeout(config.requestTimeout);
  let requestTimeout = config.requestTimeout;
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    handle: (request, handlerOptions = {}) =>
      dispatch(
        listener,
        request,
        handlerOptions.abortSignal,
        handlerOptions.requestTimeout ?? requestTimeout,
      ),
    destroy() {},
    updateHttpClientConfig(key, value) {
      if (key !== 'requestTimeout') return;
      checkTimeout(value);
      requestTimeout = value;
    },
    httpHandlerConfigs: () => ({ requestTimeout }),
  };
}

function checkTimeout(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0)
    throw new RangeError(`inProcessRequestHandler: bad requestTimeout ${ms}`);
}

function dispatch(
  listener: RequestListener,
  request: HttpRequest,
  signal: AbortSignal | SmithyAbortSignal | undefined,
  timeoutMs: number,
): Promise<RequestHandlerOutput<HttpResponse>> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => {
      fail(signal ? abortError(signal) : new Error('Request aborted'));
      response.emit('close');
    };
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (signal && 'removeEventListener' in signal) signal.removeEventListener('abort', onAbort);
      else if (signal) signal.onabort = null;
      outcome();
    };
    const fail = (error: unknown): void => settle(() => reject(error));
    const response = new InProcessResponse(
      request.method === 'HEAD',
      (httpResponse) => settle(() => resolve({ response: httpResponse })),
      fail,
    );
    if (signal && 'addEventListener' in signal) signal.addEventListener('abort', onAbort, { once: true });
    else if (signal) signal.onabort = onAbort;
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        const error = Object.assign(new Error(`in-process request exceeded ${timeoutMs} ms`), {
          name: 'TimeoutError',
          code: 'ETIMEDOUT',
        });
        fail(error);
      }, timeoutMs);
    }
    const run = (body: Buffer): void => {
      if (settled) return;
      const req = new InProcessRequest(request, body);
      try {
        // The stand-ins carry what listeners read of IncomingMessage and ServerResponse, not all of it.
        listener(req as unknown as IncomingMessage, response as unknown as ServerResponse);
      } catch (error) {
        fail(error);
      }
    };
    try {
      const body = requestBody(request.body);
      if (body instanceof Promise) body.then(run, fail);
      else run(body);
    } catch (error) {
      fail(error);
    }
  });
}

const escapeUri = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** As @smithy/node-http-handler builds it, so a listener sees the URL it would see over HTTP. */
function buildQueryString(query: QueryParameterBag): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (Array.isArray(value)) for (const item of value) parts.push(`${escapeUri(key)}=${escapeUri(item)}`);
    else if (typeof value === 'string') parts.push(`${escapeUri(key)}=${escapeUri(value)}`);
    else parts.push(escapeUri(key));
  }
  return parts.join('&');
}

/** The SDK sends a string or bytes; a stream (no command of ours sends one) is read to the end first. */
function requestBody(body: unknown): Buffer | Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (typeof body === 'object' && Symbol.asyncIterator in body) {
    return (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks);
    })();
  }
  throw new TypeError(`inProcessRequestHandler: unsupported request body (${typeof body})`);
}

function abortError(signal: AbortSignal | SmithyAbortSignal): Error {
  const reason: unknown = 'reason' in signal ? signal.reason : undefined;
  const error =
    reason instanceof Error
      ? new Error('Request aborted', { cause: reason })
      : new Error(reason === undefined ? 'Request aborted' : String(reason));
  error.name = 'AbortError';
  return error;
}

/** What a listener reads of IncomingMessage: the body flows once read, as on a socket. */
class InProcessRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly rawHeaders: string[] = [];
  readonly httpVersion = '1.1';

  constructor(request: HttpRequest, body: Buffer) {
    super();
    this.method = request.method;
    const query = request.query ? buildQueryString(request.query) : '';
    this.url = query ? `${request.path}?${query}` : request.path;
    // Null prototype, as Node's own headers object: a header name can never hit Object.prototype.
    const headers: Record<string, string> = Object.create(null);
    for (const [name, value] of Object.entries(request.headers)) {
      const lower = name.toLowerCase();
      headers[lower] = lower in headers ? `${headers[lower]}, ${value}` : value;
      this.rawHeaders.push(name, value);
    }
    this.headers = headers;
    if (body.length > 0) this.push(body);
    this.push(null);
  }

  override _read(): void {}
}

type HeaderValue = string | number | readonly string[];

/** What a listener writes to ServerResponse, collected into one SDK HttpResponse when it ends. */
class InProcessResponse extends EventEmitter {
  statusCode = 200;
  statusMessage: string | undefined;
  headersSent = false;
  writableEnded = false;
  readonly #headers = new Map<string, HeaderValue>();
  readonly #chunks: Buffer[] = [];
  readonly #discardBody: boolean;
  readonly #done: (response: HttpResponse) => void;
  readonly #fail: (error: Error) => void;

  constructor(discardBody: boolean, done: (response: HttpResponse) => void, fail: (error: Error) => void) {
    super();
    this.#discardBody = discardBody;
    this.#done = done;
    this.#fail = fail;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headersSent) {
      throw Object.assign(new Error('Cannot set headers after they are sent to the client'), {
        code: 'ERR_HTTP_HEADERS_SENT',
      });
    }
    this.#headers.set(name.toLowerCase(), value);
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.#headers.get(name.toLowerCase());
  }

  getHeaders(): Record<string, HeaderValue> {
    return Object.fromEntries(this.#headers);
  }

  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    this.#headers.delete(name.toLowerCase());
  }

  writeHead(
    statusCode: number,
    messageOrHeaders?: string | Record<string, HeaderValue> | readonly string[],
    headers?: Record<string, HeaderValue> | readonly string[],
  ): this {
    this.statusCode = statusCode;
    if (typeof messageOrHeaders === 'string') this.statusMessage = messageOrHeaders;
    const fields = typeof messageOrHeaders === 'string' ? headers : messageOrHeaders;
    if (Array.isArray(fields)) {
      for (let i = 0; i + 1 < fields.length; i += 2) this.setHeader(String(fields[i]), String(fields[i + 1]));
    } else if (fields) {
      for (const [name, value] of Object.entries(fields)) this.setHeader(name, value);
    }
    this.headersSent = true;
    return this;
  }

  write(
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | (() => void),
    callback?: () => void,
  ): boolean {
    this.#collect(chunk, encoding);
    this.headersSent = true;
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) process.nextTick(done);
    return true;
  }

  end(
    chunk?: string | Uint8Array | (() => void),
    encoding?: BufferEncoding | (() => void),
    callback?: () => void,
  ): this {
    if (this.writableEnded) return this;
    const done = [chunk, encoding, callback].find((arg) => typeof arg === 'function');
    if (chunk !== undefined && typeof chunk !== 'function') this.#collect(chunk, encoding);
    this.headersSent = true;
    this.writableEnded = true;
    const headers: Record<string, string> = {};
    for (const [name, value] of this.#headers) {
      headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    const body = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
    this.#done({
      statusCode: this.statusCode,
      reason: this.statusMessage ?? STATUS_CODES[this.statusCode] ?? '',
      headers,
      body,
    });
    this.emit('finish');
    this.emit('close');
    if (done) process.nextTick(done);
    return this;
  }

  /** As a reset connection: the request rejects with `error` (ECONNRESET 'socket hang up' without one). */
  destroy(error?: Error): this {
    this.writableEnded = true;
    this.#fail(error ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    this.emit('close');
    return this;
  }

  #collect(chunk: string | Uint8Array, encoding: BufferEncoding | (() => void) | undefined): void {
    if (this.writableEnded || this.#discardBody) return;
    if (typeof chunk === 'string') {
      this.#chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8'));
    } else if (chunk.byteLength > 0) {
      this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
  }
}
