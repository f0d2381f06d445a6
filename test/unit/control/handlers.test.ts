import { describe, expect, it } from 'vitest';
import {
  CONTROL_ROUTE_KEYS,
  type ControlEvent,
  type ControlResult,
  controlInboundSchema,
  createControlHandler,
  createControlHandlers,
} from '../../../src/control/index.js';

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const now = () => NOW;

function event(routeKey: string, body?: unknown, connectionId = 'conn-AbC123='): ControlEvent {
  return {
    requestContext: { connectionId, routeKey },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}

/** The route response's body, parsed and checked against what a worker accepts. */
function bodyOf(result: ControlResult): unknown {
  expect(result.statusCode).toBe(200);
  expect(typeof result.body).toBe('string');
  const parsed = JSON.parse(result.body as string) as unknown;
  expect(controlInboundSchema.safeParse(parsed).success).toBe(true);
  return parsed;
}

describe('control handlers', () => {
  const handlers = createControlHandlers(now);

  it('has a handler for every route key', () => {
    expect(Object.keys(handlers).sort()).toEqual([...CONTROL_ROUTE_KEYS].sort());
    expect(Object.isFrozen(handlers)).toBe(true);
  });

  it('$connect and $disconnect answer 200 without a body', async () => {
    expect(await handlers.$connect(event('$connect'))).toEqual({ statusCode: 200 });
    expect(await handlers.$disconnect(event('$disconnect'))).toEqual({ statusCode: 200 });
  });

  describe('register', () => {
    it('answers registered with the workerId and the connection id of the event', async () => {
      const result = await handlers.register(
        event('register', { action: 'register', workerId: 'w-0123abcd' }, 'Zx9-conn='),
      );
      expect(bodyOf(result)).toEqual({
        type: 'registered',
        workerId: 'w-0123abcd',
        connectionId: 'Zx9-conn=',
      });
    });

    it('accepts every allowed workerId character and 128 of them', async () => {
      const workerId = `Az09._:-${'x'.repeat(120)}`;
      expect(workerId).toHaveLength(128);
      const result = await handlers.register(event('register', { action: 'register', workerId }));
      expect(bodyOf(result)).toMatchObject({ type: 'registered', workerId });
    });

    it.each([
      ['no body', undefined],
      ['an empty body', ''],
      ['invalid JSON', '{"action":"register",'],
      ['JSON null', 'null'],
      ['an array', [{ action: 'register', workerId: 'w-1' }]],
      ['no workerId', { action: 'register' }],
      ['an empty workerId', { action: 'register', workerId: '' }],
      ['a workerId with a space', { action: 'register', workerId: 'w 1' }],
      ['a workerId with a slash', { action: 'register', workerId: 'w/1' }],
      ['a workerId of 129 characters', { action: 'register', workerId: 'x'.repeat(129) }],
      ['a numeric workerId', { action: 'register', workerId: 42 }],
      ['another action', { action: 'ping', workerId: 'w-1' }],
    ])('refuses %s with an error message', async (_name, body) => {
      const parsed = bodyOf(await handlers.register(event('register', body)));
      expect(parsed).toMatchObject({ type: 'error' });
      expect((parsed as { message: string }).message).toMatch(/workerId/);
    });
  });

  describe('ping', () => {
    it('answers pong with the nonce and the injected time as ISO', async () => {
      const result = await handlers.ping(event('ping', { action: 'ping', nonce: 'n-42' }));
      expect(bodyOf(result)).toEqual({ type: 'pong', nonce: 'n-42', time: '2025-01-02T03:04:05.678Z' });
    });

    it('reads the clock on every ping', async () => {
      let t = 0;
      const ticking = createControlHandlers(() => t);
      t = Date.UTC(2030, 5, 6);
      expect(bodyOf(await ticking.ping(event('ping', { action: 'ping' })))).toEqual({
        type: 'pong',
        time: '2030-06-06T00:00:00.000Z',
      });
      t += 1_500;
      expect(bodyOf(await ticking.ping(event('ping', { action: 'ping' })))).toMatchObject({
        time: '2030-06-06T00:00:01.500Z',
      });
    });

    it('answers pong without a nonce when there is none or it is invalid', async () => {
      for (const body of [
        { action: 'ping' },
        undefined,
        'not json',
        { action: 'ping', nonce: 'x'.repeat(65) },
      ]) {
        const parsed = bodyOf(await handlers.ping(event('ping', body)));
        expect(parsed).toEqual({ type: 'pong', time: '2025-01-02T03:04:05.678Z' });
      }
    });
  });

  it('$default answers an error', async () => {
    const parsed = bodyOf(await handlers.$default(event('$default', { action: 'whatever' })));
    expect(parsed).toMatchObject({ type: 'error' });
  });
});

describe('createControlHandler', () => {
  const handle = createControlHandler(now);

  it('dispatches register by route key', async () => {
    expect(bodyOf(await handle(event('register', { action: 'register', workerId: 'w-9' }, 'c-9')))).toEqual({
      type: 'registered',
      workerId: 'w-9',
      connectionId: 'c-9',
    });
  });

  it('dispatches ping by route key', async () => {
    expect(bodyOf(await handle(event('ping', { action: 'ping', nonce: 'abc' })))).toEqual({
      type: 'pong',
      nonce: 'abc',
      time: new Date(NOW).toISOString(),
    });
  });

  it('dispatches $connect and $disconnect', async () => {
    expect(await handle(event('$connect'))).toEqual({ statusCode: 200 });
    expect(await handle(event('$disconnect'))).toEqual({ statusCode: 200 });
  });

  it('routes by the route key, not by the body action', async () => {
    const parsed = bodyOf(await handle(event('ping', { action: 'register', workerId: 'w-1' })));
    expect(parsed).toMatchObject({ type: 'pong' });
  });

  it.each(['doorbell', 'unknown', 'toString', '__proto__', 'constructor', 'hasOwnProperty', ''])(
    'sends the unknown route key %j to $default',
    async (routeKey) => {
      const parsed = bodyOf(await handle(event(routeKey, { action: 'register', workerId: 'w-1' })));
      expect(parsed).toEqual({ type: 'error', message: 'unknown control action: use register or ping' });
    },
  );
});
