/**
 * Java's default HTTP client (java.net.http.HttpClient, HTTP/2 preferred) asks to upgrade every http://
 * request to h2c. The emulator does not speak h2c, so it must ignore the Upgrade and answer in HTTP/1.1.
 * These requests are written byte for byte on a raw socket, with the headers that client sends.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, type Json, startHarness } from './emulator-harness.js';

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

/** What java.net.http.HttpClient adds to a cleartext request when HTTP/2 is preferred (its default). */
const JAVA_H2C_HEADERS = [
  'Connection: Upgrade, HTTP2-Settings',
  'HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA',
  'Upgrade: h2c',
  'User-Agent: Java-http-client/21.0.2',
];

interface RawResponse {
  readonly statusLine: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/**
 * Writes `parts` on a fresh TCP connection, each after the previous one was flushed plus a turn of the
 * event loop (so a later part arrives after the server has read the head), and reads one response.
 */
function rawRequest(port: number, parts: readonly (string | Buffer)[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No complete response; got: ${Buffer.concat(chunks).toString('latin1')}`));
    }, 3000);
    const finish = (response: RawResponse) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(response);
    };
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine = '', ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = all.subarray(end + 4);
      if (body.length >= Number(headers['content-length'] ?? 0)) finish({ statusLine, headers, body });
    });
    socket.on('connect', async () => {
      for (const part of parts) {
        await new Promise<void>((flushed) => socket.write(part, () => setImmediate(flushed)));
      }
    });
  });
}

function head(method: string, target: string, port: number, headers: readonly string[]): string {
  return [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...headers, '', ''].join('\r\n');
}

describe('Upgrade: h2c on plain HTTP (java.net.http.HttpClient)', () => {
  it('ignores the upgrade and serves config.json, an upload and its download over HTTP/1.1', async () => {
    harness = await startHarness();
    const { emulator } = harness;
    const { port } = emulator;

    const config = await rawRequest(port, [
      head('GET', `/webdeployments/v1/deployments/${emulator.deploymentId}/config.json`, port, [
        ...JAVA_H2C_HEADERS,
        'Content-Length: 0',
      ]),
    ]);
    expect(config.statusLine).toBe('HTTP/1.1 200 OK');
    expect(config.headers.upgrade).toBeUndefined();
    expect(config.headers.connection).toBe('close');
    expect(JSON.parse(config.body.toString('utf8'))).toMatchObject({
      id: emulator.deploymentId,
      apiEndpoint: emulator.httpUrl,
    });

    const { client } = await harness.guest('java');
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
    const slot = (
      await client.request(
        {
          action: 'onAttachment',
          token: 'java',
          fileName: 'photo.png',
          fileType: 'image/png',
          fileSize: bytes.length,
        },
        'PresignedUrlResponse',
      )
    ).body as Json;
    const uploadUrl = new URL(slot.url as string);
    const tagging = slot.headers['x-amz-tagging'] as string;
    // The head with the start of the body in one packet, the rest of the body in a later one.
    const put = await rawRequest(port, [
      Buffer.concat([
        Buffer.from(
          head('PUT', `${uploadUrl.pathname}${uploadUrl.search}`, port, [
            ...JAVA_H2C_HEADERS,
            `Content-Length: ${bytes.length}`,
            'Content-Type: image/png',
            `x-amz-tagging: ${tagging}`,
          ]),
          'latin1',
        ),
        bytes.subarray(0, 5),
      ]),
      bytes.subarray(5),
    ]);
    expect(put.statusLine).toBe('HTTP/1.1 200 OK');
    const success = await client.nextOfClass('UploadSuccessEvent');

    const downloadUrl = new URL((success.body as Json).downloadUrl as string);
    const download = await rawRequest(port, [
      head('GET', `${downloadUrl.pathname}${downloadUrl.search}`, port, [
        ...JAVA_H2C_HEADERS,
        'Content-Length: 0',
      ]),
    ]);
    expect(download.statusLine).toBe('HTTP/1.1 200 OK');
    expect(download.headers['content-type']).toBe('image/png');
    expect(download.body).toEqual(bytes);
  });

  it('keeps the other headers of the request and the other Connection options', async () => {
    harness = await startHarness({ allowedOrigins: ['https://shop.example'] });
    const { port } = harness.emulator;
    // With an allow-list the CORS answer repeats the request's Origin, so it shows the header survived.
    const response = await rawRequest(port, [
      head('GET', '/emulator', port, [
        'Connection: keep-alive, Upgrade',
        'Upgrade: h2c',
        'Origin: https://shop.example',
      ]),
    ]);
    expect(response.statusLine).toBe('HTTP/1.1 200 OK');
    expect(response.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(JSON.parse(response.body.toString('utf8'))).toMatchObject({
      deploymentId: harness.emulator.deploymentId,
    });
  });

  it('still refuses a WebSocket upgrade to a path without one', async () => {
    harness = await startHarness();
    const { port } = harness.emulator;
    const response = await rawRequest(port, [
      head('GET', '/nowhere', port, [
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ]),
    ]);
    expect(response.statusLine).toBe('HTTP/1.1 404 Not Found');
  });
});
