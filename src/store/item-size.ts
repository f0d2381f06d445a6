/**
 * DynamoDB's item size, computed the way AWS documents it ("Item sizes and formats"): attribute names
 * and string values count their UTF-8 bytes; a number about one byte per two significant digits plus
 * one; binary its bytes; null and booleans one byte; a list or map 3 bytes plus one per element plus
 * its contents. Used to refuse items over the 400 KB limit before they reach the engine.
 */
import { utf8ByteLength } from '../domain/utf8.js';
import { StoreError } from './errors.js';

/** DynamoDB's maximum item size, 400 KB, names included. */
export const MAX_ITEM_BYTES = 400 * 1024;

function numberSize(value: number | bigint): number {
  const digits = String(value)
    .replace(/^-/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

/** Size in bytes of one attribute value (as the document client marshals plain JavaScript values). */
export function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8ByteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let total = 0;
    for (const member of value) total += valueSize(member);
    return total;
  }
  if (Array.isArray(value)) {
    let total = 3;
    for (const element of value) total += 1 + valueSize(element);
    return total;
  }
  if (typeof value === 'object') {
    let total = 3;
    for (const [name, element] of Object.entries(value)) {
      if (element === undefined) continue;
      total += 1 + utf8ByteLength(name) + valueSize(element);
    }
    return total;
  }
  return 0;
}

/** Size in bytes of a whole item: every attribute name plus its value. */
export function itemSize(item: Readonly<Record<string, unknown>>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    total += utf8ByteLength(name) + valueSize(value);
  }
  return total;
}

/** Throws STORE_ITEM_TOO_LARGE when the item would not fit; `what` names it (never its contents). */
export function assertItemFits(item: Readonly<Record<string, unknown>>, what: string): void {
  const size = itemSize(item);
  if (size > MAX_ITEM_BYTES) {
    throw new StoreError(
      'STORE_ITEM_TOO_LARGE',
      `${what} needs ${size} bytes; DynamoDB items hold at most ${MAX_ITEM_BYTES} bytes`,
    );
  }
}
