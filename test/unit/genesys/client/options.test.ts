import { describe, expect, it } from 'vitest';
import { DEFAULTS, tokenTag } from '../../../../src/genesys/client/index.js';
import { resolveOptions } from '../../../../src/genesys/client/options.js';
import { baseOptions, FakeClock } from './fakes.js';

describe('guest session options', () => {
  it('has frozen defaults with the documented values', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    expect(DEFAULTS).toMatchObject({
      pingIntervalMs: 15_000,
      echoIntervalMs: 30_000,
      ratePerSecond: 2,
      typingIntervalMs: 5_000,
      reorderWindowMs: 300,
      maxQueue: 100,
    });
  });

  it('applies defaults and keeps the injected parts', () => {
    const clock = new FakeClock();
    const resolved = resolveOptions(baseOptions(clock));
    expect(resolved.clock).toBe(clock);
    expect(resolved.maxQueue).toBe(100);
    expect(resolved.token).toBe('secret-token-abcd');
  });

  it('makes a token with newId when none is given', () => {
    const { token: _, ...options } = baseOptions(new FakeClock());
    expect(resolveOptions({ ...options, newId: () => 'fresh' }).token).toBe('fresh');
  });

  it('refuses unknown keys with GENESYS_CONFIG_INVALID, naming the key and the known ones', () => {
    const options = { ...baseOptions(new FakeClock()), pingInterval: 5 } as never;
    expect(() => resolveOptions(options)).toThrow(
      /^GuestSession: unknown option "pingInterval" \(known options: pingIntervalMs, /,
    );
    expect(() => resolveOptions(options)).toThrow(
      expect.objectContaining({ code: 'GENESYS_CONFIG_INVALID' }),
    );
  });

  it('refuses out-of-range numbers and missing injections, naming the key', () => {
    const options = baseOptions(new FakeClock());
    expect(() => resolveOptions({ ...options, maxQueue: 0 })).toThrow(/"maxQueue"/);
    expect(() => resolveOptions({ ...options, ratePerSecond: Number.NaN })).toThrow(/"ratePerSecond"/);
    expect(() => resolveOptions({ ...options, deploymentId: '' })).toThrow(/"deploymentId"/);
    expect(() => resolveOptions({ ...options, fetch: undefined } as never)).toThrow(/"fetch"/);
  });

  it('refuses a token over 2048 characters without echoing it', () => {
    const token = 'x'.repeat(2049);
    try {
      resolveOptions({ ...baseOptions(new FakeClock()), token });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain(token);
    }
  });

  it('tags a token by its last 4 characters only', () => {
    expect(tokenTag('0123456789abcdef')).toBe('…cdef');
  });
});
