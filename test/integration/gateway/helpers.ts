/** Loopback helpers for the gateway tests: real `ws` clients, awaited events, no sleeps. */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { type ClientOptions, WebSocket } from 'ws';
import type { WebSocketEvent } from '../../../src/gateway/emulator/index.js';

/** Opens a client; rejects with the HTTP status when the handshake is refused. */
export function open(url: string, options: ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      res.on('end', () =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })),
      );
    });
    ws.once('error', reject);
  });
}

/** The HTTP status of a refused handshake. */
export async function refusedStatus(url: string): Promise<{ status: number; body: string }> {
  try {
    const ws = await open(url);
    ws.terminate();
  } catch (error) {
    const { status, body } = error as { status?: number; body?: string };
    if (typeof status === 'number') return { status, body: body ?? '' };
    throw error;
  }
  throw new Error('the handshake was accepted');
}

export function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
}

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

/** Records the events a route received and lets a test await the next one. */
export class EventLog {
  readonly events: WebSocketEvent[] = [];
  readonly #waiters: { routeKey: string; resolve: (e: WebSocketEvent) => void }[] = [];

  record(event: WebSocketEvent): void {
    this.events.push(event);
    const index = this.#waiters.findIndex((w) => w.routeKey === event.requestContext.routeKey);
    if (index >= 0) this.#waiters.splice(index, 1)[0]?.resolve(event);
  }

  /** The first event of `routeKey` not yet taken, or the next to arrive. */
  next(routeKey: string): Promise<WebSocketEvent> {
    const seen = this.events.findIndex((e) => e.requestContext.routeKey === routeKey);
    if (seen >= 0) {
      const [event] = this.events.splice(seen, 1);
      if (event) return Promise.resolve(event);
    }
    return new Promise((resolve) =>
      this.#waiters.push({
        routeKey,
        resolve: (event) => {
          this.events.splice(this.events.indexOf(event), 1);
          resolve(event);
        },
      }),
    );
  }
}

export function sdkFor(endpoint: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint,
    region: 'us-east-1',
    maxAttempts: 1,
    // The emulator checks that requests are signed, not by whom; these are not secrets.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}
