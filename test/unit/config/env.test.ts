import { describe, expect, it } from 'vitest';
import {
  CONFIG_ERROR_CODES,
  ConfigError,
  configChecks,
  numberFrom,
  optional,
} from '../../../src/config/index.js';

class AreaConfigError extends ConfigError {
  override readonly name = 'AreaConfigError';
}

const check = configChecks(AreaConfigError);

/** The ConfigError `run` throws. */
function refusal(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AreaConfigError);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('ConfigError', () => {
  it('has a stable code (config_invalid unless told), the key, and is never exposed', () => {
    const error = new ConfigError('SOME_KEY', 'SOME_KEY is wrong.');
    expect(error).toMatchObject({
      name: 'ConfigError',
      code: 'config_invalid',
      key: 'SOME_KEY',
      expose: false,
    });
    const cause = new Error('inner');
    expect(new ConfigError('K', 'm', { code: 'config_missing', cause })).toMatchObject({
      code: 'config_missing',
      cause,
    });
    expect(CONFIG_ERROR_CODES).toEqual(['config_missing', 'config_invalid', 'config_conflict']);
  });
});

describe('reading the environment', () => {
  it('trims values and takes blank ones as unset', () => {
    expect(optional({ K: '  v  ' }, 'K')).toBe('v');
    expect(optional({ K: '   ' }, 'K')).toBeUndefined();
    expect(optional({}, 'K')).toBeUndefined();
  });

  it('reads numbers, and text that is not one as NaN for the checks to refuse', () => {
    expect(numberFrom({ K: ' 42 ' }, 'K')).toBe(42);
    expect(numberFrom({ K: '' }, 'K')).toBeUndefined();
    expect(numberFrom({ K: 'soon' }, 'K')).toBeNaN();
    expect(refusal(() => check.integer(numberFrom({ K: 'soon' }, 'K'), 'K', { min: 0 })).key).toBe('K');
  });
});

describe('configChecks', () => {
  it('required: config_missing naming the key, with a hint when given', () => {
    expect(check.required(' v ', 'K')).toBe('v');
    for (const value of [undefined, '', '  ']) {
      const error = refusal(() => check.required(value, 'K', 'for example "x"'));
      expect(error).toMatchObject({
        code: 'config_missing',
        key: 'K',
        message: 'Missing K (for example "x").',
      });
    }
  });

  it('httpUrl and wsUrl: the scheme, and a URL at all; the message never quotes the value', () => {
    expect(check.httpUrl('https://h.example/p', 'K')).toBe('https://h.example/p');
    expect(check.wsUrl('ws://127.0.0.1:1', 'K')).toBe('ws://127.0.0.1:1');
    for (const value of ['wss://h', 'h.example', 'http://', 'ftp://h']) {
      const error = refusal(() => check.httpUrl(value, 'K'));
      expect(error).toMatchObject({ code: 'config_invalid', key: 'K' });
      expect(error.message).not.toContain(value);
    }
    for (const value of ['https://h', 'WSS://h', 'ws://']) {
      expect(refusal(() => check.wsUrl(value, 'K')).code).toBe('config_invalid');
    }
    expect(refusal(() => check.wsUrl(undefined, 'K')).code).toBe('config_missing');
  });

  it('integer: bounds, the fallback when absent, config_missing without one', () => {
    expect(check.integer(undefined, 'K', { min: 0, fallback: 7 })).toBe(7);
    expect(check.integer(65_535, 'K', { min: 0, max: 65_535 })).toBe(65_535);
    for (const value of [-1, 1.5, 65_536, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(refusal(() => check.integer(value, 'K', { min: 0, max: 65_535 })).code, String(value)).toBe(
        'config_invalid',
      );
    }
    expect(refusal(() => check.integer(undefined, 'K', { min: 0 })).code).toBe('config_missing');
    expect(refusal(() => check.integer(0, 'K', { min: 1, max: 9, unit: 'seconds' })).message).toBe(
      'K must be a whole number of seconds from 1 to 9.',
    );
  });

  it('millis: a whole number of milliseconds ≥ 1, or the fallback', () => {
    expect(check.millis(undefined, 'K', 300)).toBe(300);
    expect(check.millis(1, 'K', 300)).toBe(1);
    expect(refusal(() => check.millis(0, 'K', 300)).message).toBe(
      'K must be a whole number of milliseconds ≥ 1.',
    );
  });

  it('oneOf: exactly one of the choices', () => {
    expect(check.oneOf('iam', 'K', ['iam', 'none'])).toBe('iam');
    const error = refusal(() => check.oneOf('IAM', 'K', ['iam', 'none']));
    expect(error).toMatchObject({ code: 'config_invalid', message: 'K must be "iam" or "none".' });
  });

  it('arn: an ARN', () => {
    expect(check.arn('arn:aws:secretsmanager:eu-west-1:1:secret:x', 'K')).toMatch(/^arn:/);
    expect(refusal(() => check.arn('secret-name', 'K')).code).toBe('config_invalid');
    expect(refusal(() => check.arn(' ', 'K')).code).toBe('config_missing');
  });

  it('error: the area class with the code asked for', () => {
    expect(check.error('config_conflict', 'K', 'Set K or L, not both.')).toMatchObject({
      name: 'AreaConfigError',
      code: 'config_conflict',
      key: 'K',
    });
  });

  it('throws a plain ConfigError without an area class', () => {
    expect(() => configChecks().required(undefined, 'K')).toThrow(ConfigError);
  });
});
