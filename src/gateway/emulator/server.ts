/**
 * `startWebSocketApi`: a local API Gateway WebSocket API on one port. The WebSocket endpoint is
 * `ws://host:port/<stage>`, the management endpoint `http://host:port/<stage>` (`@connections` below it).
 * The authorizer and `$connect` run before the upgrade completes, so a refusal is an HTTP status at the
 * handshake, never an open-then-close. An upgrade on any other path is a 404 that names the right URL.
 * Handlers are invoked in-process with API Gateway-shaped events.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { WebSocketServer } from 'ws';
import { keepIdleSockets } from '../../aws/idle-sockets.js';
import {
  type InProcessRequestHandler,
  inProcessRequestHandler,
  type RequestListener,
} from '../../aws/in-process-handler.js';
import { decide } from './authorize.js';
import { type ConnectionSnapshot, EmulatedConnection } from './connection.js';
import {
  type AuthorizerContext,
  functionNameFor,
  type HandlerOutcome,
  lambdaContext,
  newConnectionId,
  newMessageId,
  requestTime,
  type WebSocketEvent,
  type WebSocketRequestContext,
} from './events.js';
import { handleManagementRequest } from './management-api.js';
import { DISCOVERY_PATH, type ResolvedOptions, resolveOptions, type WebSocketApiOptions } from './options.js';
import { selectRoute } from './route-selection.js';

export interface WebSocketApi {
  /** 'ws://127.0.0.1:PORT/<stage>'. */
  readonly url: string;
  /** 'http://127.0.0.1:PORT/<stage>': the `endpoint` of an ApiGatewayManagementApiClient. */
  readonly managementEndpoint: string;
  readonly port: number;
  readonly apiId: string;
  readonly stage: string;
  /** 'http://127.0.0.1:PORT/.well-known/guest-relay' when the `discovery` option was given. */
  readonly discoveryUrl?: string;
  /**
   * The `requestHandler` for an ApiGatewayManagementApiClient in this process (with `managementEndpoint`
   * as its endpoint): `@connections` requests go to the same code as over HTTP, with no loopback hop.
   */
  readonly requestHandler: InProcessRequestHandler;
  /** The open connections. */
  connections(): ConnectionSnapshot[];
  /**
   * Fault hook (not an AWS feature): the next `count` @connections requests naming `connectionId`
   * (known or not) are answered 429 LimitExceededException. A count of 0 disarms it.
   */
  throttle(connectionId: string, count: number): void;
  /**
   * Fault hook (not an AWS feature): cuts the TCP connection of every open connection for which `filter`
   * holds (every one without a filter), as a network failure would: no close frame, the client sees 1006
   * and $disconnect runs with disconnectStatusCode 1006. Returns the ids of the connections dropped.
   */
  dropConnections(filter?: (connection: ConnectionSnapshot) => boolean): string[];
  /** Closes every connection (1001 'Going away'), waits for their $disconnect handlers, stops listening. */
  close(): Promise<void>;
}

class IntegrationTimeout extends Error {
  override readonly name = 'IntegrationTimeout';
}

interface HandshakeRefusal {
  readonly status: number;
  readonly body: string;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function refuse(socket: Duplex, refusal: HandshakeRefusal): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `x-amzn-RequestId: ${randomUUID()}\r\nContent-Length: ${Buffer.byteLength(refusal.body)}\r\n\r\n${refusal.body}`,
  );
}

function messageBody(message: string): string {
  return JSON.stringify({ message });
}

/** Header maps as API Gateway builds them: names as sent, the single-value map keeps the last value. */
function headerMaps(req: IncomingMessage): {
  single: Record<string, string>;
  multi: Record<string, string[]>;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  return { single, multi };
}

function queryMaps(
  url: URL,
): { single: Record<string, string>; multi: Record<string, string[]> } | undefined {
  if ([...url.searchParams.keys()].length === 0) return undefined;
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    single[key] = value;
    multi[key] = [...(multi[key] ?? []), value];
  }
  return { single, multi };
}

/** The request's path without its query string (which may hold a token: never echoed or logged). */
function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

function sourceIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export async function startWebSocketApi(options: WebSocketApiOptions): Promise<WebSocketApi> {
  const opts: ResolvedOptions = resolveOptions(options);
  const { clock, logger, limits } = opts;
  const live = new Map<string, EmulatedConnection>();
  const throttles = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  let domainName = '';
  let closing = false;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => {});
    return promise;
  };

  /** Runs a handler with a Lambda-like context and the integration timeout. */
  const invoke = <E, R>(
    routeKey: string,
    handler: (event: E, context: Context) => Promise<R>,
    event: E,
  ): Promise<R> => {
    const context = lambdaContext({
      functionName: functionNameFor(opts.functionNamePrefix, routeKey),
      region: opts.region,
      timeoutMs: Math.min(limits.functionTimeoutMs, limits.integrationTimeoutMs),
      now: () => clock.now(),
    });
    return new Promise<R>((resolve, reject) => {
      const timer = clock.setTimeout(
        () => reject(new IntegrationTimeout(`${routeKey} exceeded ${limits.integrationTimeoutMs} ms`)),
        limits.integrationTimeoutMs,
      );
      Promise.resolve()
        .then(() => handler(event, context))
        .then(resolve, reject)
        .finally(() => clock.clearTimeout(timer));
    });
  };

  const requestContext = (
    base: { connectionId: string; connectedAt: number; sourceIp: string; userAgent: string | null },
    routeKey: string,
    eventType: WebSocketRequestContext['eventType'],
    authorizer: AuthorizerContext | undefined,
  ): WebSocketRequestContext => {
    const now = clock.now();
    return {
      routeKey,
      eventType,
      messageId: newMessageId(),
      extendedRequestId: newMessageId(),
      requestTime: requestTime(now),
      messageDirection: 'IN',
      stage: opts.stage,
      connectedAt: base.connectedAt,
      requestTimeEpoch: now,
      requestId: newMessageId(),
      domainName,
      connectionId: base.connectionId,
      apiId: opts.apiId,
      identity: { sourceIp: base.sourceIp, userAgent: base.userAgent },
      ...(authorizer ? { authorizer } : {}),
    };
  };

  const runDisconnect = (
    base: { connectionId: string; connectedAt: number; sourceIp: string; userAgent: string | null },
    authorizer: AuthorizerContext | undefined,
    code: number,
    reason: string,
  ): void => {
    const handler = opts.routes.$disconnect;
    if (!handler) return;
    const event: WebSocketEvent = {
      requestContext: {
        ...requestContext(base, '$disconnect', 'DISCONNECT', authorizer),
        disconnectStatusCode: code,
        disconnectReason: reason,
      },
      isBase64Encoded: false,
    };
    track(invoke('$disconnect', handler, event)).catch((error: unknown) =>
      logger.error('gateway: $disconnect handler failed', { connectionId: base.connectionId, error }),
    );
  };

  const onMessage = (connection: EmulatedConnection, text: string): void => {
    const routeKey = selectRoute(text, opts.routeSelectionPath, opts.routes);
    const context = requestContext(
      connection.init,
      routeKey ?? '$default',
      'MESSAGE',
      connection.init.authorizer,
    );
    const errorFrame = (message: string): void => {
      connection.send(
        Buffer.from(
          JSON.stringify({ message, connectionId: connection.connectionId, requestId: context.requestId }),
        ),
      );
    };
    const handler = routeKey === undefined ? undefined : opts.routes[routeKey];
    if (!handler || routeKey === undefined) {
      errorFrame('Forbidden');
      return;
    }
    const event: WebSocketEvent = { requestContext: context, body: text, isBase64Encoded: false };
    // Not awaited: API Gateway invokes a connection's messages concurrently, with no ordering between them.
    track(invoke(routeKey, handler, event)).then(
      (result: HandlerOutcome) => {
        if (result && typeof result.body === 'string') connection.send(Buffer.from(result.body, 'utf8'));
      },
      (error: unknown) => {
        logger.error('gateway: route handler failed', {
          routeKey,
          connectionId: connection.connectionId,
          error,
        });
        errorFrame(
          error instanceof IntegrationTimeout ? 'Endpoint request timed out' : 'Internal server error',
        );
      },
    );
  };

  const hooks = {
    onMessage,
    onClosed: (connection: EmulatedConnection, code: number, reason: string): void => {
      live.delete(connection.connectionId);
      runDisconnect(connection.init, connection.init.authorizer, code, reason);
    },
  };

  /** Authorizer then $connect; undefined means accepted (with the authorizer context, if any). */
  const admit = async (
    req: IncomingMessage,
    url: URL,
    base: { connectionId: string; connectedAt: number; sourceIp: string; userAgent: string | null },
  ): Promise<{ refusal: HandshakeRefusal } | { authorizer: AuthorizerContext | undefined }> => {
    const headers = headerMaps(req);
    const query = queryMaps(url);
    const requestFields = {
      headers: headers.single,
      multiValueHeaders: headers.multi,
      ...(query ? { queryStringParameters: query.single, multiValueQueryStringParameters: query.multi } : {}),
    };
    let authorizer: AuthorizerContext | undefined;
    if (opts.authorizer) {
      const methodArn = `arn:aws:execute-api:${opts.region}:000000000000:${opts.apiId}/${opts.stage}/$connect`;
      const authEvent = {
        type: 'REQUEST',
        methodArn,
        resource: '$connect',
        path: `/${opts.stage}`,
        httpMethod: 'GET',
        pathParameters: {},
        stageVariables: {},
        queryStringParameters: query?.single ?? null,
        multiValueQueryStringParameters: query?.multi ?? null,
        headers: headers.single,
        multiValueHeaders: headers.multi,
        requestContext: requestContext(base, '$connect', 'CONNECT', undefined),
      } as unknown as APIGatewayRequestAuthorizerEvent;
      let result: unknown;
      try {
        result = await invoke('$authorizer', opts.authorizer, authEvent);
      } catch (error) {
        if (error instanceof Error && error.message === 'Unauthorized') {
          return { refusal: { status: 401, body: messageBody('Unauthorized') } };
        }
        logger.error('gateway: authorizer failed', { connectionId: base.connectionId, error });
        return { refusal: { status: 500, body: messageBody('Internal server error') } };
      }
      const decision = decide(result, methodArn);
      if (!decision.allow)
        return { refusal: { status: decision.status, body: messageBody(decision.message) } };
      authorizer = decision.authorizer;
    }
    const handler = opts.routes.$connect;
    if (handler) {
      const event: WebSocketEvent = {
        requestContext: requestContext(base, '$connect', 'CONNECT', authorizer),
        isBase64Encoded: false,
        ...requestFields,
      };
      let result: HandlerOutcome;
      try {
        result = await invoke('$connect', handler, event);
      } catch (error) {
        logger.error('gateway: $connect handler failed', { connectionId: base.connectionId, error });
        const timedOut = error instanceof IntegrationTimeout;
        return {
          refusal: {
            status: timedOut ? 504 : 500,
            body: messageBody(timedOut ? 'Endpoint request timed out' : 'Internal server error'),
          },
        };
      }
      const status = result?.statusCode ?? 200;
      if (status < 200 || status > 299) {
        return {
          refusal: { status, body: result?.body ?? messageBody(STATUS_CODES[status] ?? 'Error') },
        };
      }
    }
    return { authorizer };
  };

  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // A backstop only: FrameInspector closes with 1009 before ws gets this far.
    maxPayload: limits.maxMessageBytes + limits.maxFrameBytes,
  });

  // The `@connections` API: served over HTTP by the server below and in-process by `requestHandler`.
  const serveManagement: RequestListener = (req, res) => {
    handleManagementRequest(req, res, {
      stage: opts.stage,
      maxMessageBytes: limits.maxMessageBytes,
      get: (id) => live.get(id),
      consumeThrottle: (id) => {
        const left = throttles.get(id) ?? 0;
        if (left <= 0) return false;
        if (left === 1) throttles.delete(id);
        else throttles.set(id, left - 1);
        return true;
      },
      disconnect: (connection) => connection.close(1000, ''),
    })
      .then((handled) => {
        if (handled) return;
        const body = messageBody('Missing Authentication Token');
        res.writeHead(403, {
          'content-type': 'application/json',
          'x-amzn-errortype': 'ForbiddenException',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      })
      .catch((error: unknown) => {
        logger.error('gateway: management request failed', { error });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  };
  // Local mode's discovery document (not an AWS feature), then the `@connections` API.
  const serveDiscovery = (req: IncomingMessage, res: ServerResponse, document: string): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const body = messageBody('Method Not Allowed');
      res.writeHead(405, {
        allow: 'GET, HEAD',
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(document),
    });
    res.end(req.method === 'HEAD' ? undefined : document);
  };
  const server = createServer((req, res) => {
    const { discovery } = opts;
    if (discovery !== undefined && pathOf(req) === DISCOVERY_PATH) serveDiscovery(req, res, discovery);
    else serveManagement(req, res);
  });
  keepIdleSockets(server);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (closing) {
      refuse(socket, { status: 503, body: messageBody('Service Unavailable') });
      return;
    }
    if (url.pathname !== `/${opts.stage}` && url.pathname !== `/${opts.stage}/`) {
      // API Gateway's own answer to a path with no stage is not a clear one; a 404 that names the right
      // URL tells a client (and the CLI) that the path is wrong, not the token (docs/gateway.md).
      refuse(socket, {
        status: 404,
        body: messageBody(
          `No such path; the API is at ws://${domainName}/${opts.stage}?token=<access token>`,
        ),
      });
      return;
    }
    if (req.headers['sec-websocket-version'] !== '13' || !req.headers['sec-websocket-key']) {
      refuse(socket, { status: 400, body: messageBody('Bad Request') });
      return;
    }
    const base = {
      connectionId: newConnectionId(),
      connectedAt: clock.now(),
      sourceIp: sourceIpOf(req),
      userAgent: req.headers['user-agent'] ?? null,
    };
    track(admit(req, url, base)).then(
      (outcome) => {
        if ('refusal' in outcome) {
          refuse(socket, outcome.refusal);
          return;
        }
        if (socket.destroyed || closing) {
          // $connect succeeded, so the handlers may hold state for this id: keep connect/disconnect paired.
          refuse(socket, { status: 503, body: messageBody('Service Unavailable') });
          runDisconnect(base, outcome.authorizer, 1006, 'Client went away during $connect');
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          const connection = new EmulatedConnection({ ...base, authorizer: outcome.authorizer }, ws, socket, {
            limits,
            clock,
            hooks,
          });
          live.set(base.connectionId, connection);
        });
      },
      (error: unknown) => {
        logger.error('gateway: handshake failed', { error });
        refuse(socket, { status: 500, body: messageBody('Internal server error') });
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  domainName = `${urlHost(opts.host)}:${port}`;
  let closed: Promise<void> | undefined;

  return {
    url: `ws://${domainName}/${opts.stage}`,
    managementEndpoint: `http://${domainName}/${opts.stage}`,
    ...(opts.discovery === undefined ? {} : { discoveryUrl: `http://${domainName}${DISCOVERY_PATH}` }),
    port,
    apiId: opts.apiId,
    stage: opts.stage,
    // Once closed, refused as a connection to the closed port would be (not answered 410 for every id).
    requestHandler: inProcessRequestHandler((req, res) => {
      if (server.listening) serveManagement(req, res);
      else res.destroy(Object.assign(new Error('the gateway emulator is closed'), { code: 'ECONNREFUSED' }));
    }),
    connections: () => [...live.values()].map((c) => c.snapshot()),
    throttle(connectionId, count) {
      if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`throttle: bad count ${count}`);
      if (count === 0) throttles.delete(connectionId);
      else throttles.set(connectionId, count);
    },
    dropConnections(filter = () => true) {
      const dropped = [...live.values()].filter((c) => c.open && filter(c.snapshot()));
      for (const connection of dropped) connection.drop();
      return dropped.map((c) => c.connectionId);
    },
    close() {
      closed ??= (async () => {
        closing = true;
        const waits = [...live.values()].map(
          (c) =>
            new Promise<void>((resolve) => {
              const poll = (): void => {
                if (!live.has(c.connectionId)) resolve();
                else setTimeout(poll, 5).unref();
              };
              c.close(1001, 'Going away');
              poll();
            }),
        );
        await Promise.all(waits);
        while (pending.size > 0) await Promise.allSettled([...pending]);
        wss.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}
