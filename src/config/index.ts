/** Configuration shared by every area: the Env type, the checks, and ConfigError with its codes. */
export {
  type ConfigChecks,
  configChecks,
  type Env,
  type IntegerRule,
  nonEmpty,
  numberFrom,
  optional,
} from './env.js';
export {
  CONFIG_ERROR_CODES,
  ConfigError,
  type ConfigErrorClass,
  type ConfigErrorCode,
  type ConfigErrorOptions,
} from './errors.js';
