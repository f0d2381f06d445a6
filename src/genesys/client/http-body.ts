/**
 * Bounded reads of HTTP answers (caps in ./limits.ts). `response.text()` and `json()` read a body whole,
 * however big; here a declared `content-length` over the cap is refused before any byte is read, and
 * the stream is cancelled as soon as the bytes read pass the cap (a body may declare nothing, or lie).
 */
import { GenesysError } from '../errors.js';
import type { FetchResponse } from './options.js';

function tooLarge(what: string, detail: string): GenesysError {
  return new GenesysError('GENESYS_RESPONSE_TOO_LARGE', `${what}: the answer ${detail}`);
}

/** Cancels the rest of a body (releases the connection); never throws. */
export async function cancelBody(response: FetchResponse): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Already errored or locked: nothing left to release.
  }
}

/**
 * The whole body, if it is at most `maxBytes`.
 *
 * @throws GenesysError `GENESYS_RESPONSE_TOO_LARGE` when `content-length` or the bytes read pass the cap
 *   (the rest is not read). Stream errors (abort, reset) pass through as they are.
 */
export async function readCapped(
  response: FetchResponse,
  maxBytes: number,
  what: string,
): Promise<Uint8Array> {
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    await cancelBody(response);
    throw tooLarge(what, `declares ${Number(declared)} bytes, over the ${maxBytes}-byte cap`);
  }
  const body = response.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(what, `is over the ${maxBytes}-byte cap; reading stopped at ${total} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * The body parsed as JSON, read with `readCapped`.
 *
 * @throws GenesysError `GENESYS_RESPONSE_TOO_LARGE`, or `GENESYS_HTTP_ERROR` when it is not JSON.
 */
export async function readJsonCapped(
  response: FetchResponse,
  maxBytes: number,
  what: string,
): Promise<unknown> {
  const bytes = await readCapped(response, maxBytes, what);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch (cause) {
    throw new GenesysError('GENESYS_HTTP_ERROR', `${what}: the answer is not JSON`, { cause });
  }
}

/** Reads and drops a body that is not used (an error answer), at most `maxBytes` of it; never throws. */
export async function discardBody(response: FetchResponse, maxBytes: number): Promise<void> {
  try {
    await readCapped(response, maxBytes, 'discarded answer');
  } catch {
    // Over the cap (already cancelled) or broken: either way nothing more is read.
  }
}
