/**
 * The container's health endpoint: `GET /health` answers 200 with the worker's figures while it runs
 * (503 while starting or stopping, so a load balancer or ECS stops sending it work). No secrets: session
 * ids, counters and the control connection id only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerHealth } from './worker.js';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: {
  readonly host: string;
  readonly port: number;
  readonly health: () => WorkerHealth;
}): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url !== '/health' && request.url !== '/')) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'not found: GET /health' }));
      return;
    }
    const health = options.health();
    response.writeHead(health.state === 'running' ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify(health));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
