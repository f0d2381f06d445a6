/**
 * Reading configuration: the environment's strings become typed values here, and the checks every area
 * shares refuse bad values with the area's ConfigError, naming the key and never the value. Loaders only
 * parse (`optional`, `numberFrom`); the typed constructors (`authConfig`, `relayConfig`, `workerConfig`)
 * run the checks, so a value given in code and one read from the environment meet the same rules.
 */
import { ConfigError, type ConfigErrorClass, type ConfigErrorCode } from './errors.js';

/** `process.env`, or any map of the same shape (a test's, a child process's). */
export type Env = Readonly<Record<string, string | undefined>>;

/** The value, trimmed; undefined when absent or blank. */
export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** The value of `key`, trimmed; undefined when unset or blank (an empty CloudFormation parameter). */
export function optional(env: Env, key: string): string | undefined {
  return nonEmpty(env[key]);
}

/** The number `key` holds; NaN for text that is not one, which `integer` then refuses naming the key. */
export function numberFrom(env: Env, key: string): number | undefined {
  const text = optional(env, key);
  return text === undefined ? undefined : Number(text);
}

export interface IntegerRule {
  readonly min: number;
  /** Default Number.MAX_SAFE_INTEGER. */
  readonly max?: number;
  /** Taken when the value is absent; without one an absent value is `config_missing`. */
  readonly fallback?: number;
  /** Said in the message: "a whole number of seconds from 1 to 86400". */
  readonly unit?: string;
}

export interface ConfigChecks {
  /** A ConfigError of the area's class, for a rule no check below states (a cross-field one). */
  error(code: ConfigErrorCode, key: string, message: string): ConfigError;
  /** The value, trimmed; `config_missing` when absent or blank (`hint` says what to set). */
  required(value: string | undefined, key: string, hint?: string): string;
  /** An `http://` or `https://` URL. */
  httpUrl(value: string | undefined, key: string): string;
  /** A `ws://` or `wss://` URL. */
  wsUrl(value: string | undefined, key: string): string;
  /** A whole number within the rule's bounds, or its fallback when absent. */
  integer(value: number | undefined, key: string, rule: IntegerRule): number;
  /** A duration: a whole number of milliseconds ≥ 1, or the fallback when absent. */
  millis(value: number | undefined, key: string, fallback: number): number;
  /** One of `choices`, exactly (callers normalise case first). */
  oneOf<const T extends string>(value: string, key: string, choices: readonly T[]): T;
  /** A Secrets Manager (or any AWS) ARN. */
  arn(value: string | undefined, key: string): string;
}

/** The checks, throwing the area's subclass of ConfigError. */
export function configChecks(ErrorClass: ConfigErrorClass = ConfigError): ConfigChecks {
  const error = (code: ConfigErrorCode, key: string, message: string) =>
    new ErrorClass(key, message, { code });
  const required = (value: string | undefined, key: string, hint?: string): string => {
    const trimmed = nonEmpty(value);
    if (trimmed === undefined) {
      throw error('config_missing', key, `Missing ${key}${hint === undefined ? '' : ` (${hint})`}.`);
    }
    return trimmed;
  };
  const url = (value: string | undefined, key: string, scheme: RegExp, what: string): string => {
    const text = required(value, key);
    if (!scheme.test(text) || !URL.canParse(text))
      throw error('config_invalid', key, `${key} must be ${what}.`);
    return text;
  };
  const integer = (value: number | undefined, key: string, rule: IntegerRule): number => {
    const { min, max = Number.MAX_SAFE_INTEGER, fallback, unit } = rule;
    if (value === undefined) {
      if (fallback === undefined) throw error('config_missing', key, `Missing ${key}.`);
      return fallback;
    }
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
      const noun = unit === undefined ? 'an integer' : `a whole number of ${unit}`;
      throw error('config_invalid', key, `${key} must be ${noun} ${range}.`);
    }
    return value;
  };
  return {
    error,
    required,
    httpUrl: (value, key) => url(value, key, /^https?:\/\//, 'an http(s) URL'),
    wsUrl: (value, key) => url(value, key, /^wss?:\/\//, 'a ws(s) URL'),
    integer,
    millis: (value, key, fallback) => integer(value, key, { min: 1, fallback, unit: 'milliseconds' }),
    oneOf(value, key, choices) {
      const found = choices.find((choice) => choice === value);
      if (found === undefined) {
        const list = choices.map((choice) => `"${choice}"`);
        const said = list.length < 2 ? list.join('') : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`;
        throw error('config_invalid', key, `${key} must be ${said}.`);
      }
      return found;
    },
    arn(value, key) {
      const text = required(value, key);
      if (!text.startsWith('arn:')) throw error('config_invalid', key, `${key} must be an ARN.`);
      return text;
    },
  };
}
