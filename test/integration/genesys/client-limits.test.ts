/**
 * The client's caps and refusals against real servers on 127.0.0.1 (port 0): a tiny `ws` server that
 * plays just enough Genesys to configure a session and then sends what a hostile upstream would, and a
 * plain HTTP server for history pages and presigned PUTs. The upstream socket is built as the worker
 * builds it (worker/fenced-socket.ts around `ws`), so these tests also prove that `maxPayload` passes
 * through that wrapper. No test names a host other than 127.0.0.1 that could be looked up: refused
 * names are refused before any lookup, and the injected fetch proves it by never being called.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { systemClock } from '../../../src/domain/clock.js';
import { putToSlot } from '../../../src/genesys/client/attachments.js';
import { fetchHistoryPage } from '../../../src/genesys/client/history.js';
import {
  type ClosedEvent,
  type FetchLike,
  GuestSession,
  genesysEndpoint,
  MAX_FRAME_BYTES,
  type MessageEvent,
  uploadUrlCheck,
  type WebSocketConstructor,
} from '../../../src/genesys/client/index.js';
import { fencedWebSocket } from '../../../worker/fenced-socket.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const waitFor = (predicate: () => boolean, timeout = 5_000) =>
  vi.waitFor(
    () => {
      if (!predicate()) throw new Error('not yet');
    },
    { timeout, interval: 10 },
  );

/** The worker's upstream socket: `ws` behind the lease fence (always open here). */
const UpstreamSocket = fencedWebSocket(WebSocket as unknown as WebSocketConstructor, {
  allows: () => true,
  ready: () => Promise.resolve(),
  held: () => {},
});

/** A fetch that must never be called: refusals happen before any request (and any DNS lookup). */
function forbiddenFetch() {
  return vi.fn<FetchLike>(async () => {
    throw new Error('fetch must not be called');
  });
}

interface FakeUpstream {
  readonly port: number;
  /** Sockets accepted so far. */
  readonly connections: WebSocket[];
}

/**
 * A `ws` server that answers configureSession with a SessionResponse, then lets `afterConfigure` act;
 * other requests go to `onRequest`.
 */
