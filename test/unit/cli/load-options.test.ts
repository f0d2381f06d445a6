import { describe, expect, it } from 'vitest';
import { parseDuration, parseRamp, parseThink } from '../../../cli/load/command.js';

describe('guest-relay load options', () => {
  it('reads a ramp as guests a second', () => {
    expect(parseRamp('10/s')).toBe(10);
    expect(parseRamp('0.5/s')).toBe(0.5);
    expect(parseRamp(' 20 ')).toBe(20);
    for (const bad of ['', '0', '-1/s', 'fast', '10/m', '20000'])
      expect(() => parseRamp(bad), bad).toThrow(/--ramp/);
  });

  it('reads think time as one time or a range, in ms or s', () => {
    expect(parseThink('0')).toEqual({ min: 0, max: 0 });
    expect(parseThink('1s')).toEqual({ min: 1000, max: 1000 });
    expect(parseThink('500ms')).toEqual({ min: 500, max: 500 });
    expect(parseThink('1-3s')).toEqual({ min: 1000, max: 3000 });
    expect(parseThink('200ms-1s')).toEqual({ min: 200, max: 1000 });
    for (const bad of ['', 'soon', '3-1s', '-1s', '11m', '1s-2s-3s'])
      expect(() => parseThink(bad), bad).toThrow(/--think/);
  });

  it('reads a duration in seconds, minutes or hours', () => {
    expect(parseDuration('60s')).toBe(60);
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1h')).toBe(3600);
    for (const bad of ['', '0', 'soon', '25h', '1d'])
      expect(() => parseDuration(bad), bad).toThrow(/--duration/);
  });
});
