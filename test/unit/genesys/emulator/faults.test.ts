import { describe, expect, it, vi } from 'vitest';
import { FaultLayer, REORDER_FLUSH_MS } from '../../../../src/genesys/emulator/faults.js';
import { frames, type ServerFrame } from '../../../../src/genesys/emulator/frames.js';
import { ManualClock } from '../../../../src/genesys/emulator/manual-clock.js';
import { Session } from '../../../../src/genesys/emulator/sessions.js';
import { Timers } from '../../../../src/genesys/emulator/timers.js';
import { silentLog } from '../../../../src/logging/log.js';

function setup() {
  const clock = new ManualClock(0);
  const timers = new Timers(clock, silentLog);
  const delivered: { token: string; text: string }[] = [];
  const faults = new FaultLayer({
    timers,
    deliver: (session, frame) =>
      delivered.push({ token: session.token, text: (frame.body as { id: string }).id }),
    dropSockets: () => 0,
    expireSession: () => {},
  });
  const session = (token: string) => new Session(token, 0, 2, 60);
  const push = (s: Session, id: string) =>
    faults.pushOutbound(
      s,
      frames.structuredMessage({ id, type: 'Text', direction: 'Outbound' }) as ServerFrame,
    );
  const texts = (token?: string) =>
    delivered.filter((d) => token === undefined || d.token === token).map((d) => d.text);
  return { clock, timers, faults, session, push, texts };
}

describe('FaultLayer', () => {
  it('delivers at once when no fault is set', () => {
    const { faults, session, push, texts } = setup();
    push(session('a'), '1');
    expect(texts()).toEqual(['1']);
    expect(faults.state()).toMatchObject({ delayPushesMs: 0, reorderPushes: 0 });
  });

  it('reverses the next count pushes of each session separately', () => {
    const { faults, session, push, texts } = setup();
    const a = session('a');
    const b = session('b');
    faults.reorderPushes(2);
    push(a, 'a1');
    push(b, 'b1');
    push(a, 'a2');
    push(b, 'b2');
    push(a, 'a3');
    expect(texts('a')).toEqual(['a2', 'a1', 'a3']);
    expect(texts('b')).toEqual(['b2', 'b1']);
  });

  it('flushes a short batch after REORDER_FLUSH_MS', () => {
    const { clock, faults, session, push, texts } = setup();
    const a = session('a');
    faults.reorderPushes(3);
    push(a, '1');
    push(a, '2');
    clock.advance(REORDER_FLUSH_MS - 1);
    expect(texts()).toEqual([]);
    clock.advance(1);
    expect(texts()).toEqual(['2', '1']);
  });

  it('delays, then duplicates, and reset() restores normal delivery', () => {
    const { clock, faults, session, push, texts } = setup();
    const a = session('a');
    faults.delayPushes(100);
    faults.duplicatePushes(1);
    push(a, '1');
    push(a, '2');
    expect(texts()).toEqual([]);
    clock.advance(100);
    expect(texts()).toEqual(['1', '1', '2']);
    faults.reset();
    push(a, '3');
    expect(texts()).toEqual(['1', '1', '2', '3']);
  });

  it('counts forced 429s down, and refuses connects only inside the window', () => {
    const { clock, faults } = setup();
    faults.force429(2, 5);
    expect([faults.take429(), faults.take429(), faults.take429()]).toEqual([5, 5, undefined]);
    faults.refuseConnects(1000);
    expect(faults.refusing()).toBe(true);
    clock.advance(1000);
    expect(faults.refusing()).toBe(false);
  });

  it('throws a RangeError for negative or fractional arguments', () => {
    const { faults } = setup();
    expect(() => faults.delayPushes(-1)).toThrow(RangeError);
    expect(() => faults.reorderPushes(1.5)).toThrow(RangeError);
    expect(() => faults.force429(1, -3)).toThrow(RangeError);
    expect(() => faults.rejectMessages(1, 200)).toThrow(RangeError);
    expect(() => faults.rejectMessages(-1, 4011)).toThrow(RangeError);
  });

  it('counts forced refusals down with their code, and reset disarms them', () => {
    const { faults } = setup();
    faults.rejectMessages(2, 4020);
    expect(faults.state()).toMatchObject({ rejectMessagesLeft: 2, rejectMessagesCode: 4020 });
    expect([faults.takeRejection(), faults.takeRejection(), faults.takeRejection()]).toEqual([
      4020,
      4020,
      undefined,
    ]);
    faults.rejectMessages(3, 503);
    faults.reset();
    expect(faults.takeRejection()).toBeUndefined();
  });

  it('delivers nothing held or delayed after close()', () => {
    const { clock, timers, faults, session, push, texts } = setup();
    const a = session('a');
    faults.delayPushes(10);
    push(a, 'delayed');
    faults.delayPushes(0);
    faults.reorderPushes(3);
    push(a, 'held');
    faults.close();
    clock.advance(REORDER_FLUSH_MS);
    expect(texts()).toEqual([]);
    expect(timers.pending).toBe(0);
  });
});

describe('Timers', () => {
  it('logs a callback that throws instead of crashing, and clears everything on close', () => {
    const clock = new ManualClock(0);
    const error = vi.fn();
    const timers = new Timers(clock, { ...silentLog, error });
    timers.after(10, () => {
      throw new Error('boom');
    });
    const ran = vi.fn();
    timers.after(20, ran);
    clock.advance(10);
    expect(error).toHaveBeenCalledOnce();
    timers.close();
    clock.advance(100);
    expect(ran).not.toHaveBeenCalled();
    expect(clock.pending).toBe(0);
    timers.after(1, ran);
    expect(clock.pending).toBe(0);
  });
});

describe('ManualClock', () => {
  it('runs due timers in time order, including ones set while advancing', () => {
    const clock = new ManualClock(0);
    const order: string[] = [];
    clock.setTimeout(() => order.push('b@20'), 20);
    clock.setTimeout(() => {
      order.push('a@10');
      clock.setTimeout(() => order.push('c@15'), 5);
    }, 10);
    const late = clock.setTimeout(() => order.push('never'), 30);
    clock.clearTimeout(late);
    clock.advance(25);
    expect(order).toEqual(['a@10', 'c@15', 'b@20']);
    expect(clock.now()).toBe(25);
  });
});