async function fakeUpstream(options: {
  afterConfigure?: (socket: WebSocket) => void;
  onRequest?: (socket: WebSocket, frame: Record<string, unknown>) => void;
  perMessageDeflate?: boolean;
}): Promise<FakeUpstream> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: options.perMessageDeflate ?? false,
  });
  await once(server, 'listening');
  const connections: WebSocket[] = [];
  server.on('connection', (socket) => {
    connections.push(socket);
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame.action === 'configureSession') {
        socket.send(
          JSON.stringify({
            type: 'response',
            class: 'SessionResponse',
            code: 200,
            body: { connected: true, newSession: true, readOnly: false },
          }),
        );
        options.afterConfigure?.(socket);
        return;
      }
      options.onRequest?.(socket, frame);
    });
  });
  cleanups.push(async () => {
    for (const client of server.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, connections };
}

/** An Outbound text push whose JSON is exactly `bytes` long, and its text. */
function outboundOfSize(bytes: number): { json: string; text: string } {
  const frame = (text: string) =>
    JSON.stringify({
      type: 'message',
      class: 'StructuredMessage',
      code: 200,
      body: {
        id: 'big-1',
        type: 'Text',
        text,
        direction: 'Outbound',
        originatingEntity: 'Bot',
        channel: { time: new Date().toISOString() },
      },
    });
  const text = 'x'.repeat(bytes - Buffer.byteLength(frame('')));
  const json = frame(text);
  expect(Buffer.byteLength(json)).toBe(bytes);
  return { json, text };
}

function guestOn(upstream: FakeUpstream, fetch: FetchLike = forbiddenFetch()) {
  const guest = new GuestSession({
    deploymentId: 'dep-1',
    endpoint: genesysEndpoint({
      wsUrl: `ws://127.0.0.1:${upstream.port}/v1`,
      apiUrl: `http://127.0.0.1:${upstream.port}`,
    }),
    WebSocket: UpstreamSocket,
    fetch,
    clock: systemClock,
    reorderWindowMs: 0,
    backoff: { baseMs: 10, capMs: 20, minUptimeMs: 1000 },
  });
  cleanups.push(() => guest.close());
  const messages: MessageEvent[] = [];
  const closed: ClosedEvent[] = [];
  const reconnecting: unknown[] = [];
  guest.on('message', (event) => messages.push(event));
  guest.on('closed', (event) => closed.push(event));
  guest.on('reconnecting', (event) => reconnecting.push(event));
  return { guest, messages, closed, reconnecting };
}

describe('upstream frame cap (maxPayload through the fenced socket)', () => {
  it('accepts a frame of exactly MAX_FRAME_BYTES', async () => {
    const big = outboundOfSize(MAX_FRAME_BYTES);
    const upstream = await fakeUpstream({ afterConfigure: (socket) => socket.send(big.json) });
    const { guest, messages } = guestOn(upstream);
    await guest.start();
    await waitFor(() => messages.length === 1);
    expect(messages[0]?.text).toBe(big.text);
    expect(guest.state).toBe('ready');
  });

  it('fails the session with GENESYS_FRAME_TOO_LARGE on one byte more, and does not reconnect', async () => {
    const upstream = await fakeUpstream({
      afterConfigure: (socket) => socket.send(outboundOfSize(MAX_FRAME_BYTES + 1).json),
    });
    const { guest, messages, closed, reconnecting } = guestOn(upstream);
    await guest.start();
    await waitFor(() => closed.length === 1);
    expect(guest.state).toBe('closed');
    expect(closed[0]?.reason).toBe('rejected');
    expect(closed[0]?.error?.code).toBe('GENESYS_FRAME_TOO_LARGE');
    expect(closed[0]?.error?.message).toBe(
      `The Genesys socket sent a frame over ${MAX_FRAME_BYTES} bytes; the session is closed`,
    );
    expect(messages).toEqual([]);
    const [server] = upstream.connections;
    if (server?.readyState !== WebSocket.CLOSED) await once(server as WebSocket, 'close');
    // Well past the backoff (10–20 ms): still the one connection.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(upstream.connections).toHaveLength(1);
    expect(reconnecting).toEqual([]);
  });

  it('applies the cap to the inflated size of a compressed frame', async () => {
    const upstream = await fakeUpstream({
      perMessageDeflate: true,
      // 8 MiB of one character: a few KiB on the wire.
      afterConfigure: (socket) => socket.send(outboundOfSize(8 * 1024 * 1024).json),
    });
    const { guest, closed } = guestOn(upstream);
    await guest.start();
    await waitFor(() => closed.length === 1);
    expect(closed[0]?.error?.code).toBe('GENESYS_FRAME_TOO_LARGE');
  });
});

// ── HTTP ─────────────────────────────────────────────────────────────────────────────────────────

interface Loopback {
  readonly url: string;
  readonly requests: string[];
  /** Resolves when the answer to the first request is closed (by the client or by the end). */
  readonly answerClosed: Promise<{ bytesWritten: number; finished: boolean }>;
}

async function loopback(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Loopback> {
  const requests: string[] = [];
  let closed!: (value: { bytesWritten: number; finished: boolean }) => void;
  const answerClosed = new Promise<{ bytesWritten: number; finished: boolean }>((resolve) => {
    closed = resolve;
  });
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    let bytesWritten = 0;
    const write = res.write.bind(res);
    res.write = ((chunk: Buffer | string, ...rest: never[]) => {
      bytesWritten += Buffer.byteLength(chunk);
      return write(chunk, ...rest);
    }) as typeof res.write;
    res.on('close', () => closed({ bytesWritten, finished: res.writableFinished }));
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, answerClosed };
}

/** Writes 64 KiB chunks for as long as the client reads, up to `limit` bytes. */
function stream(res: ServerResponse, limit: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  const pump = (): void => {
    while (sent < limit && !res.destroyed) {
      sent += chunk.byteLength;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

describe('history page cap (1 MiB)', () => {
  const page = (apiUrl: string) => fetchHistoryPage({ fetch: globalThis.fetch, apiUrl, jwt: 'j.w.t' }, 1);

  it('reads a page within the cap', async () => {
    const server = await loopback((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ entities: [{ id: 'a' }], pageCount: 1 }));
    });
    await expect(page(server.url)).resolves.toEqual({ entities: [{ id: 'a' }], pageNumber: 1, pageCount: 1 });
  });

  it('refuses a declared content-length over the cap without reading it', async () => {
    const server = await loopback((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) });
      stream(res, 64 * 1024 * 1024);
    });
    const error = await page(server.url).catch((e) => e);
    expect(error).toMatchObject({ code: 'GENESYS_RESPONSE_TOO_LARGE' });
    expect(error.message).toBe(
      'History page 1: the answer declares 67108864 bytes, over the 1048576-byte cap',
    );
    const closed = await server.answerClosed;
    expect(closed.finished).toBe(false);
  });

  it('stops reading a chunked body (no content-length) once it passes the cap', async () => {
    const server = await loopback((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Endless as far as the client can tell: only its cancel ends this answer.
      stream(res, Number.POSITIVE_INFINITY);
    });
    const error = await page(server.url).catch((e) => e);
    expect(error).toMatchObject({ code: 'GENESYS_RESPONSE_TOO_LARGE' });
    expect(error.message).toMatch(
      /^History page 1: the answer is over the 1048576-byte cap; reading stopped/,
    );
    const closed = await server.answerClosed;
    expect(closed.finished).toBe(false);
  });

  it('does not follow a redirect (the JWT would go along)', async () => {
    const server = await loopback((req, res) => {
      if (req.url?.startsWith('/elsewhere')) {
        res.end('{"entities":[]}');
        return;
      }
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });
    await expect(page(server.url)).rejects.toThrow();
    expect(server.requests).toEqual(['GET /api/v2/webmessaging/messages?pageSize=25&pageNumber=1']);
  });
});

