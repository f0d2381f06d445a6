/**
 * Upgrades the emulator does not speak, answered as plain HTTP/1.1.
 *
 * Java's default HTTP client (java.net.http.HttpClient, HTTP/2 preferred) asks every cleartext request to
 * switch to h2c: `Connection: Upgrade, HTTP2-Settings`, `Upgrade: h2c`, `HTTP2-Settings: …`. A server that
 * does not speak h2c ignores the Upgrade and answers over HTTP/1.1 (RFC 9110 §7.8: a server MAY ignore
 * Upgrade; RFC 9113 §3.1 deprecates h2c altogether).
 *
 * Node 20 hands every request whose `Connection` names `upgrade` to the server's 'upgrade' listener once
 * one exists (the per-request `shouldUpgradeCallback` option only came in Node 24.9), with its HTTP
 * parser already detached from the socket. So such a request is given back to the HTTP server as a new
 * connection (the documented way to inject one: emit 'connection' with any Duplex) whose first bytes are
 * the same request without the upgrade headers, followed by whatever the client sends after them: the
 * server then parses it, body and all, like any other request.
 */
import type { IncomingMessage, Server } from 'node:http';
import { Duplex } from 'node:stream';

/**
 * Headers that only serve the upgrade (Upgrade, RFC 9110 §7.8; HTTP2-Settings, RFC 7540 §3.2.1), and the
 * Connection options that name them.
 */
const UPGRADE_HEADERS = new Set(['upgrade', 'http2-settings']);

/** Whether the request asks to become a WebSocket (RFC 6455 §4.2.1: Upgrade lists "websocket"). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '')
    .split(',')
    .some((protocol) => protocol.trim().toLowerCase() === 'websocket');
}

/**
 * The request's head as the client sent it (method, target, version, every header in order and case),
 * minus Upgrade, HTTP2-Settings and those two options of Connection (the header goes when nothing is left).
 * Header values come from Node's parser, which decodes them as latin1 and refuses CR/LF in them.
 */
export function headWithoutUpgrade(req: IncomingMessage): Buffer {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    let value = raw[i + 1] ?? '';
    const lower = name.toLowerCase();
    if (UPGRADE_HEADERS.has(lower)) continue;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((option) => option.trim())
        .filter((option) => option !== '' && !UPGRADE_HEADERS.has(option.toLowerCase()))
        .join(', ');
      if (value === '') continue;
    }
    lines.push(`${name}: ${value}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * A client connection seen again from its start: `replay` first, then the socket's own bytes; writes,
 * end and destroy go to the socket. Backpressure: the socket pauses while this stream's buffer is full.
 */
export class ReplayedConnection extends Duplex {
  readonly #socket: Duplex;

  constructor(socket: Duplex, replay: Buffer) {
    super();
    this.#socket = socket;
    this.push(replay);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error: Error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy(error ?? undefined);
    callback(error);
  }
}

/**
 * Gives an upgrade request the emulator does not speak back to `server` as an ordinary request: `head` is
 * what Node had already read past the request's headers (the start of its body, say).
 */
export function serveWithoutUpgrade(
  server: Server,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  server.emit('connection', new ReplayedConnection(socket, Buffer.concat([headWithoutUpgrade(req), head])));
}

/**
 * Whether a request came through serveWithoutUpgrade. Its response closes the connection: a client that
 * sent Upgrade once sends it on the next request too, and one replay per connection keeps it simple.
 */
export function isReplayed(req: IncomingMessage): boolean {
  return req.socket instanceof ReplayedConnection;
}
