import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  contextBudgetError,
  contextByteSize,
  flattenContext,
  type JsonValue,
  mergeContext,
  unflattenContext,
} from '../../../src/domain/context.js';
import { ConstraintError } from '../../../src/domain/errors.js';

type JsonObject = Record<string, JsonValue>;

function thrown(run: () => unknown): ConstraintError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConstraintError) return error;
    throw error;
  }
  throw new Error('expected a ConstraintError');
}

const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7396 MergePatch, written from the RFC's pseudocode, as the reference for mergeContext. */
function mergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** The same value built with every object's keys inserted in reverse order. */
function reverseKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .reverse()
      .map((key) => [key, reverseKeys(value[key] ?? null)]),
  );
}

const unit = fc.constantFrom('a', 'b', 'z', 'A', '_', '-', '0', '1', 'é', '€', '😀', ' ');
const keyArb = fc.string({ unit, minLength: 1, maxLength: 4 });
const scalarArb: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);

function jsonObjectArb(options: {
  key: fc.Arbitrary<string>;
  leaf: fc.Arbitrary<JsonValue>;
  arrays: boolean;
  minItems: number;
}): fc.Arbitrary<JsonObject> {
  const { key, leaf, arrays, minItems } = options;
  const tree = fc.letrec<{ value: JsonValue; object: JsonObject; array: JsonValue[] }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 5, depthIdentifier: 'json' },
      leaf,
      tie('object'),
      ...(arrays ? [tie('array')] : []),
    ),
    object: fc.dictionary(key, tie('value'), { minKeys: minItems, maxKeys: 4 }),
    array: fc.array(tie('value'), { minLength: minItems, maxLength: 4, depthIdentifier: 'json' }),
  }));
  return fc.dictionary(key, tree.value, { maxKeys: 5 });
}

describe('flattenContext', () => {
  it('turns nested objects and arrays into dotted keys in depth-first sorted order', () => {
    const flat = flattenContext({ cart: { value: 149.99, items: [{ sku: 'a' }, { sku: 'b', qty: 2 }] } });
    expect(Object.entries(flat.attributes)).toEqual([
      ['cart.items.0.sku', 'a'],
      ['cart.items.1.qty', '2'],
      ['cart.items.1.sku', 'b'],
      ['cart.value', '149.99'],
    ]);
    // Arrays are replaced whole by a merge (RFC 7396), so their path is cleared first.
    expect(flat.removed).toEqual(['cart.items']);
  });

  it('writes numbers with String(n) and booleans as true/false', () => {
    const flat = flattenContext({ big: 1e21, small: 1e-7, negZero: -0, yes: true, no: false, text: 'as is' });
    expect(flat.attributes).toEqual({
      big: '1e+21',
      small: '1e-7',
      negZero: '0',
      yes: 'true',
      no: 'false',
      text: 'as is',
    });
  });

  it('lists null leaves and arrays in removed and lets empty objects and arrays produce no attribute', () => {
    const flat = flattenContext({ a: null, b: { c: null, d: {} }, e: [], f: [null] });
    expect(flat.attributes).toEqual({});
    expect(flat.removed).toEqual(['a', 'b.c', 'e', 'f', 'f.0']);
    expect(flat.bytes).toBe(0);
  });

  it('counts bytes as the UTF-8 length of every key and every value', () => {
    const flat = flattenContext({ é: '😀', plain: 'x' });
    expect(flat.bytes).toBe(2 + 4 + 5 + 1);
  });

  it('accepts objects without a prototype', () => {
    const value = Object.assign(Object.create(null) as JsonObject, { a: 'x' });
    expect(flattenContext(value).attributes).toEqual({ a: 'x' });
  });

  it('rejects an empty key, naming where it is', () => {
    const error = thrown(() => flattenContext({ cart: { '': 'x' } }));
    expect(error.code).toBe('context_invalid');
    expect(error.message).toContain('"cart"');
  });

  it('rejects a key containing a dot', () => {
    const error = thrown(() => flattenContext({ user: { 'first.name': 'Ann' } }));
    expect(error.code).toBe('context_invalid');
    expect(error.message).toContain('"first.name"');
    expect(error.details).toEqual({ path: 'user.first.name' });
  });

  it('rejects __proto__, constructor and prototype keys', () => {
    const proto = JSON.parse('{"user":{"__proto__":{"admin":true}}}') as JsonObject;
    expect(thrown(() => flattenContext(proto)).message).toContain('"__proto__"');
    expect(thrown(() => flattenContext({ constructor: 'x' })).code).toBe('context_invalid');
    expect(thrown(() => flattenContext({ a: { prototype: 'x' } })).code).toBe('context_invalid');
  });

  it('rejects non-finite numbers, naming the path', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const error = thrown(() => flattenContext({ cart: { total: bad } }));
      expect(error.code).toBe('context_invalid');
      expect(error.message).toContain('"cart.total"');
    }
  });

  it('rejects values that are not JSON, naming the path', () => {
    const bad: unknown[] = [undefined, () => 1, Symbol('s'), 1n, new Date(0), new Map()];
    for (const value of bad) {
      const error = thrown(() => flattenContext({ list: [value] } as unknown as JsonObject));
      expect(error.code).toBe('context_invalid');
      expect(error.message).toContain('"list.0"');
    }
  });

  it('rejects a root that is not a plain object', () => {
    for (const root of [[], null, 'x', new Date(0)]) {
      expect(thrown(() => flattenContext(root as unknown as JsonObject)).code).toBe('context_invalid');
    }
  });

  it('rejects nesting deeper than maxDepth and accepts exactly maxDepth', () => {
    expect(flattenContext({ a: { b: 'x' } }, { maxDepth: 2 }).attributes).toEqual({ 'a.b': 'x' });
    const error = thrown(() => flattenContext({ a: { b: { c: 'x' } } }, { maxDepth: 2 }));
    expect(error.code).toBe('context_invalid');
    expect(error.message).toContain('"a.b.c"');
  });

  it('stops at the default depth of 16, also on a cycle', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(thrown(() => flattenContext(cyclic as JsonObject)).message).toContain('16');
  });

  it('throws a TypeError naming an unknown option and a RangeError for a bad value', () => {
    expect(() => flattenContext({}, { maxBytez: 1 } as never)).toThrow(/"maxBytez"/);
    expect(() => flattenContext({}, { maxDepth: 0 })).toThrow(RangeError);
    expect(() => flattenContext({}, { maxBytes: -1 })).toThrow(RangeError);
  });

  it('passes exactly at maxBytes and fails one byte over with the budget and overflow', () => {
    const value = { a: 'x'.repeat(1000), b: 'x'.repeat(999), c: 'x'.repeat(98) };
    expect(flattenContext(value, { maxBytes: 2100 }).bytes).toBe(2100);
    expect(thrown(() => flattenContext(value, { maxBytes: 2099 })).details.overflow).toBe(1);
    const error = thrown(() => flattenContext(value, { maxBytes: 2048 }));
    expect(error.code).toBe('context_too_large');
    expect(error.message).toBe(
      "Context needs 2100 bytes of custom attributes; the session's budget is 2048 bytes (52 over).",
    );
    expect(error.details).toEqual({
      bytes: 2100,
      maxBytes: 2048,
      overflow: 52,
      largestKeys: ['a', 'b', 'c'],
    });
  });

  it('counts multi-byte characters by their UTF-8 length against the budget', () => {
    // "k" + "😀" x 3 = 1 + 12 bytes, though it is 7 UTF-16 units.
    expect(flattenContext({ k: '😀😀😀' }, { maxBytes: 13 }).bytes).toBe(13);
    expect(thrown(() => flattenContext({ k: '😀😀😀' }, { maxBytes: 12 })).code).toBe('context_too_large');
  });
});

