import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SendQueue } from '../../../../src/genesys/client/send-queue.js';

const item = (seq: number) => ({ seq, tracingId: `t${seq}` });

describe('SendQueue', () => {
  it('hands entries out first in, first out', () => {
    const queue = new SendQueue(10);
    for (const seq of [0, 1, 2]) queue.enqueue(item(seq));
    expect(queue.take()?.seq).toBe(0);
    expect(queue.take()?.seq).toBe(1);
    expect(queue.inFlightCount).toBe(2);
    expect(queue.waitingCount).toBe(1);
    expect(queue.size).toBe(3);
  });

  it('refuses past capacity, counting entries in flight', () => {
    const queue = new SendQueue(2);
    expect(queue.enqueue(item(0))).toBe(true);
    queue.take();
    expect(queue.enqueue(item(1))).toBe(true);
    expect(queue.isFull).toBe(true);
    expect(queue.enqueue(item(2))).toBe(false);
    queue.settle('t0');
    expect(queue.enqueue(item(2))).toBe(true);
  });

  it('refuses a tracingId that is outstanding', () => {
    const queue = new SendQueue(5);
    queue.enqueue(item(0));
    expect(queue.enqueue({ seq: 9, tracingId: 't0' })).toBe(false);
    expect(queue.size).toBe(1);
  });

  it('puts a requeued entry back in its enqueue place, ahead of later ones', () => {
    const queue = new SendQueue(10);
    for (const seq of [0, 1, 2, 3]) queue.enqueue(item(seq));
    queue.take();
    queue.take();
    queue.requeue('t1');
    queue.requeue('t0');
    expect(queue.waiting().map((entry) => entry.seq)).toEqual([0, 1, 2, 3]);
    expect(queue.inFlightCount).toBe(0);
  });

  it('settles an entry wherever it is', () => {
    const queue = new SendQueue(10);
    for (const seq of [0, 1, 2]) queue.enqueue(item(seq));
    queue.take();
    expect(queue.settle('t2')?.seq).toBe(2);
    expect(queue.settle('t0')?.seq).toBe(0);
    expect(queue.settle('t0')).toBeUndefined();
    expect(queue.waiting().map((entry) => entry.seq)).toEqual([1]);
  });

  it('names the oldest entry in flight', () => {
    const queue = new SendQueue(10);
    for (const seq of [0, 1, 2]) queue.enqueue(item(seq));
    queue.take();
    queue.take();
    expect(queue.oldestInFlight()?.seq).toBe(0);
    queue.settle('t0');
    expect(queue.oldestInFlight()?.seq).toBe(1);
  });

  it('drains everything, in flight first', () => {
    const queue = new SendQueue(10);
    for (const seq of [0, 1, 2]) queue.enqueue(item(seq));
    queue.take();
    expect(queue.drain().map((entry) => entry.seq)).toEqual([0, 1, 2]);
    expect(queue.size).toBe(0);
    expect(queue.peek()).toBeUndefined();
  });

  it('sends in enqueue order whatever is requeued in between (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }), (requeues) => {
        const queue = new SendQueue(100);
        requeues.forEach((_, seq) => {
          queue.enqueue(item(seq));
        });
        const accepted: number[] = [];
        let step = 0;
        for (let entry = queue.take(); entry !== undefined; entry = queue.take()) {
          // Each take is either refused (back in line) or accepted; nothing else is in flight.
          if (requeues[step++ % requeues.length] && step < 200) queue.requeue(entry.tracingId);
          else {
            queue.settle(entry.tracingId);
            accepted.push(entry.seq);
          }
        }
        expect(accepted).toEqual(requeues.map((_, seq) => seq));
      }),
    );
  });
});
