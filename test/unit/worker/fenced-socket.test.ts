import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { SocketLike, WebSocketConstructor } from '../../../src/genesys/client/index.js';
import { fencedWebSocket, type UpstreamFence } from '../../../worker/fenced-socket.js';

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
  const fence = {
    allowed: initiallyAllowed,
    blockedCount: 0,
    allows() {
      return this.allowed;
    },
    blocked() {
      this.blockedCount++;
    },
  } satisfies UpstreamFence & { allowed: boolean; blockedCount: number };
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
    expect(fence.blockedCount).toBe(0);
  });

  it('does not send a frame when the fence refuses: reports it and terminates the socket', () => {
    const { socket, base, fence } = setup();
    socket.send('first');
    fence.allowed = false;
    socket.send('second');
    expect(base.calls).toEqual([['send', 'first'], ['terminate']]);
    expect(base.calls.some(([method, data]) => method === 'send' && data === 'second')).toBe(false);
    expect(fence.blockedCount).toBe(1);
  });

  it('asks the fence for every frame (not once at construction)', () => {
    const { socket, base, fence } = setup(false);
    socket.send('while stalled');
    expect(fence.blockedCount).toBe(1);
    fence.allowed = true;
    socket.send('after a beat');
    expect(base.calls).toEqual([['terminate'], ['send', 'after a beat']]);
    expect(fence.blockedCount).toBe(1);
  });

  it('pings only while allowed, silently otherwise', () => {
    const { socket, base, fence } = setup();
    socket.ping();
    fence.allowed = false;
    socket.ping();
    expect(base.calls).toEqual([['ping']]);
    // A suppressed ping neither counts as a blocked frame nor kills the socket.
    expect(fence.blockedCount).toBe(0);
  });

  it('forwards close and terminate whatever the fence says', () => {
    const { socket, base, fence } = setup();
    fence.allowed = false;
    socket.close(1000, 'bye');
    socket.close();
    socket.terminate();
    expect(base.calls).toEqual([['close', 1000, 'bye'], ['close', undefined, undefined], ['terminate']]);
    expect(fence.blockedCount).toBe(0);
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
