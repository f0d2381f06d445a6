// UI state → Genesys custom attributes, by the relay's rules (flattenContext in src/domain/context.ts,
// kept equal by test/unit/web/context.test.ts): dotted keys, object keys sorted, array items by index,
// strings as they are, numbers as String(n), booleans "true"/"false", a null or an array listed in
// `removed`, bytes = UTF-8 bytes of every key plus every value. The page refuses what the relay would
// refuse as `context_invalid`, with the relay's words. It leaves `context_too_large` to the relay: only
// the relay knows the session's attributes that a merge adds to, and its refusal names the overflow.
// Pure: no DOM.

/** Most path segments a value may sit under (the relay's default). */
const MAX_DEPTH = 16;
// These names would reach Object.prototype, or confuse whoever turns the attributes back into objects.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const encoder = new TextEncoder();

/** UTF-8 bytes of a string (a lone surrogate counts 3, as it is encoded as U+FFFD). */
export function utf8Bytes(text) {
  return encoder.encode(text).length;
}

/** Input the relay would refuse as `context_invalid`. */
class Refusal extends Error {}

function where(parent) {
  return parent.length === 0 ? 'at the top level' : `under "${parent.join('.')}"`;
}

function checkKey(key, parent) {
  if (key === '') throw new Refusal(`Context has an empty key ${where(parent)}; keys must not be empty.`);
  if (key.includes('.')) {
    throw new Refusal(
      `Context key "${key}" ${where(parent)} contains "."; dots separate the levels of attribute names.`,
    );
  }
  if (FORBIDDEN_KEYS.has(key)) throw new Refusal(`Context key "${key}" ${where(parent)} is reserved.`);
}

function isPlainObject(value) {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function kindOf(value) {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

function walk(value, path, acc) {
  const name = path.join('.');
  if (path.length > MAX_DEPTH)
    throw new Refusal(`Context at "${name}" is nested deeper than ${MAX_DEPTH} levels.`);
  if (value === null) {
    acc.removed.push(name);
  } else if (typeof value === 'string') {
    acc.entries.push([name, value]);
  } else if (typeof value === 'boolean') {
    acc.entries.push([name, value ? 'true' : 'false']);
  } else if (typeof value === 'number') {
    // JSON.parse gives Infinity for a literal such as 1e999.
    if (!Number.isFinite(value))
      throw new Refusal(`Context value at "${name}" is ${value}; numbers must be finite.`);
    acc.entries.push([name, String(value)]);
  } else if (Array.isArray(value)) {
    // RFC 7396 replaces an array whole: its old items go first.
    acc.removed.push(name);
    value.forEach((item, index) => {
      walk(item, [...path, String(index)], acc);
    });
  } else if (typeof value === 'object' && isPlainObject(value)) {
    walkObject(value, path, acc);
  } else {
    throw new Refusal(`Context value at "${name}" is not JSON (${kindOf(value)}).`);
  }
}

function walkObject(value, path, acc) {
  for (const key of Object.keys(value).sort()) {
    checkKey(key, path);
    walk(value[key], [...path, key], acc);
  }
}

/**
 * `{attributes, removed, bytes}` for a UI state (a parsed JSON object), or `{error}` with the relay's
 * message when the relay would refuse it as `context_invalid`.
 */
export function flattenContext(value) {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    return { error: `Context must be a JSON object, got ${Array.isArray(value) ? 'array' : kindOf(value)}.` };
  }
  const acc = { entries: [], removed: [] };
  try {
    walkObject(value, [], acc);
  } catch (error) {
    if (error instanceof Refusal) return { error: error.message };
    throw error;
  }
  // fromEntries defines own properties, so no key can reach a prototype setter.
  const attributes = Object.fromEntries(acc.entries);
  let bytes = 0;
  for (const [key, text] of Object.entries(attributes)) bytes += utf8Bytes(key) + utf8Bytes(text);
  return { attributes, removed: acc.removed, bytes };
}
