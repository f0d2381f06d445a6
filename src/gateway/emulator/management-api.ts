/**
 * The `@connections` management API (aws-notes §2.1) under `/<stage>/@connections/{id}`: POST sends,
 * GET describes, DELETE disconnects. Errors carry `x-amzn-ErrorType` and a `{"message": …}` body as
 * AWS sends them, which is what lets the real `@aws-sdk/client-apigatewaymanagementapi` raise
 * GoneException, LimitExceededException, PayloadTooLargeException and ForbiddenException against it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatedConnection } from './connection.js';

export type ManagementErrorType =
  | 'GoneException'
  | 'LimitExceededException'
  | 'PayloadTooLargeException'
  | 'ForbiddenException';

const STATUS: Readonly<Record<ManagementErrorType, number>> = {
  GoneException: 410,
  LimitExceededException: 429,
  PayloadTooLargeException: 413,
  ForbiddenException: 403,
};

export interface ManagementRegistry {
  readonly stage: string;
  readonly maxMessageBytes: number;
  get(connectionId: string): EmulatedConnection | undefined;
  /** True (and one fewer left) when a throttle fault is armed for this connection. */
  consumeThrottle(connectionId: string): boolean;
  /** DELETE: closes the connection; $disconnect follows. */
  disconnect(connection: EmulatedConnection): void;
}

function sendError(res: ServerResponse, type: ManagementErrorType, message: string): void {
  const body = JSON.stringify({ message });
  res.writeHead(STATUS[type], {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': type,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

/** Reads the body up to `limit` bytes; undefined when it is longer (the rest is drained, not kept). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Handles a request if its path is under `/<stage>/@connections/`; returns false otherwise so the server
 * can answer it. The id must be URL-encoded in the path, as on AWS (its '=' becomes '%3D').
 */
export async function handleManagementRequest(
  req: IncomingMessage,
  res: ServerResponse,
  registry: ManagementRegistry,
): Promise<boolean> {
  const pathname = (req.url ?? '/').split('?')[0] ?? '/';
  const prefix = `/${registry.stage}/@connections/`;
  if (!pathname.startsWith(prefix)) return false;
  const encoded = pathname.slice(prefix.length);
  const method = req.method ?? 'GET';
  // API Gateway answers an unsigned request, and any path or method it does not know, with this 403.
  const authorization = req.headers.authorization ?? '';
  if (!authorization.startsWith('AWS4-HMAC-SHA256 ') || encoded.length === 0 || encoded.includes('/')) {
    req.resume();
    sendError(res, 'ForbiddenException', 'Missing Authentication Token');
    return true;
  }
  if (!['POST', 'GET', 'DELETE'].includes(method)) {
    req.resume();
    sendError(res, 'ForbiddenException', 'Missing Authentication Token');
    return true;
  }
  let connectionId: string;
  try {
    connectionId = decodeURIComponent(encoded);
  } catch {
    req.resume();
    sendError(res, 'ForbiddenException', 'Invalid connection id encoding');
    return true;
  }
  if (encoded.includes('=')) {
    // Stricter than AWS is known to be: it catches endpoints built by hand without encoding the id.
    req.resume();
    sendError(res, 'ForbiddenException', 'The connection id must be URL-encoded in the path');
    return true;
  }
  if (method !== 'POST') req.resume();
  const body = method === 'POST' ? await readBody(req, registry.maxMessageBytes) : Buffer.alloc(0);
  if (registry.consumeThrottle(connectionId)) {
    sendError(res, 'LimitExceededException', 'Rate exceeded');
    return true;
  }
  const connection = registry.get(connectionId);
  if (!connection?.open) {
    sendError(res, 'GoneException', `Connection ${connectionId} is gone`);
    return true;
  }
  const headers = { 'x-amzn-requestid': randomUUID() };
  if (method === 'POST') {
    if (body === undefined) {
      sendError(res, 'PayloadTooLargeException', 'Message too long');
      return true;
    }
    connection.send(body);
    res.writeHead(200, { ...headers, 'content-length': 0 });
    res.end();
    return true;
  }
  if (method === 'GET') {
    const snapshot = connection.snapshot();
    const json = JSON.stringify({
      connectedAt: new Date(snapshot.connectedAt).toISOString(),
      identity: { sourceIp: snapshot.sourceIp, userAgent: snapshot.userAgent },
      lastActiveAt: new Date(snapshot.lastActiveAt).toISOString(),
    });
    res.writeHead(200, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
    });
    res.end(json);
    return true;
  }
  registry.disconnect(connection);
  res.writeHead(204, headers);
  res.end();
  return true;
}
