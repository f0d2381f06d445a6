import { describe, expect, it } from 'vitest';
import { PutCommand } from '../../src/store/document.js';
import { StoreError, toStoreError } from '../../src/store/errors.js';
import { assertItemFits, itemSize, MAX_ITEM_BYTES, valueSize } from '../../src/store/item-size.js';
import { describeOnEngines, uniqueId } from './harness.js';

describe('itemSize', () => {
  it('counts attribute names and string values in UTF-8 bytes', () => {
    expect(itemSize({ a: 'xyz' })).toBe(1 + 3);
    expect(itemSize({ é: '😀' })).toBe(2 + 4);
  });

  it('counts numbers by significant digits, booleans and null as one byte', () => {
    expect(valueSize(7)).toBe(2);
    expect(valueSize(123456)).toBe(4);
    expect(valueSize(true)).toBe(1);
    expect(valueSize(null)).toBe(1);
  });

  it('counts lists and maps with their overhead', () => {
    expect(valueSize(['a', 'b'])).toBe(3 + 2 * (1 + 1));
    expect(valueSize({ k: 'v' })).toBe(3 + 1 + 1 + 1);
  });

  it('refuses an item over 400 KB with STORE_ITEM_TOO_LARGE, naming no contents', () => {
    const secret = 'hunter2';
    const item = { pk: 'p', text: `${secret}${'x'.repeat(MAX_ITEM_BYTES)}` };
    expect(() => assertItemFits(item, 'transcript entry')).toThrow(StoreError);
    try {
      assertItemFits(item, 'transcript entry');
    } catch (error) {
      expect((error as StoreError).code).toBe('STORE_ITEM_TOO_LARGE');
      expect((error as StoreError).message).not.toContain(secret);
    }
  });
});

describe('toStoreError', () => {
  it('maps vendor errors to stable codes', () => {
    const named = (name: string) => Object.assign(new Error('x'), { name });
    expect(toStoreError(named('ConditionalCheckFailedException'), 'op').code).toBe('STORE_CONFLICT');
    expect(toStoreError(named('ProvisionedThroughputExceededException'), 'op')).toMatchObject({
      code: 'STORE_UNAVAILABLE',
      retryable: true,
    });
    expect(toStoreError(named('ValidationException'), 'op').code).toBe('STORE_INVALID_REQUEST');
    expect(toStoreError(named('Weird'), 'op')).toMatchObject({ code: 'STORE_FAILED', retryable: false });
  });
});

describeOnEngines('item size limit agrees with the engine', ({ store }) => {
  const itemOfSize = (bytes: number) => {
    const base = { pk: uniqueId('size'), sk: 'session', text: '' };
    return { ...base, text: 'x'.repeat(bytes - itemSize(base)) };
  };

  it('accepts an item of exactly 400 KB', async () => {
    const item = itemOfSize(MAX_ITEM_BYTES);
    expect(itemSize(item)).toBe(MAX_ITEM_BYTES);
    assertItemFits(item, 'item');
    await store().db.send(new PutCommand({ TableName: store().tables.sessions, Item: item }));
  });

  it('is refused by the engine too one byte over, so our check is not stricter than needed', async () => {
    const item = itemOfSize(MAX_ITEM_BYTES + 1);
    expect(() => assertItemFits(item, 'item')).toThrow(StoreError);
    await expect(
      store().db.send(new PutCommand({ TableName: store().tables.sessions, Item: item })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});
