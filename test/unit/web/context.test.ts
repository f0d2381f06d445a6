/**
 * The page counts and checks UI state with its own copy of the relay's flattening (web/context.js, plain
 * browser JavaScript). It must agree with src/domain/context.ts: the same attributes, removed paths and
 * bytes, and the same refusal, word for word, of whatever the relay refuses as `context_invalid`. Over
 * the budget is the relay's to refuse (`context_too_large`); the page only shows the bytes it counts.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONSTRAINTS } from '../../../src/domain/constraints.js';
import { flattenContext, type JsonValue } from '../../../src/domain/context.js';
import { ConstraintError } from '../../../src/domain/errors.js';
import { mulberry32 as seeded } from '../../../src/domain/seeded-random.js';
import { parseClientFrame } from '../../../src/protocol/parse-client-frame.js';
import { flattenContext as flattenOnPage, utf8Bytes } from '../../../web/context.js';

/** What the relay makes of a UI state: its flattening, or the message it refuses it with. */
function onRelay(value: unknown) {
  try {
    return flattenContext(value as Record<string, JsonValue>);
  } catch (error) {
    if (!(error instanceof ConstraintError)) throw error;
    expect(error.code).toBe('context_invalid');
    return { error: error.message };
  }
}

/** The page and the relay agree on `value`, down to the order of the attributes. */
function expectSame(value: unknown) {
  const relay = onRelay(value);
  const page = flattenOnPage(value);
  expect(page).toEqual(relay);
  if ('attributes' in page && 'attributes' in relay)
    expect(Object.entries(page.attributes)).toEqual(Object.entries(relay.attributes));
  return page;
}

/** `leaf` under `levels` keys: a.a.….a */
const deep = (levels: number, leaf: string): string =>
  `${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`;

/** UI states as the page reads them: JSON text from the editor. */
const CASES: readonly (readonly [string, string])[] = [
  ['an empty object', '{}'],
  ['strings as they are', '{"page":"home","blank":"","spaces":"  two  words "}'],
  ['nested objects as dotted keys', '{"cart":{"value":149.99,"owner":{"name":"Ada"}}}'],
  ['arrays by index, listed as removed', '{"cart":{"items":[{"sku":"A1"},{"sku":"B2","qty":2}]}}'],
  ['arrays of arrays', '{"grid":[[1,2],[],[3,[4]]]}'],
  ['empty objects and arrays: nothing', '{"a":{},"b":[],"c":{"d":{}}}'],
  ['null removes', '{"gone":null,"cart":{"items":null},"list":[null,1]}'],
  [
    'numbers in their shortest form',
    '{"a":1e21,"b":1e-7,"c":-0,"d":0.1,"e":123456789012345678901234,"f":5e-324}',
  ],
  ['integers past 2^53', '{"big":9007199254740993,"neg":-9007199254740993}'],
  ['booleans', '{"yes":true,"no":false}'],
  ['keys sorted by code unit', '{"b":1,"a":2,"B":3,"é":4,"😀":5,"ａ":6,"aa":7}'],
  ['integer-like keys enumerate first', '{"b":"x","10":"y","2":"z","-1":"w","01":"v"}'],
  ['unicode keys and values', '{"名前":"太郎","emoji":"👩‍💻🇫🇷","ß":{"ǅ":"Ω≈ç√"}}'],
  ['a lone surrogate', '{"k\\ud800":"v\\udfff"}'],
  ['escapes and controls', '{"tab\\t":"line\\nbreak\\u0000","quote\\"":"\\\\"}'],
  ['sixteen levels', deep(16, '"x"')],
  ['the string "null" and "[]"', '{"a":"null","b":"[]","c":"{}"}'],
  ['an empty key at the top', '{"":1}'],
  ['an empty key inside', '{"a":{"b":{"":1}}}'],
  ['a dotted key', '{"a.b":1}'],
  ['a dotted key inside an array', '{"a":[{"b.c":1}]}'],
  ['a __proto__ key', '{"__proto__":{"x":1}}'],
  ['a constructor key inside', '{"a":{"constructor":"x"}}'],
  ['a prototype key', '{"prototype":1}'],
  ['a number too large for a double', '{"n":1e999}'],
  ['a negative one', '{"a":[-1e400]}'],
  ['seventeen levels', deep(17, '"x"')],
  ['seventeen levels of null', deep(17, 'null')],
  ['seventeen levels of an empty object', deep(17, '{}')],
  ['a deep array', `{"a":${'['.repeat(16)}1${']'.repeat(16)}}`],
  ['the first refusal in sorted order', '{"z.z":1,"a":{"":2},"m":1e999}'],
  ['an array, not an object', '[1,2]'],
  ['null, not an object', 'null'],
  ['a string, not an object', '"x"'],
  ['a number, not an object', '42'],
];

