/**
 * Route selection as API Gateway does it for `$request.body.<path>` (aws-notes §2.1): the body is parsed
 * as JSON and the value at the path, stringified, names the route; non-JSON, a missing value or a key
 * with no route goes to `$default`. Pure.
 */

/** The route key for a message body: a configured route, '$default', or undefined when neither exists. */
export function selectRoute(
  body: string,
  path: readonly string[],
  routes: Readonly<Record<string, unknown>>,
): string | undefined {
  const key = selectionValue(body, path);
  if (key !== undefined && !key.startsWith('$') && Object.hasOwn(routes, key)) return key;
  return Object.hasOwn(routes, '$default') ? '$default' : undefined;
}

/** The stringified value at `path` in the JSON body, or undefined. */
export function selectionValue(body: string, path: readonly string[]): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  for (const segment of path) {
    if (
      typeof value !== 'object' ||
      value === null ||
      Array.isArray(value) ||
      !Object.hasOwn(value, segment)
    ) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[segment];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
