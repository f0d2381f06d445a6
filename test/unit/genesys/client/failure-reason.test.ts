import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { classifyUpstreamFailure } from '../../../../src/genesys/client/failure-reason.js';

describe('classifyUpstreamFailure', () => {
  it('names each kind of failure a person can act on', () => {
    expect(classifyUpstreamFailure('close 1006', { code: 'ECONNREFUSED' })).toEqual({
      reason: 'refused',
      detail: 'ECONNREFUSED',
    });
    for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
      expect(classifyUpstreamFailure('close 1006', { code }).reason).toBe('dns');
    }
    for (const code of [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'CERT_HAS_EXPIRED',
      'EPROTO',
    ]) {
      expect(classifyUpstreamFailure('close 1006', { code })).toEqual({ reason: 'tls', detail: code });
    }
    expect(classifyUpstreamFailure('connect timeout', undefined)).toEqual({
      reason: 'timeout',
      detail: 'connect timeout',
    });
    expect(classifyUpstreamFailure('close 1006', { code: 'ETIMEDOUT' }).reason).toBe('timeout');
    expect(classifyUpstreamFailure('close 1006', undefined, 503)).toEqual({
      reason: 'http',
      detail: 'HTTP 503',
    });
    expect(classifyUpstreamFailure('close 1011', undefined)).toEqual({
      reason: 'closed',
      detail: 'close 1011',
    });
  });

  it('keeps the detail short and free of query strings', () => {
    const detail = classifyUpstreamFailure(
      `close 1006 wss://x/v1?deploymentId=d&token=secret ${'x'.repeat(400)}`,
      undefined,
    ).detail;
    expect(detail).not.toMatch(/secret|deploymentId/);
    expect(detail.length).toBeLessThanOrEqual(160);
  });

  it('classifies what a real socket reports: a refused port, and a name that no lookup resolves', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const codeOf = (url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) =>
      new Promise<string | undefined>((resolve) => {
        const ws = new WebSocket(url, options);
        ws.on('error', (error: Error & { code?: string }) => resolve(error.code));
      });
    const refused = await codeOf(`ws://127.0.0.1:${port}/v1`);
    expect(classifyUpstreamFailure('close 1006', { code: refused }).reason).toBe('refused');
    // A lookup that refuses every name: no DNS query leaves this machine.
    const lookup = ((_host: string, _options: unknown, callback: (error: Error) => void) =>
      callback(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }))) as never;
    const unresolved = await codeOf('ws://genesys.invalid/v1', { lookup });
    expect(classifyUpstreamFailure('close 1006', { code: unresolved }).reason).toBe('dns');
  });
});
