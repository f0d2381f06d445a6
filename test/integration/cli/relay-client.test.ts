/**
 * RelayClient.open when no stack answers: a connection refused and a server that accepts the connection
 * but never answers the upgrade both fail at once or within the open timeout, saying what to check.
 */
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { CliError } from '../../../cli/io.js';
import { RelayClient } from '../../../cli/relay-client.js';
import { closedPort } from '../../support/closed-port.js';

const options = {
  read: (text: string) => ({ type: text }),
  fail: (message: string) => new CliError(message),
};

describe('RelayClient.open', () => {
  it('a refused connection says that nothing listens there and to check the stack and the port', async () => {
    const port = await closedPort();
    await expect(RelayClient.open(`ws://127.0.0.1:${port}/local`, 'token-x', options)).rejects.toThrow(
      /Cannot connect to ws:\/\/127\.0\.0\.1:\d+\/local: .*ECONNREFUSED.*Nothing accepts connections there: is the stack running/,
    );
  });

  it('a server that never answers the upgrade fails after the open timeout, naming the URL without the token', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = silent.address() as { port: number };
      const error = await RelayClient.open(`ws://127.0.0.1:${port}/local`, 'token-x', {
        ...options,
        openTimeoutMs: 300,
      }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(
        /No answer within 0\.3 s: check the URL, and that the stack is reachable/,
      );
      expect(error?.message).not.toContain('token-x');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('a request that times out says when frames came that the CLI could not read (a newer stack)', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    // Answers every frame in a shape this CLI does not know.
    server.on('connection', (ws) => ws.on('message', () => ws.send('{"type":"connect","sessionId":42}')));
    try {
      const { port } = server.address() as { port: number };
      const client = await RelayClient.open(`ws://127.0.0.1:${port}/local`, 'token-x');
      const error = await client
        .request({ action: 'connect', clientMessageId: 'c-1' }, (e): e is never => false, 300)
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      expect(error?.message).toBe(
        'No answer to connect within 0.3 s. 1 frame(s) came that this CLI cannot read (the last one a "connect"): if the stack is newer than the CLI, update guest-relay.',
      );
      client.close();
    } finally {
      for (const ws of server.clients) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
