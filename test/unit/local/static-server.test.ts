import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticServer, startStaticServer, WEB_ROOT } from '../../../local/static-server.js';

/** A raw request: fetch() would normalise `..` away before it is sent. */
function get(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          ...(res.headers['content-type'] ? { type: res.headers['content-type'] } : {}),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local static server', () => {
  let server: StaticServer;
  beforeAll(async () => {
    server = await startStaticServer({
      host: '127.0.0.1',
      port: 0,
      config: () => ({ wsUrl: 'ws://x', token: 't' }),
      json: { '/sessions.json': (query) => ({ asked: query.getAll('sessionId') }) },
    });
  });
  afterAll(() => server.close());

  it('serves the page, its assets and config.json with their types', async () => {
    const page = await get(server.port, '/');
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page.body).toContain('<title>guest-relay simulator</title>');
    expect((await get(server.port, '/app.js')).type).toBe('text/javascript; charset=utf-8');
    const config = await get(server.port, '/config.json');
    expect(JSON.parse(config.body)).toEqual({ wsUrl: 'ws://x', token: 't' });
    // Every module of the page (each .js in web/) and its icon, with a type a browser accepts.
    const modules = readdirSync(WEB_ROOT).filter((name) => name.endsWith('.js'));
    expect(modules).toContain('guest.js');
    for (const asset of modules)
      expect((await get(server.port, `/${asset}`)).type, asset).toBe('text/javascript; charset=utf-8');
    expect((await get(server.port, '/favicon.svg')).type).toBe('image/svg+xml');
  });

  it('answers the other JSON documents from their query', async () => {
    const answer = await get(server.port, '/sessions.json?sessionId=a&sessionId=b');
    expect(answer).toMatchObject({ status: 200, type: 'application/json' });
    expect(JSON.parse(answer.body)).toEqual({ asked: ['a', 'b'] });
  });

  it('never serves a file outside web/, and answers only GET and HEAD', async () => {
    for (const path of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/web/../../package.json',
    ]) {
      const answer = await get(server.port, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body).not.toContain('"name": "guest-relay"');
    }
    expect((await get(server.port, '/missing.js')).status).toBe(404);
    expect((await get(server.port, '/', 'POST')).status).toBe(405);
    expect((await get(server.port, '/', 'HEAD')).status).toBe(200);
  });
});
