import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../../src/domain/bounded-map.js';

describe('BoundedMap', () => {
  it('forgets the least recently set key beyond its limit', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3); // a is the newest now
    map.set('c', 4);
    expect([map.has('a'), map.has('b'), map.has('c')]).toEqual([true, false, true]);
    expect(map.get('a')).toBe(3);
    expect(map.size).toBe(2);
    map.delete('a');
    expect(map.get('a')).toBeUndefined();
  });

  it('refuses a limit below 1', () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
  });
});
