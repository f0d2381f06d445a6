/**
 * Merges a middleware's options over its defaults, refusing keys it does not know, so that a typo
 * (`loger`) fails at start instead of silently using a default.
 */
export function withDefaults<T extends object>(middleware: string, defaults: T, options: Partial<T> = {}): T {
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(defaults, key)) {
      const known = Object.keys(defaults).join(', ') || '(none)';
      throw new TypeError(`${middleware}: unknown option "${key}" (known options: ${known}).`);
    }
  }
  return { ...defaults, ...options };
}
