/**
 * The client's caps on what it reads (src/genesys/client/limits.ts): the socket's maxPayload and what
 * the session does when ws reports a frame over it, and bounded reads of HTTP bodies. Real servers on
 * loopback: test/integration/genesys/client-limits.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCapped, readJsonCapped } from '../../../../src/genesys/client/http-body.js';
import { GuestSession } from '../../../../src/genesys/client/index.js';
import type { FetchResponse } from '../../../../src/genesys/client/options.js';
import { GenesysError } from '../../../../src/genesys/errors.js';
import { baseOptions, FakeClock, FakeSocket, flush } from './fakes.js';

/** A response whose body counts what is pulled from it and whether it was cancelled. */
function counted(chunks: number, chunkBytes: number, contentLength?: string) {
  const state = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.pulled === chunks) {
          controller.close();
          return;
        }
        state.pulled++;
        controller.enqueue(new Uint8Array(chunkBytes).fill(0x20));
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  const response: FetchResponse = {
    ok: true,
    status: 200,
    headers: { get: (name) => (name === 'content-length' ? (contentLength ?? null) : null) },
    body,
  };
  return { response, state };
}

describe('readCapped', () => {
  it('returns a body within the cap whole', async () => {
    const { response } = counted(4, 256);
    expect((await readCapped(response, 1024, 'x')).byteLength).toBe(1024);
  });

  it('refuses a declared content-length over the cap before reading a byte', async () => {
    const { response, state } = counted(100, 1024, String(50 * 1024 * 1024));
    const error = await readCapped(response, 1024, 'History page 1').catch((e) => e);
    expect(error).toBeInstanceOf(GenesysError);
    expect(error).toMatchObject({ code: 'GENESYS_RESPONSE_TOO_LARGE' });
    expect(error.message).toBe('History page 1: the answer declares 52428800 bytes, over the 1024-byte cap');
    expect(state.pulled).toBe(0);
    expect(state.cancelled).toBe(true);
  });

  it('stops reading and cancels once an undeclared body passes the cap', async () => {
    const { response, state } = counted(1000, 1024);
    const error = await readCapped(response, 4 * 1024, 'x').catch((e) => e);
    expect(error).toMatchObject({ code: 'GENESYS_RESPONSE_TOO_LARGE' });
    expect(state.pulled).toBe(5);
    expect(state.cancelled).toBe(true);
  });

  it('does not trust a content-length that understates the body', async () => {
    const { response } = counted(1000, 1024, '10');
    await expect(readCapped(response, 4 * 1024, 'x')).rejects.toMatchObject({
      code: 'GENESYS_RESPONSE_TOO_LARGE',
    });
  });
});

describe('readJsonCapped', () => {
  it('parses JSON and types a body that is not JSON', async () => {
    await expect(readJsonCapped(new Response('{"a":1}'), 100, 'x')).resolves.toEqual({ a: 1 });
    await expect(readJsonCapped(new Response('<html>'), 100, 'x')).rejects.toMatchObject({
      code: 'GENESYS_HTTP_ERROR',
    });
  });
});

describe('GuestSession, a frame over the cap', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock();
    FakeSocket.reset();
  });
  afterEach(() => FakeSocket.reset());

  it('fails the session with GENESYS_FRAME_TOO_LARGE, cuts the socket and does not reconnect', async () => {
    const guest = new GuestSession(baseOptions(clock));
    const closed: unknown[] = [];
    const reconnecting: unknown[] = [];
    guest.on('closed', (event) => closed.push(event));
    guest.on('reconnecting', (event) => reconnecting.push(event));
    const started = guest.start();
    const socket = FakeSocket.last();
    socket.open();
    socket.sessionResponse();
    await started;
    const sent = guest.send({ text: 'hello' });
    sent.catch(() => {});
    // What ws' receiver emits before closing with 1009.
    socket.fail(
      Object.assign(new RangeError('Max payload size exceeded'), {
        code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      }),
    );
    await flush();
    expect(guest.state).toBe('closed');
    expect(socket.terminated).toBe(true);
    expect(closed).toEqual([{ reason: 'rejected', error: expect.any(GenesysError) }]);
    const error = (closed[0] as { error: GenesysError }).error;
    expect(error.code).toBe('GENESYS_FRAME_TOO_LARGE');
    expect(error.message).toContain(`over ${256 * 1024} bytes`);
    await expect(sent).rejects.toMatchObject({ code: 'GENESYS_FRAME_TOO_LARGE' });
    clock.advance(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(reconnecting).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('treats other socket errors as before: the close decides, and it reconnects', async () => {
    const guest = new GuestSession(baseOptions(clock));
    const started = guest.start();
    const socket = FakeSocket.last();
    socket.open();
    socket.sessionResponse();
    await started;
    socket.fail(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    expect(guest.state).toBe('ready');
    socket.drop(1006);
    expect(guest.state).toBe('reconnecting');
    await guest.close();
  });
});
