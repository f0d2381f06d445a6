/**
 * Why a configuration was refused, at start. One base for every area (auth, relay, worker), so a
 * composition root catches one class and logs one shape. Codes are stable (docs/decisions.md, issue 18);
 * `key` names the environment variable an operator sets (or the option a caller gave). A message names
 * the key and never shows a value: values can be secrets.
 */
export const CONFIG_ERROR_CODES = [
  /** A required key is unset or blank. */
  'config_missing',
  /** A key is set to something unusable (not a URL, out of range, not one of the choices…). */
  'config_invalid',
  /** Two keys that exclude each other are both set (a secret and its ARN). */
  'config_conflict',
] as const;

export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];

export interface ConfigErrorOptions extends ErrorOptions {
  /** Default `config_invalid`. */
  readonly code?: ConfigErrorCode;
}

export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  readonly code: ConfigErrorCode;
  /** The environment variable (or option) at fault. */
  readonly key: string;
  /** Never for a frontend: configuration is the operator's business. */
  readonly expose = false;

  constructor(key: string, message: string, options: ConfigErrorOptions = {}) {
    super(message, options);
    this.code = options.code ?? 'config_invalid';
    this.key = key;
  }
}

/** An area's subclass (AuthConfigError, RelayConfigError, WorkerConfigError): what the checks throw. */
export type ConfigErrorClass = new (
  key: string,
  message: string,
  options?: ConfigErrorOptions,
) => ConfigError;