describe('contextByteSize and contextBudgetError', () => {
  it('sums the UTF-8 bytes of keys and values', () => {
    expect(contextByteSize({ 'a.b': 'é', c: '' })).toBe(3 + 2 + 1);
  });

  it('returns undefined within budget and names at most the three costliest keys over it', () => {
    const attributes = {
      small: 'x',
      big: 'x'.repeat(50),
      mid: 'x'.repeat(20),
      tiny: '',
      huge: 'x'.repeat(90),
    };
    expect(contextBudgetError(attributes, 1000)).toBeUndefined();
    expect(contextBudgetError(attributes, 10)?.details.largestKeys).toEqual(['huge', 'big', 'mid']);
  });
});

describe('unflattenContext', () => {
  it('rebuilds objects and turns levels keyed 0..n-1 into arrays', () => {
    expect(
      unflattenContext({ 'cart.items.1.sku': 'b', 'cart.items.0.sku': 'a', 'cart.value': '149.99' }),
    ).toEqual({
      cart: { items: [{ sku: 'a' }, { sku: 'b' }], value: '149.99' },
    });
  });

  it('keeps levels whose keys are not exactly 0..n-1 as objects', () => {
    expect(unflattenContext({ 'a.0': 'x', 'a.2': 'y', 'b.01': 'z', 'c.1': 'w' })).toEqual({
      a: { 0: 'x', 2: 'y' },
      b: { '01': 'z' },
      c: { 1: 'w' },
    });
  });

  it('keeps the top level an object even when its keys are 0..n-1', () => {
    expect(unflattenContext({ 0: 'a', 1: 'b' })).toEqual({ 0: 'a', 1: 'b' });
  });

  it('rejects a key that is both a value and a parent, in either order', () => {
    for (const attributes of [
      { a: '1', 'a.b': '2' },
      { 'a.b': '2', a: '1' },
    ]) {
      const error = thrown(() => unflattenContext(attributes));
      expect(error.code).toBe('context_invalid');
      expect(error.message).toContain('"a"');
    }
  });

  it('rejects empty and reserved segments', () => {
    for (const key of ['a..b', '.a', 'a.', 'a.__proto__.b', 'constructor', 'x.prototype']) {
      expect(thrown(() => unflattenContext({ [key]: 'v' })).code).toBe('context_invalid');
    }
  });
});

