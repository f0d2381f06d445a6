import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { headWithoutUpgrade, isWebSocketUpgrade } from '../../../../src/genesys/emulator/ignored-upgrade.js';

/** The parts of a parsed request these functions read. */
function request(rawHeaders: string[], method = 'PUT', url = '/uploads/a?signature=s'): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2)
    headers[(rawHeaders[i] ?? '').toLowerCase()] = rawHeaders[i + 1] ?? '';
  return { method, url, httpVersion: '1.1', rawHeaders, headers } as unknown as IncomingMessage;
}

describe('isWebSocketUpgrade', () => {
  it('is true for websocket in any case or position of the Upgrade list, false for h2c', () => {
    expect(isWebSocketUpgrade(request(['Upgrade', 'websocket']))).toBe(true);
    expect(isWebSocketUpgrade(request(['Upgrade', 'foo/2, WebSocket']))).toBe(true);
    expect(isWebSocketUpgrade(request(['Upgrade', 'h2c']))).toBe(false);
    expect(isWebSocketUpgrade(request([]))).toBe(false);
  });
});

describe('headWithoutUpgrade', () => {
  it("drops Java's h2c headers and keeps every other header, in order and case", () => {
    const head = headWithoutUpgrade(
      request([
        'Connection',
        'Upgrade, HTTP2-Settings',
        'Content-Length',
        '4',
        'Host',
        '127.0.0.1:8787',
        'HTTP2-Settings',
        'AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA',
        'Upgrade',
        'h2c',
        'x-amz-tagging',
        'organizationId=o&role=darth',
      ]),
    ).toString('latin1');
    expect(head).toBe(
      'PUT /uploads/a?signature=s HTTP/1.1\r\nContent-Length: 4\r\nHost: 127.0.0.1:8787\r\n' +
        'x-amz-tagging: organizationId=o&role=darth\r\n\r\n',
    );
  });

  it('keeps the other Connection options and latin1 bytes as they came', () => {
    const head = headWithoutUpgrade(
      request(['connection', 'keep-alive, upgrade', 'upgrade', 'h2c', 'X-Name', 'caf\u00e9'], 'GET', '/x'),
    );
    expect(head.toString('latin1')).toBe(
      'GET /x HTTP/1.1\r\nconnection: keep-alive\r\nX-Name: caf\u00e9\r\n\r\n',
    );
    expect(head.includes(Buffer.from([0xe9]))).toBe(true);
  });
});
