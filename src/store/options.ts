/**
 * House options convention (the house style, as in middy): one frozen `DEFAULTS` object spread with the caller's options,
 * unknown keys rejected, so a typo fails at construction instead of silently falling back to a default.
 */
export function withDefaults<T extends object>(defaults: T, options: Partial<T>, what: string): Readonly<T> {
  for (const key of Object.keys(options)) {
    if (!(key in defaults)) throw new TypeError(`${what}: unknown option "${key}"`);
  }
  return Object.freeze({ ...defaults, ...options });
}
