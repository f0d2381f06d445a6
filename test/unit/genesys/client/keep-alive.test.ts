import { describe, expect, it } from 'vitest';
import { KeepAlive } from '../../../../src/genesys/client/keep-alive.js';
import { FakeClock } from './fakes.js';

function setup(echoIntervalMs = 30_000) {
  const clock = new FakeClock();
  const calls = { ping: 0, echo: 0, dead: 0 };
  const keepAlive = new KeepAlive(
    { clock, pingIntervalMs: 15_000, pongTimeoutMs: 10_000, echoIntervalMs },
    {
      ping: () => calls.ping++,
      echo: () => calls.echo++,
      dead: () => calls.dead++,
    },
  );
  return { clock, calls, keepAlive };
}

describe('KeepAlive', () => {
  it('pings every interval while pongs come back', () => {
    const { clock, calls, keepAlive } = setup();
    keepAlive.start();
    clock.advance(14_999);
    expect(calls.ping).toBe(0);
    clock.advance(1);
    expect(calls.ping).toBe(1);
    clock.advance(100);
    keepAlive.pong();
    clock.advance(14_900);
    expect(calls.ping).toBe(2);
    expect(calls.dead).toBe(0);
  });

  it('declares the socket dead when no pong comes within the timeout', () => {
    const { clock, calls, keepAlive } = setup();
    keepAlive.start();
    clock.advance(15_000);
    clock.advance(9_999);
    expect(calls.dead).toBe(0);
    clock.advance(1);
    expect(calls.dead).toBe(1);
    expect(keepAlive.running).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('echoes at most once per echo interval, and only when nothing else was sent', () => {
    const { clock, calls, keepAlive } = setup();
    keepAlive.start();
    for (let i = 0; i < 8; i++) {
      clock.advance(15_000);
      keepAlive.pong();
    }
    // 120 s idle, ticks every 15 s: echoes at 30, 60, 90, 120 s.
    expect(calls.ping).toBe(8);
    expect(calls.echo).toBe(4);
  });

  it('does not echo a busy session', () => {
    const { clock, calls, keepAlive } = setup();
    keepAlive.start();
    for (let i = 0; i < 8; i++) {
      clock.advance(10_000);
      keepAlive.requestSent();
      clock.advance(5_000);
      keepAlive.pong();
    }
    expect(calls.echo).toBe(0);
  });

  it('never echoes with an echo interval of 0', () => {
    const { clock, calls, keepAlive } = setup(0);
    keepAlive.start();
    for (let i = 0; i < 4; i++) {
      clock.advance(15_000);
      keepAlive.pong();
    }
    expect(calls.echo).toBe(0);
  });

  it('holds no timer once stopped', () => {
    const { clock, keepAlive } = setup();
    keepAlive.start();
    expect(clock.pending).toBe(1);
    keepAlive.stop();
    expect(clock.pending).toBe(0);
    keepAlive.pong();
    expect(clock.pending).toBe(0);
  });
});