const KEYS = [
  'a',
  'b',
  'Z',
  'items',
  '0',
  '10',
  '名',
  '😀',
  'é',
  'ﬀ',
  ' ',
  'a b',
  '\ud83d',
  '-1',
  '1.5',
  '',
  'x.y',
  '__proto__',
  'constructor',
];
const STRINGS = ['', 'x', 'héllo', '日本語', '👍🏽', '\ud800', 'null', '"q"', '\n', '1e999'];
const NUMBERS = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE, 149.99];

/** Random JSON text of a UI state: mostly valid, sometimes with something the relay refuses. */
function randomUiState(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  // Rarely a key the relay refuses, so that most objects get past their first keys.
  const key = (): string => (random() < 0.97 ? pick(KEYS.slice(0, -4)) : pick(KEYS.slice(-4)));
  const value = (depth: number): string => {
    const roll = random();
    if (depth < 20 && roll < (depth > 12 ? 0.6 : 0.25)) return object(depth + 1);
    if (depth < 20 && roll < 0.4) {
      const items = Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return `[${items.join(',')}]`;
    }
    if (roll < 0.6) return JSON.stringify(pick(STRINGS));
    if (roll < 0.8) return random() < 0.02 ? '1e999' : JSON.stringify(pick(NUMBERS));
    if (roll < 0.9) return random() < 0.5 ? 'true' : 'false';
    return 'null';
  };
  const object = (depth: number): string => {
    const members = Array.from(
      { length: Math.floor(random() * 5) },
      () => `${JSON.stringify(key())}:${value(depth)}`,
    );
    return `{${members.join(',')}}`;
  };
  // Now and then a state that starts 14 levels down, to reach the relay's depth limit.
  const levels = random() < 0.1 ? 14 : 0;
  return deep(levels, object(levels + 1));
}

describe('web/context.js', () => {
  it.each(CASES)('flattens as the relay does: %s', (_, text) => {
    expectSame(JSON.parse(text));
  });

  it('refuses what the relay refuses, with its words', () => {
    expect(flattenOnPage(JSON.parse('{"a":{"b.c":1}}'))).toEqual({
      error: 'Context key "b.c" under "a" contains "."; dots separate the levels of attribute names.',
    });
    expect(flattenOnPage(JSON.parse('{"n":1e999}'))).toEqual({
      error: 'Context value at "n" is Infinity; numbers must be finite.',
    });
  });

  it('agrees with the relay on 500 random UI states, valid and refused', () => {
    const random = seeded(18);
    const outcomes = { flattened: 0, refused: 0 };
    const reasons = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const text = randomUiState(random);
      const page = expectSame(JSON.parse(text));
      outcomes['error' in page ? 'refused' : 'flattened'] += 1;
      if ('error' in page) reasons.add(page.error.replace(/^Context .*?(\w+)\.$/, '$1'));
    }
    // The generator must reach both sides, or the agreement proves little.
    expect(outcomes.flattened).toBeGreaterThan(200);
    expect(outcomes.refused).toBeGreaterThan(50);
    expect([...reasons].sort()).toEqual(['empty', 'finite', 'levels', 'names', 'reserved']);
  });

  it('counts UTF-8 bytes as the relay does, a lone surrogate as 3', () => {
    expect(['a', 'é', '€', '😀', '\ud800', '\udc00x'].map(utf8Bytes)).toEqual([1, 2, 3, 4, 3, 4]);
  });

  it("leaves the budget to the relay: a context frame is refused exactly when the page's count is over it", () => {
    const random = seeded(5);
    let checked = 0;
    for (let i = 0; i < 300; i++) {
      const data = JSON.parse(randomUiState(random));
      const page = flattenOnPage(data);
      if ('error' in page || page.bytes === 0) continue;
      for (const budget of [page.bytes - 1, page.bytes]) {
        const constraints = { ...DEFAULT_CONSTRAINTS, maxCustomDataBytes: budget };
        const result = parseClientFrame(JSON.stringify({ action: 'context', data }), { constraints });
        if (budget < page.bytes) {
          expect(result.ok).toBe(false);
          if (!result.ok) {
            expect(result.error.code).toBe('context_too_large');
            expect(result.error.details).toMatchObject({ bytes: page.bytes, maxBytes: budget });
          }
        } else expect(result.ok, JSON.stringify(data)).toBe(true);
      }
      checked += 1;
    }
    expect(checked).toBeGreaterThan(100);
  });
});
