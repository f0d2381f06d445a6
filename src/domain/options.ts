/**
 * The house options convention (STYLE.md §4, as in middy), in one place for src/, lambdas/ and the
 * domain itself: one `DEFAULTS` object spread with the caller's options, unknown keys rejected, so that
 * a typo (`loger`) fails at construction instead of silently falling back to a default. Range checks
 * stay with each owner, after the merge.
 */

/** What a caller may pass for defaults `T`: any subset of its keys; `undefined` means "the default". */
export type OptionsOf<T> = { readonly [K in keyof T]?: T[K] | undefined };

/**
 * @throws TypeError `<name>: unknown option "<key>" (known options: a, b).` for the first key of
 *   `options` that is not in `known`.
 */
export function rejectUnknownOptions(name: string, known: Iterable<string>, options: object): void {
  const keys = new Set(known);
  for (const key of Object.keys(options)) {
    if (!keys.has(key)) {
      const list = [...keys].join(', ') || '(none)';
      throw new TypeError(`${name}: unknown option "${key}" (known options: ${list}).`);
    }
  }
}

/**
 * `defaults` with the caller's `options` over them, frozen. A key that `defaults` does not own is
 * refused (see {@link rejectUnknownOptions}); an option set to `undefined` keeps the default, as `??`
 * would, so a value read from an absent setting cannot erase a default.
 */
export function withDefaults<T extends object>(
  name: string,
  defaults: T,
  options: OptionsOf<T> | undefined = {},
): Readonly<T> {
  rejectUnknownOptions(name, Object.keys(defaults), options);
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) merged[key] = value;
  }
  return Object.freeze(merged) as Readonly<T>;
}