describe('presigned PUT', () => {
  const slotOn = (url: string) => ({ attachmentId: 'a1', url, headers: { 'x-amz-tagging': 't' } });
  const put = (server: Loopback, url: string, fetch: FetchLike = globalThis.fetch) =>
    putToSlot({
      fetch,
      slot: slotOn(url),
      fileType: 'text/plain',
      bytes: new TextEncoder().encode('hello'),
      checkUrl: uploadUrlCheck(
        genesysEndpoint({ wsUrl: `ws${server.url.slice(4)}/v1`, apiUrl: server.url }),
        [],
      ),
    });

  it("PUTs to the emulator's own origin", async () => {
    const server = await loopback((_req, res) => res.end());
    await put(server, `${server.url}/uploads/a1?signature=s`);
    expect(server.requests).toEqual(['PUT /uploads/a1?signature=s']);
  });

  it('does not follow a redirect', async () => {
    const server = await loopback((req, res) => {
      if (req.url?.startsWith('/elsewhere')) {
        res.end();
        return;
      }
      res.writeHead(307, { location: '/elsewhere' });
      res.end();
    });
    await expect(put(server, `${server.url}/uploads/a1`)).rejects.toMatchObject({
      code: 'GENESYS_UPLOAD_FAILED',
    });
    expect(server.requests).toEqual(['PUT /uploads/a1']);
  });

  it('fails typed when the answer is over its cap', async () => {
    const server = await loopback((req, res) => {
      req.resume();
      res.writeHead(200);
      stream(res, Number.POSITIVE_INFINITY);
    });
    await expect(put(server, `${server.url}/uploads/a1`)).rejects.toMatchObject({
      code: 'GENESYS_RESPONSE_TOO_LARGE',
    });
    expect((await server.answerClosed).finished).toBe(false);
  });

  it('sends nothing to another port of the same host, or to a name it would have to look up', async () => {
    const server = await loopback((_req, res) => res.end());
    const other = await loopback((_req, res) => res.end());
    const fetch = forbiddenFetch();
    for (const url of [`${other.url}/uploads/a1`, 'https://attacker.net/uploads/a1']) {
      await expect(put(server, url, fetch)).rejects.toMatchObject({ code: 'GENESYS_UPLOAD_URL_REFUSED' });
    }
    expect(fetch).not.toHaveBeenCalled();
    expect(other.requests).toEqual([]);
  });
});

describe('GuestSession.upload to a URL its upstream chose', () => {
  it('fails the upload with GENESYS_UPLOAD_URL_REFUSED and makes no request', async () => {
    const upstream = await fakeUpstream({
      onRequest: (socket, frame) => {
        if (frame.action !== 'onAttachment') return;
        socket.send(
          JSON.stringify({
            type: 'response',
            class: 'PresignedUrlResponse',
            code: 200,
            body: { attachmentId: frame.attachmentId, url: 'https://attacker.net/put?sig=1', headers: {} },
            tracingId: frame.tracingId,
          }),
        );
      },
    });
    const fetch = forbiddenFetch();
    const { guest } = guestOn(upstream, fetch);
    await guest.start();
    const error = await guest
      .upload({ fileName: 'a.txt', fileType: 'text/plain', bytes: new Uint8Array(3) })
      .catch((e) => e);
    expect(error).toMatchObject({ code: 'GENESYS_UPLOAD_URL_REFUSED' });
    expect(error.message).toContain('host "attacker.net"');
    expect(fetch).not.toHaveBeenCalled();
    expect(guest.state).toBe('ready');
  });
});
