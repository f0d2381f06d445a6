/**
 * `guest-relay chat` says what the relay says about the Genesys side: why it is failing and when it tries
 * again, that it is back, and why a session ended with an error. The relay here is a loopback WebSocket
 * server that plays those events (the worker's side is tested in test/integration/worker/).
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { runChat } from '../../../cli/chat.js';
import { PLAIN } from '../../../cli/io.js';

const SESSION = 'session-upstream-0001';
const CONSTRAINTS = {
  maxTextLength: 4000,
  maxCustomDataBytes: 2048,
  attachments: { enabled: false, fileTypes: [], maxFileSizeKB: 0, blockedExtensions: [], maxPerMessage: 0 },
  sendRatePerSecond: 2,
  typingIntervalMs: 5000,
};

describe('guest-relay chat: upstream trouble', () => {
  let server: WebSocketServer | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('prints the reason, the recovery, and why the session ended', async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server?.once('listening', () => resolve()));
    const { port } = server.address() as { port: number };
    server.on('connection', (ws: WebSocket) => {
      ws.on('message', () => {
        const send = (event: Record<string, unknown>) =>
          ws.send(JSON.stringify({ sessionId: SESSION, ...event }));
        send({
          type: 'connect',
          resumed: false,
          lastSequenceId: 0,
          status: 'starting',
          constraints: CONSTRAINTS,
        });
        send({
          type: 'upstream',
          state: 'retrying',
          reason: 'refused',
          detail: 'ECONNREFUSED',
          message: 'The connection to Genesys failed (refused: ECONNREFUSED). Trying again in 2 s.',
          attempt: 1,
          retryAt: new Date().toISOString(),
        });
        send({
          type: 'upstream',
          state: 'connected',
          message: 'Connected to Genesys again after 1 failed attempt(s).',
        });
        send({
          type: 'sessionEnded',
          reason: 'error',
          code: 'upstream_rejected',
          message: 'Genesys refused the session: HTTP 404.',
        });
        setTimeout(() => ws.close(1000), 50);
      });
    });
    const lines: string[] = [];
    const input = new PassThrough();
    await runChat(
      { url: `ws://127.0.0.1:${port}/`, token: 't' },
      {
        out: (text) => lines.push(text),
        err: (text) => lines.push(text),
        color: PLAIN,
        input,
        env: {},
        interrupted: new Promise(() => {}),
      },
    );
    const output = lines.join('');
    expect(output).toContain('Genesys retrying (refused: ECONNREFUSED): The connection to Genesys failed');
    expect(output).toContain('Connected to Genesys again');
    expect(output).toContain('session ended: upstream_rejected — Genesys refused the session: HTTP 404.');
  });
});
