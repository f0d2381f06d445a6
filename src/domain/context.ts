/**
 * UI state → Genesys custom attributes (participant data). Genesys takes a flat map of string to string
 * with a UTF-8 byte budget (`maxCustomDataBytes`), so nested state is flattened into dotted keys. A
 * context update is a JSON Merge Patch (RFC 7396): a null leaf removes that key and everything under it.
 */
import { ConstraintError } from './errors.js';
import { withDefaults } from './options.js';
import { utf8ByteLength } from './utf8.js';

/** Any value that JSON can carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** A flattened context, or a flattened context patch. */
export interface FlatContext {
  /** Dotted path → string value, in depth-first order with sorted keys. */
  readonly attributes: Record<string, string>;
  /**
   * Paths to clear, with everything under them, before `attributes` are applied: a null (RFC 7396
   * removes the key) and every array (RFC 7396 replaces an array whole, so a shorter array must not leave
   * the old array's extra items behind).
   */
  readonly removed: string[];
  /** UTF-8 bytes of every attribute key plus every value. */
  readonly bytes: number;
}

/** Options of {@link flattenContext}. */
export interface FlattenOptions {
  /** Byte budget for `bytes`; over it, flattening fails with `context_too_large`. No budget when absent. */
  readonly maxBytes?: number | undefined;
  /** Most path segments a value may sit under. */
  readonly maxDepth?: number | undefined;
}

const DEFAULTS: { readonly maxBytes: number | undefined; readonly maxDepth: number } = Object.freeze({
  maxBytes: undefined,
  maxDepth: 16,
});

// These names would reach Object.prototype, or confuse whoever turns the attributes back into objects.
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function validOptions(options: FlattenOptions): { maxBytes: number | undefined; maxDepth: number } {
  const { maxBytes, maxDepth } = withDefaults('flattenContext', DEFAULTS, options);
  if (maxBytes !== undefined && (!Number.isFinite(maxBytes) || maxBytes < 0)) {
    throw new RangeError(`flattenContext option "maxBytes" must be a finite number >= 0, got ${maxBytes}`);
  }
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1) {
    throw new RangeError(`flattenContext option "maxDepth" must be an integer >= 1, got ${maxDepth}`);
  }
  return { maxBytes, maxDepth };
}

function invalid(message: string, path: readonly string[]): ConstraintError {
  return new ConstraintError('context_invalid', message, { path: path.join('.') });
}

function where(parent: readonly string[]): string {
  return parent.length === 0 ? 'at the top level' : `under "${parent.join('.')}"`;
}

function checkKey(key: string, parent: readonly string[]): void {
  const path = [...parent, key];
  if (key === '') throw invalid(`Context has an empty key ${where(parent)}; keys must not be empty.`, path);
  if (key.includes('.')) {
    throw invalid(
      `Context key "${key}" ${where(parent)} contains "."; dots separate the levels of attribute names.`,
      path,
    );
  }
  if (FORBIDDEN_KEYS.has(key)) throw invalid(`Context key "${key}" ${where(parent)} is reserved.`, path);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

interface Walk {
  readonly maxDepth: number;
  readonly entries: [string, string][];
  readonly removed: string[];
}

function walk(value: unknown, path: string[], acc: Walk): void {
  const name = path.join('.');
  if (path.length > acc.maxDepth) {
    throw invalid(`Context at "${name}" is nested deeper than ${acc.maxDepth} levels.`, path);
  }
  if (value === null) {
    acc.removed.push(name);
    return;
  }
  switch (typeof value) {
    case 'string':
      acc.entries.push([name, value]);
      return;
    case 'boolean':
      acc.entries.push([name, value ? 'true' : 'false']);
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw invalid(`Context value at "${name}" is ${value}; numbers must be finite.`, path);
      }
      acc.entries.push([name, String(value)]);
      return;
    case 'object':
      if (Array.isArray(value)) {
        acc.removed.push(name);
        value.forEach((item: unknown, index) => {
          walk(item, [...path, String(index)], acc);
        });
        return;
      }
      if (isPlainObject(value)) {
        walkObject(value as Record<string, unknown>, path, acc);
        return;
      }
      break;
    default:
      break;
  }
  throw invalid(`Context value at "${name}" is not JSON (${kindOf(value)}).`, path);
}

