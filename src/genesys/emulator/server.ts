/**
 * The emulator's server: one HTTP server on the given host that carries the guest WebSocket (`/v1`), the
 * console WebSocket (`/emulator/console`) and every REST endpoint.
 */
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { StructuredMessage } from '../responses.js';
import { type AgentConsole, createAgentConsole } from './agent-console.js';
import type { BotStats } from './bot-behaviour.js';
import { registerConsoleRoutes } from './console-api.js';
import { EmulatorCore, type EmulatorUrls, type GuestSocketObserver } from './core.js';
import type { FaultInjector } from './faults.js';
import { GuestApi } from './guest-api.js';
import { Router } from './http.js';
import { isReplayed, isWebSocketUpgrade, serveWithoutUpgrade } from './ignored-upgrade.js';
import { type EmulatorOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { registerPlatformRoutes } from './platform-api.js';
import type { EmulatorSessionSnapshot } from './sessions.js';
import { registerUploadRoutes } from './upload-routes.js';

export interface GenesysEmulator {
  /** 'ws://127.0.0.1:PORT/v1': a guest connects to `${wsUrl}?deploymentId=${deploymentId}`. */
  readonly wsUrl: string;
  /** 'http://127.0.0.1:PORT': REST base (history at /api/v2/webmessaging/messages). */
  readonly httpUrl: string;
  readonly port: number;
  readonly deploymentId: string;
  readonly agent: AgentConsole;
  readonly faults: FaultInjector;
  sessions(): EmulatorSessionSnapshot[];
  /** Everything in the token's current conversation, both directions, in Genesys order. @throws EmulatorError */
  transcript(token: string): StructuredMessage[];
  /**
   * Calls `observer` for every guest socket accepted, configured (a new session or a resume) and closed,
   * and for every guest message accepted, synchronously, with the emulator clock's time. Returns the function that stops it.
   */
  observeGuestSockets(observer: GuestSocketObserver): () => void;
  /**
   * The bot's answers to guest messages so far: `answered` (played or playing, counted when decided) and
   * `dropped` (left unanswered by the `bot.errorRate` option).
   */
  botStats(): BotStats;
  /** Closes every socket (1001) and the server and clears every timer. Idempotent. */
  close(): Promise<void>;
}

/** Largest guest frame accepted (the 4000-character text limit needs at most 16 KB; room for attributes). */
const MAX_GUEST_FRAME_BYTES = 256 * 1024;
/** How long close() waits for clients to answer the close handshake before cutting them off. */
const CLOSE_GRACE_MS = 500;

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: { code: STATUS_CODES[status] ?? 'error', message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function originAllowed(options: ResolvedOptions, origin: string | undefined): boolean {
  if (options.allowedOrigins.length === 0) return true;
  return origin !== undefined && options.allowedOrigins.some((o) => o.toLowerCase() === origin.toLowerCase());
}

/** CORS for browsers (the console page, a frontend calling history or uploading). */
function setCors(options: ResolvedOptions, req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (options.allowedOrigins.length === 0) res.setHeader('Access-Control-Allow-Origin', '*');
  else if (originAllowed(options, origin) && origin) res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, x-amz-tagging');
  res.setHeader('Access-Control-Max-Age', '600');
}

/**
 * Starts an emulator of the Genesys Web Messaging guest API and the REST endpoints around it.
 *
 * @throws TypeError / RangeError / ScriptValidationError for bad options; the listen error when the
 *   port is taken.
 */
export async function startGenesysEmulator(options?: EmulatorOptions): Promise<GenesysEmulator> {
  const resolved = resolveOptions(options);
  const log = resolved.logger;
  const server = createServer();
  await listen(server, resolved.port, resolved.host);
  const { port } = server.address() as AddressInfo;
  const host = urlHost(resolved.host);
  const urls: EmulatorUrls = { wsUrl: `ws://${host}:${port}/v1`, httpUrl: `http://${host}:${port}`, port };

  const core = new EmulatorCore(resolved, urls);
  const guestApi = new GuestApi(core);
  const agent = createAgentConsole(core);
  const router = new Router(log);
  registerPlatformRoutes(router, core);
  registerUploadRoutes(router, core);
  registerConsoleRoutes(router, core, agent);

  const guestWss = new WebSocketServer({ noServer: true, maxPayload: MAX_GUEST_FRAME_BYTES });
  const consoleWss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  server.on('request', (req, res) => {
    if (isReplayed(req)) res.setHeader('Connection', 'close');
    setCors(resolved, req, res);
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    void router.handle(req, res);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => log.debug('emulator upgrade socket error', error.message));
    // h2c (Java's HttpClient asks on every http:// request) and any other protocol but WebSocket: ignored,
    // the request is answered as plain HTTP/1.1.
    if (!isWebSocketUpgrade(req)) return serveWithoutUpgrade(server, req, socket, head);
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/v1') {
      if (core.faults.refusing())
        return refuseUpgrade(socket, 503, 'Refusing connections (fault injection).');
      const deploymentId = url.searchParams.get('deploymentId');
      if (deploymentId !== resolved.deploymentId) {
        return refuseUpgrade(socket, 404, `Unknown deploymentId "${deploymentId ?? ''}".`);
      }
      if (!originAllowed(resolved, req.headers.origin)) {
        return refuseUpgrade(
          socket,
          403,
          `Origin "${req.headers.origin ?? ''}" is not allowed for this deployment.`,
        );
      }
      guestWss.handleUpgrade(req, socket, head, (ws) => guestApi.accept(ws));
      return;
    }
    if (path === '/emulator/console') {
      consoleWss.handleUpgrade(req, socket, head, (ws) => {
        core.hub.add(ws, {
          type: 'hello',
          deploymentId: resolved.deploymentId,
          wsUrl: urls.wsUrl,
          httpUrl: urls.httpUrl,
          sessions: core.snapshots(),
        });
      });
      return;
    }
    refuseUpgrade(socket, 404, `No WebSocket endpoint at ${url.pathname}.`);
  });

  log.info(`Genesys emulator listening on ${urls.httpUrl} (guest WebSocket ${urls.wsUrl})`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      core.shutdown();
      const sockets = [...guestWss.clients, ...consoleWss.clients];
      await closeSockets(sockets);
      guestWss.close();
      consoleWss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      log.info('Genesys emulator closed');
    })();
    return closing;
  };

  return {
    wsUrl: urls.wsUrl,
    httpUrl: urls.httpUrl,
    port,
    deploymentId: resolved.deploymentId,
    agent,
    faults: core.faults,
    sessions: () => core.snapshots(),
    transcript: (token) => core.transcript(token),
    observeGuestSockets(observer) {
      core.observers.add(observer);
      return () => {
        core.observers.delete(observer);
      };
    },
    botStats: () => core.bot.stats(),
    close,
  };
}

/** Close frames (1001) to every socket, a short wait for the handshakes, then the rest are cut. */
async function closeSockets(sockets: readonly WebSocket[]): Promise<void> {
  if (sockets.length === 0) return;
  const closed = sockets.map(
    (ws) =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'Emulator shutting down');
      }),
  );
  // A real timer on purpose: with a fake clock injected, a clock timer would never fire. Cleared below.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_GRACE_MS);
  });
  await Promise.race([Promise.all(closed), grace]);
  clearTimeout(timer);
  for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
}
