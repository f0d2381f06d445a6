import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { SocketLike, WebSocketConstructor } from '../../../src/genesys/client/index.js';
import { fencedWebSocket, MAX_HELD_FRAMES, type UpstreamFence } from '../../../worker/fenced-socket.js';

type Call = readonly [method: string, ...args: unknown[]];

/** A base socket that records every call; `emit` plays the network. */
class FakeSocket extends EventEmitter {
  static instances: FakeSocket[] = [];
  readonly calls: Call[] = [];
  readonly url: string;
  readonly options: { headers: Record<string, string>; origin?: string };
  constructor(url: string, options: { headers: Record<string, string>; origin?: string }) {
    super();
    this.url = url;
    this.options = options;
    FakeSocket.instances.push(this);
  }
  send(data: string): void {
    this.calls.push(['send', data]);
  }
  ping(): void {
    this.calls.push(['ping']);
  }
  close(code?: number, reason?: string): void {
    this.calls.push(['close', code, reason]);
  }
  terminate(): void {
    this.calls.push(['terminate']);
  }
}

function setup(initiallyAllowed = true) {
  FakeSocket.instances = [];
  let renewed: (() => void)[] = [];
  const fence = {
    allowed: initiallyAllowed,
    heldCount: 0,
    allows() {
      return this.allowed;
    },
    ready() {
      return new Promise<void>((resolve) => renewed.push(resolve));
    },
    held() {
      this.heldCount++;
    },
    /** The lease is renewed (or, with `allowed` false, the waiters are only woken, as at shutdown). */
    async renew(allowed = true) {
      this.allowed = allowed;
      const waiters = renewed;
      renewed = [];
      for (const wake of waiters) wake();
      await new Promise((resolve) => setImmediate(resolve));
    },
  } satisfies UpstreamFence & {
    allowed: boolean;
    heldCount: number;
    renew(allowed?: boolean): Promise<void>;
  };
  const Fenced = fencedWebSocket(FakeSocket as unknown as WebSocketConstructor, fence);
  const socket: SocketLike = new Fenced('wss://upstream.test/v1?deploymentId=d', {
    headers: { 'x-test': '1' },
    origin: 'https://origin.test',
  });
  expect(FakeSocket.instances).toHaveLength(1);
  const base = FakeSocket.instances[0] as FakeSocket;
  return { fence, socket, base };
}

describe('fencedWebSocket', () => {
  it('constructs the base socket with the same url and options', () => {
    const { base } = setup();
    expect(base.url).toBe('wss://upstream.test/v1?deploymentId=d');
    expect(base.options).toEqual({ headers: { 'x-test': '1' }, origin: 'https://origin.test' });
  });

  it('sends frames while the fence allows', () => {
    const { socket, base, fence } = setup();
    socket.send('{"action":"echo"}');
    socket.send('{"action":"onMessage"}');
    expect(base.calls).toEqual([
      ['send', '{"action":"echo"}'],
      ['send', '{"action":"onMessage"}'],
    ]);
    expect(fence.heldCount).toBe(0);
  });

  it('holds frames while the fence refuses and sends them, in order, once the lease is renewed', async () => {
    const { socket, base, fence } = setup();
    socket.send('first');
    fence.allowed = false;
    socket.send('second');
    socket.send('third');
    expect(base.calls).toEqual([['send', 'first']]);
    expect(fence.heldCount).toBe(2);
    await fence.renew();
    expect(base.calls).toEqual([
      ['send', 'first'],
      ['send', 'second'],
      ['send', 'third'],
    ]);
  });

  it('lets no frame overtake a held one, even once the fence allows again', async () => {
    const { socket, base, fence } = setup(false);
    socket.send('while lapsed');
    fence.allowed = true;
    socket.send('after the lapse');
    expect(base.calls).toEqual([]);
    await fence.renew();
    expect(base.calls).toEqual([
      ['send', 'while lapsed'],
      ['send', 'after the lapse'],
    ]);
    socket.send('later');
    expect(base.calls.at(-1)).toEqual(['send', 'later']);
  });

  it('keeps holding when woken without a renewal (shutdown)', async () => {
    const { socket, base, fence } = setup(false);
    socket.send('held');
    await fence.renew(false);
    expect(base.calls).toEqual([]);
    await fence.renew(true);
    expect(base.calls).toEqual([['send', 'held']]);
  });

  it('drops what it holds when the socket closes: a lost session sends nothing after the renewal', async () => {
    const { socket, base, fence } = setup(false);
    socket.send('for a session another worker claimed');
    // The worker closes the sessions it lost before it renews the lease.
    socket.close(1000, 'lost');
    await fence.renew();
    expect(base.calls).toEqual([['close', 1000, 'lost']]);

    const other = setup(false);
    other.socket.send('held');
    other.base.emit('close', 1006, Buffer.from(''));
    await other.fence.renew();
    expect(other.base.calls).toEqual([]);
    other.socket.send('after the close');
    expect(other.base.calls).toEqual([]);
  });

  it(`terminates the socket rather than hold more than ${MAX_HELD_FRAMES} frames`, () => {
    const { socket, base, fence } = setup(false);
    for (let n = 0; n < MAX_HELD_FRAMES; n++) socket.send(`frame ${n}`);
    expect(base.calls).toEqual([]);
    socket.send('one too many');
    expect(base.calls).toEqual([['terminate']]);
    expect(fence.heldCount).toBe(MAX_HELD_FRAMES + 1);
  });

  it('pings only while allowed, silently otherwise', () => {
    const { socket, base, fence } = setup();
    socket.ping();
    fence.allowed = false;
    socket.ping();
    expect(base.calls).toEqual([['ping']]);
    // A suppressed ping is not held, and does not kill the socket.
    expect(fence.heldCount).toBe(0);
  });

  it('forwards close and terminate whatever the fence says', () => {
    const { socket, base, fence } = setup();
    fence.allowed = false;
    socket.close(1000, 'bye');
    socket.close();
    socket.terminate();
    expect(base.calls).toEqual([['close', 1000, 'bye'], ['close', undefined, undefined], ['terminate']]);
    expect(fence.heldCount).toBe(0);
  });

  it('forwards listeners: what the base emits reaches listeners registered on the wrapper', () => {
    const { socket, base } = setup();
    const seen: unknown[] = [];
    socket.on('open', () => seen.push('open'));
    socket.on('message', (data, isBinary) => seen.push(['message', data, isBinary]));
    socket.on('close', (code, reason) => seen.push(['close', code, reason]));
    socket.on('error', (error) => seen.push(['error', error.message]));
    socket.on('pong', () => seen.push('pong'));
    base.emit('open');
    base.emit('message', Buffer.from('{"type":"response"}'), false);
    base.emit('pong');
    base.emit('error', new Error('boom'));
    base.emit('close', 1006, Buffer.from(''));
    expect(seen).toEqual([
      'open',
      ['message', Buffer.from('{"type":"response"}'), false],
      'pong',
      ['error', 'boom'],
      ['close', 1006, Buffer.from('')],
    ]);
    expect(base.listenerCount('message')).toBe(1);
  });

  it('delivers inbound messages even while the fence refuses outbound frames', () => {
    const { socket, base, fence } = setup();
    const seen: unknown[] = [];
    socket.on('message', (data) => seen.push(data));
    fence.allowed = false;
    base.emit('message', 'late frame', false);
    expect(seen).toEqual(['late frame']);
  });
});