function walkObject(value: Record<string, unknown>, path: string[], acc: Walk): void {
  // Sorting makes the output independent of how the caller happened to build the object.
  for (const key of Object.keys(value).sort()) {
    checkKey(key, path);
    walk(value[key], [...path, key], acc);
  }
}

function cost(key: string, value: string): number {
  return utf8ByteLength(key) + utf8ByteLength(value);
}

/** UTF-8 bytes of every key plus every value: how Genesys' own mobile SDK counts `maxCustomDataBytes`. */
export function contextByteSize(attributes: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [key, value] of Object.entries(attributes)) bytes += cost(key, value);
  return bytes;
}

function budgetError(
  attributes: Readonly<Record<string, string>>,
  bytes: number,
  maxBytes: number,
): ConstraintError | undefined {
  if (bytes <= maxBytes) return undefined;
  const overflow = bytes - maxBytes;
  // Array sort is stable, so keys of equal cost keep their attribute order.
  const largestKeys = Object.entries(attributes)
    .map(([key, value]) => ({ key, cost: cost(key, value) }))
    .sort((a, b) => b.cost - a.cost)
    .slice(0, 3)
    .map(({ key }) => key);
  return new ConstraintError(
    'context_too_large',
    `Context needs ${bytes} bytes of custom attributes; the session's budget is ${maxBytes} bytes (${overflow} over).`,
    { bytes, maxBytes, overflow, largestKeys },
  );
}

/**
 * The `context_too_large` error for attributes that need more than `maxBytes`, or undefined when they
 * fit. Its details name the bytes, the budget, the overflow and the (up to) three costliest keys.
 */
export function contextBudgetError(
  attributes: Readonly<Record<string, string>>,
  maxBytes: number,
): ConstraintError | undefined {
  return budgetError(attributes, contextByteSize(attributes), maxBytes);
}

/**
 * Flattens UI state into custom attributes: nested objects and arrays become dotted keys
 * (`{cart:{items:[{sku:'a'}]}}` → `cart.items.0.sku`), numbers go through `String(n)`, booleans become
 * "true"/"false", null leaves and arrays are listed in `removed` (see FlatContext), empty objects and arrays produce no
 * attribute.
 * Order is depth-first with object keys sorted by UTF-16 code unit and array items by index (as with any
 * object, integer-like top-level keys still enumerate first).
 *
 * @throws ConstraintError `context_invalid` for an empty, dotted or reserved key, a non-finite number, a
 *   value that is not JSON or nesting deeper than `maxDepth`; `context_too_large` when `maxBytes` is
 *   given and the attributes need more.
 */
export function flattenContext(value: Record<string, JsonValue>, options: FlattenOptions = {}): FlatContext {
  const { maxBytes, maxDepth } = validOptions(options);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    throw invalid(
      `Context must be a JSON object, got ${Array.isArray(value) ? 'array' : kindOf(value)}.`,
      [],
    );
  }
  const acc: Walk = { maxDepth, entries: [], removed: [] };
  walkObject(value, [], acc);
  // fromEntries defines own properties, so no key can reach a prototype setter.
  const attributes: Record<string, string> = Object.fromEntries(acc.entries);
  const bytes = contextByteSize(attributes);
  if (maxBytes !== undefined) {
    const error = budgetError(attributes, bytes, maxBytes);
    if (error) throw error;
  }
  return { attributes, removed: acc.removed, bytes };
}

type Tree = Map<string, Tree | string>;

const INDEX = /^(?:0|[1-9]\d*)$/;

/** Distinct canonical indexes, all below the count, are exactly 0..n-1. */
function isIndexRun(keys: readonly string[]): boolean {
  return keys.length > 0 && keys.every((key) => INDEX.test(key) && Number(key) < keys.length);
}