describe('mergeContext', () => {
  const current = {
    'cart.items.0.sku': 'a',
    'cart.items.1.sku': 'b',
    'cart.value': '10',
    cartel: 'x',
    user: 'ann',
  };

  it('removes a removed path and every key under it, and nothing that merely shares its prefix', () => {
    expect(mergeContext(current, flattenContext({ cart: { items: null } }))).toEqual({
      'cart.value': '10',
      cartel: 'x',
      user: 'ann',
    });
  });

  it('replaces an array whole, so a shrinking cart leaves no stale items (RFC 7396)', () => {
    expect(mergeContext(current, flattenContext({ cart: { items: [{ sku: 'z' }] } }))).toEqual({
      'cart.value': '10',
      cartel: 'x',
      user: 'ann',
      'cart.items.0.sku': 'z',
    });
    expect(mergeContext(current, flattenContext({ cart: { items: [] } }))).toEqual({
      'cart.value': '10',
      cartel: 'x',
      user: 'ann',
    });
  });

  it('sets new values and replaces a subtree that becomes a value', () => {
    expect(mergeContext(current, flattenContext({ cart: 'empty', user: 'bob' }))).toEqual({
      cartel: 'x',
      cart: 'empty',
      user: 'bob',
    });
  });

  it('replaces a value that becomes a parent', () => {
    expect(mergeContext(current, flattenContext({ user: { name: 'ann' } }))).toEqual({
      'cart.items.0.sku': 'a',
      'cart.items.1.sku': 'b',
      'cart.value': '10',
      cartel: 'x',
      'user.name': 'ann',
    });
  });

  it('returns a new object and leaves its inputs alone', () => {
    const before = { ...current };
    const patch = flattenContext({ user: null });
    const merged = mergeContext(current, patch);
    expect(merged).not.toBe(current);
    expect(current).toEqual(before);
    expect(merged).not.toHaveProperty('user');
  });

  it('keeps a __proto__ attribute as an own key rather than a prototype', () => {
    const merged = mergeContext(
      JSON.parse('{"__proto__":"x"}') as Record<string, string>,
      flattenContext({}),
    );
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['__proto__']);
  });

  it('agrees with RFC 7396 on documents and patches made of objects and scalars', () => {
    const small = fc.constantFrom('a', 'b', 'c');
    const leaf = fc.oneof(fc.constantFrom('x', 'y'), fc.integer({ min: 0, max: 3 }), fc.constant(null));
    const target = jsonObjectArb({ key: small, leaf, arrays: false, minItems: 0 });
    // Flattening drops empty objects, so a patch cannot say "make this an empty object".
    const patch = jsonObjectArb({ key: small, leaf, arrays: false, minItems: 1 });
    fc.assert(
      fc.property(target, patch, (doc, change) => {
        const merged = mergeContext(flattenContext(doc).attributes, flattenContext(change));
        const expected = flattenContext(mergePatch(doc, change) as JsonObject).attributes;
        expect(merged).toEqual(expected);
      }),
    );
  });
});

describe('context properties', () => {
  it('round-trips through flatten and unflatten for string leaves under non-index keys', () => {
    // A level keyed exactly 0..n-1 comes back as an array, so keys here never look like indexes.
    const key = keyArb.map((k) => `k${k}`);
    const leaf = fc.string({ unit: 'binary', maxLength: 6 });
    fc.assert(
      fc.property(jsonObjectArb({ key, leaf, arrays: true, minItems: 1 }), (value) => {
        expect(unflattenContext(flattenContext(value).attributes)).toEqual(value);
      }),
    );
  });

  it('gives the same attributes after unflatten and flatten again, for any JSON object', () => {
    fc.assert(
      fc.property(jsonObjectArb({ key: keyArb, leaf: scalarArb, arrays: true, minItems: 0 }), (value) => {
        const once = flattenContext(value).attributes;
        expect(flattenContext(unflattenContext(once)).attributes).toEqual(once);
      }),
    );
  });

  it('does not depend on the order in which the input keys were inserted', () => {
    fc.assert(
      fc.property(jsonObjectArb({ key: keyArb, leaf: scalarArb, arrays: true, minItems: 0 }), (value) => {
        const a = flattenContext(value);
        const b = flattenContext(reverseKeys(value) as JsonObject);
        expect(Object.entries(b.attributes)).toEqual(Object.entries(a.attributes));
        expect(b.removed).toEqual(a.removed);
      }),
    );
  });

  it('counts bytes as Buffer.byteLength of every key and value', () => {
    fc.assert(
      fc.property(jsonObjectArb({ key: keyArb, leaf: scalarArb, arrays: true, minItems: 0 }), (value) => {
        const flat = flattenContext(value);
        const expected = Object.entries(flat.attributes).reduce(
          (sum, [k, v]) => sum + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8'),
          0,
        );
        expect(flat.bytes).toBe(expected);
        expect(contextByteSize(flat.attributes)).toBe(expected);
      }),
    );
  });
});
