/**
 * Serves the web simulator (`web/`), the `config.json` it starts from and any other JSON the stack
 * answers (`sessions.json`). Read-only: GET and HEAD only, no directory listing, no path outside `web/`.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface StaticServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startStaticServer(options: {
  readonly host: string;
  readonly port: number;
  readonly root?: string;
  /** What `/config.json` answers (the page's URLs and token). */
  readonly config: () => unknown;
  /** Other JSON documents by path (`/sessions.json`), computed per request from its query. */
  readonly json?: Readonly<Record<string, (query: URLSearchParams) => unknown>>;
}): Promise<StaticServer> {
  const root = options.root ?? WEB_ROOT;
  const documents: Readonly<Record<string, (query: URLSearchParams) => unknown>> = {
    ...options.json,
    '/config.json': options.config,
  };
  const server = createServer(async (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://local');
    const path = decodeURIComponent(url.pathname);
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    const document = Object.hasOwn(documents, path) ? documents[path] : undefined;
    if (document !== undefined) {
      response.writeHead(200, { ...headers, 'content-type': TYPES['.json'] });
      response.end(request.method === 'HEAD' ? undefined : JSON.stringify(document(url.searchParams)));
      return;
    }
    const relative = normalize(path === '/' ? 'index.html' : path.slice(1));
    const file = join(root, relative);
    if (relative.startsWith('..') || !file.startsWith(root.endsWith(sep) ? root : root + sep)) {
      response.writeHead(404, headers).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, {
        ...headers,
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}/`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