function toJson(tree: Tree): JsonValue {
  const keys = [...tree.keys()];
  if (isIndexRun(keys))
    return keys.sort((a, b) => Number(a) - Number(b)).map((key) => toJsonChild(tree, key));
  return Object.fromEntries(keys.sort().map((key) => [key, toJsonChild(tree, key)]));
}

function toJsonChild(tree: Tree, key: string): JsonValue {
  const node = tree.get(key);
  if (node === undefined) return null;
  return typeof node === 'string' ? node : toJson(node);
}

/**
 * The inverse of {@link flattenContext} where it is well defined: dotted keys become nested objects, a
 * level whose keys are exactly 0..n-1 becomes an array (the top level always stays an object), leaves
 * stay strings.
 *
 * @throws ConstraintError `context_invalid` for an empty or reserved segment, a non-string value, or a
 *   key that is both a value and a parent ("a" and "a.b").
 */
export function unflattenContext(attributes: Readonly<Record<string, string>>): Record<string, JsonValue> {
  const root: Tree = new Map();
  for (const [key, value] of Object.entries(attributes)) {
    const segments = key.split('.');
    if (typeof value !== 'string') {
      throw invalid(`Context attribute "${key}" is not a string (${kindOf(value)}).`, segments);
    }
    segments.forEach((segment, index) => {
      const parent = segments.slice(0, index);
      if (segment === '') throw invalid(`Context attribute "${key}" has an empty segment.`, segments);
      if (FORBIDDEN_KEYS.has(segment)) {
        throw invalid(
          `Context attribute "${key}" uses the reserved name "${segment}" ${where(parent)}.`,
          segments,
        );
      }
    });
    let node = root;
    for (let i = 0; i < segments.length - 1; i++) {
      const segment = segments[i] ?? '';
      const next = node.get(segment);
      if (typeof next === 'string') {
        const leaf = segments.slice(0, i + 1).join('.');
        throw invalid(
          `Context attributes "${leaf}" and "${key}" conflict: "${leaf}" is both a value and a parent.`,
          [leaf],
        );
      }
      if (next === undefined) {
        const created: Tree = new Map();
        node.set(segment, created);
        node = created;
      } else {
        node = next;
      }
    }
    const last = segments[segments.length - 1] ?? '';
    if (node.get(last) instanceof Map) {
      throw invalid(`Context attribute "${key}" is both a value and a parent of other attributes.`, segments);
    }
    node.set(last, value);
  }
  const keys = [...root.keys()].sort();
  return Object.fromEntries(keys.map((key) => [key, toJsonChild(root, key)]));
}

/** Every proper prefix of a dotted path, at segment boundaries: "a.b.c" → "a", "a.b". */
function ancestorsOf(path: string): string[] {
  const found: string[] = [];
  for (let i = path.indexOf('.'); i !== -1; i = path.indexOf('.', i + 1)) found.push(path.slice(0, i));
  return found;
}

/**
 * Applies a flattened patch to current attributes, as RFC 7396 would apply the unflattened patch to the
 * unflattened document: a removed path (a null, or an array, which is replaced whole) drops that key and
 * every key under it; a set path replaces the key, every key under it and any ancestor that was a plain
 * value. Pure: returns a new object.
 *
 * One case cannot follow RFC 7396: flattened attributes cannot tell an array from an object keyed
 * "0".."n-1", so an object patched over what was an array keeps the array's items where RFC 7396 would
 * drop them. Send null for that key first to clear it.
 */
export function mergeContext(
  current: Readonly<Record<string, string>>,
  patch: Pick<FlatContext, 'attributes' | 'removed'>,
): Record<string, string> {
  const replaced = new Set([...patch.removed, ...Object.keys(patch.attributes)]);
  const becomeParents = new Set([...replaced].flatMap(ancestorsOf));
  const kept = Object.entries(current).filter(
    ([key]) =>
      !becomeParents.has(key) && !replaced.has(key) && !ancestorsOf(key).some((a) => replaced.has(a)),
  );
  return Object.fromEntries([...kept, ...Object.entries(patch.attributes)]);
}
