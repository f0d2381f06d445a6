/**
 * An AWS SDK v3 request handler whose requests are served on another thread of this process: each
 * request crosses a MessagePort (a structured clone, no socket, no HTTP parsing) to a thread that serves
 * it with an in-process handler, and the response comes back the same way.
 *
 * Why a thread: local mode's embedded DynamoDB engine (dynalite) finishes each storage step in a later
 * turn of its event loop (setImmediate around every LevelDB callback), so on a loop that also runs the
 * gateway, the handlers and the worker, one UpdateItem waits behind all of their work several times over.
 * On a thread of its own the engine's loop turns at once and the machine's second core does its work
 * (docs/performance.md has the figures).
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import type {
  HttpHandlerOptions,
  HttpRequest,
  HttpResponse,
  RequestHandler,
  RequestHandlerOutput,
} from '@smithy/types';

/** A request as it crosses the port. */
export interface PortRequest {
  readonly id: number;
  readonly method: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly port?: number;
  readonly path: string;
  readonly query?: HttpRequest['query'];
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
}

/** A response as it crosses the port; `error` when the serving handler failed (a reset connection). */
export interface PortResponse {
  readonly id: number;
  readonly statusCode?: number;
  readonly reason?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
  readonly error?: { readonly name: string; readonly message: string; readonly code?: string };
}

type Port = Pick<MessagePort, 'postMessage' | 'on' | 'off'> | Pick<Worker, 'postMessage' | 'on' | 'off'>;

export interface ThreadRequestHandler extends RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  readonly metadata: { readonly handlerProtocol: string };
  handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<RequestHandlerOutput<HttpResponse>>;
  /** Shared by every client of the engine: `client.destroy()` must not stop it. */
  destroy(): void;
  updateHttpClientConfig(key: string, value: unknown): void;
  httpHandlerConfigs(): Record<string, never>;
  /** Requests sent and not answered yet. */
  readonly inFlight: number;
}

/**
 * The handler on this side of `port`. `observe(request)` is called as each request leaves and returns
 * what to call when its response is back (counting and tracing, for the benchmarks).
 */
export function threadRequestHandler(
  port: Port,
  observe: (request: PortRequest) => (() => void) | undefined = () => undefined,
): ThreadRequestHandler {
  let next = 1;
  const waiting = new Map<number, (response: PortResponse) => void>();
  port.on('message', (message: PortResponse) => {
    const done = waiting.get(message.id);
    if (done === undefined) return;
    waiting.delete(message.id);
    done(message);
  });
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    get inFlight() {
      return waiting.size;
    },
    handle(request, options = {}) {
      const signal = options.abortSignal;
      if (signal?.aborted) return Promise.reject(abortError());
      const id = next++;
      const body = request.body as unknown;
      const outgoing: PortRequest = {
        id,
        method: request.method,
        protocol: request.protocol,
        hostname: request.hostname,
        ...(request.port === undefined ? {} : { port: request.port }),
        path: request.path,
        ...(request.query === undefined ? {} : { query: request.query }),
        headers: { ...request.headers },
        ...(typeof body === 'string' || body instanceof Uint8Array ? { body } : {}),
      };
      if (body !== undefined && body !== null && outgoing.body === undefined) {
        return Promise.reject(
          new TypeError('threadRequestHandler: only string or byte bodies cross the port'),
        );
      }
      const observed = observe(outgoing);
      return new Promise((resolve, reject) => {
        const onAbort = (): void => {
          waiting.delete(id);
          reject(abortError());
        };
        // The SDK's signal type allows an older shape with `onabort` only.
        const events = signal as
          | Partial<Pick<AbortSignal, 'addEventListener' | 'removeEventListener'>>
          | undefined;
        events?.addEventListener?.('abort', onAbort, { once: true });
        waiting.set(id, (response) => {
          events?.removeEventListener?.('abort', onAbort);
          observed?.();
          if (response.error !== undefined) {
            reject(Object.assign(new Error(response.error.message), response.error));
            return;
          }
          resolve({
            response: {
              statusCode: response.statusCode ?? 500,
              reason: response.reason ?? '',
              headers: response.headers ?? {},
              body: response.body ?? new Uint8Array(),
            } as HttpResponse,
          });
        });
        port.postMessage(outgoing);
      });
    },
    destroy() {},
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
}

/** On the serving thread: answers every PortRequest arriving on `port` with `handler`. */
export function serveRequests(
  port: Pick<MessagePort, 'postMessage' | 'on'>,
  handler: Pick<ThreadRequestHandler, 'handle'>,
): void {
  port.on('message', (message: PortRequest | { type: string }) => {
    if (!('id' in message)) return;
    const { id, ...request } = message;
    handler.handle(request as unknown as HttpRequest).then(
      ({ response }) => {
        const body = response.body instanceof Uint8Array ? response.body : new Uint8Array();
        const answer: PortResponse = {
          id,
          statusCode: response.statusCode,
          ...(response.reason === undefined ? {} : { reason: response.reason }),
          headers: response.headers,
          body,
        };
        port.postMessage(answer);
      },
      (error: unknown) => {
        const e = error as { name?: unknown; message?: unknown; code?: unknown };
        const answer: PortResponse = {
          id,
          error: {
            name: typeof e.name === 'string' ? e.name : 'Error',
            message: typeof e.message === 'string' ? e.message : String(error),
            ...(typeof e.code === 'string' ? { code: e.code } : {}),
          },
        };
        port.postMessage(answer);
      },
    );
  });
}

function abortError(): Error {
  const error = new Error('Request aborted');
  error.name = 'AbortError';
  return error;
}
