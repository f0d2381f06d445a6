import { describe, expect, it } from 'vitest';
import { rejectUnknownOptions, withDefaults } from '../../../src/domain/options.js';

describe('withDefaults', () => {
  const DEFAULTS: { readonly windowMs: number; readonly label: string | undefined } = Object.freeze({
    windowMs: 1000,
    label: 'a',
  });

  it('spreads the options over the defaults and freezes the result', () => {
    const merged = withDefaults('Thing', DEFAULTS, { windowMs: 5 });
    expect(merged).toEqual({ windowMs: 5, label: 'a' });
    expect(Object.isFrozen(merged)).toBe(true);
    expect(withDefaults('Thing', DEFAULTS)).toEqual(DEFAULTS);
  });

  it('keeps the default for an option set to undefined', () => {
    expect(withDefaults('Thing', DEFAULTS, { windowMs: undefined, label: undefined })).toEqual(DEFAULTS);
  });

  it('names the owner, the unknown key and the known keys when a key is unknown', () => {
    expect(() => withDefaults('Thing', DEFAULTS, { window: 5 } as never)).toThrow(
      new TypeError('Thing: unknown option "window" (known options: windowMs, label).'),
    );
  });

  it('refuses keys that only the prototype has', () => {
    expect(() => withDefaults('Thing', DEFAULTS, { toString: 1 } as never)).toThrow(
      /unknown option "toString"/,
    );
  });
});

describe('rejectUnknownOptions', () => {
  it('accepts known keys and says "(none)" when nothing is known', () => {
    expect(() => rejectUnknownOptions('Thing', ['a'], { a: 1 })).not.toThrow();
    expect(() => rejectUnknownOptions('Thing', [], { a: 1 })).toThrow(
      'Thing: unknown option "a" (known options: (none)).',
    );
  });
});
