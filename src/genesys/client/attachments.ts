/**
 * Guest attachments (reference §9): the presigned PUT and the bookkeeping of upload outcomes. Genesys
 * says an upload is done with an `UploadSuccessEvent` push, not with the PUT's 200 (its mobile SDK waits
 * for the push too), so an upload is settled by that push or by `UploadFailureEvent`.
 */
import type { Clock } from '../../domain/clock.js';
import { GenesysError } from '../errors.js';
import { discardBody, readCapped } from './http-body.js';
import { MAX_UPLOAD_ANSWER_BYTES } from './limits.js';
import type { FetchLike } from './options.js';
import type { UploadUrlCheck } from './upload-url.js';

/** What `onAttachment` answers: where and how to PUT the bytes. */
export interface UploadSlot {
  readonly attachmentId: string;
  readonly url: string;
  /** Every header Genesys returned; the PUT must carry all of them (e.g. `x-amz-tagging`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly fileName?: string;
  readonly fileType?: string;
  readonly fileSize?: number;
}

export interface UploadResult {
  readonly attachmentId: string;
  readonly downloadUrl?: string;
}

/** A fresh download URL for an uploaded attachment (`getAttachment`). */
export interface AttachmentInfo {
  readonly attachmentId: string;
  readonly url: string;
  readonly fileName?: string;
  readonly fileType?: string;
  readonly fileSize?: number;
}

/** The slot's headers plus `Content-Type` (unless Genesys already signed one, which then wins). */
export function uploadHeaders(
  slotHeaders: Readonly<Record<string, string>>,
  fileType: string,
): Record<string, string> {
  const headers = { ...slotHeaders };
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = fileType;
  }
  return headers;
}

/**
 * PUTs the bytes to a presigned URL, once `checkUrl` allowed it (./upload-url.ts), without following
 * redirects. A non-2xx answer is an upload failure with the HTTP status; the answer's body is read with
 * a cap (./limits.ts) and dropped.
 *
 * @throws GenesysError `GENESYS_UPLOAD_URL_REFUSED` (nothing was sent), `GENESYS_UPLOAD_FAILED`, or
 *   `GENESYS_RESPONSE_TOO_LARGE`.
 */
export async function putToSlot(options: {
  readonly fetch: FetchLike;
  readonly slot: UploadSlot;
  readonly fileType: string;
  readonly bytes: Uint8Array;
  readonly checkUrl: UploadUrlCheck;
  readonly signal?: AbortSignal | undefined;
}): Promise<void> {
  const { slot } = options;
  // Throws before any request; the URL is then sent as Genesys wrote it (its signature covers it).
  options.checkUrl(slot.url);
  let response: Awaited<ReturnType<FetchLike>>;
  try {
    response = await options.fetch(slot.url, {
      method: 'PUT',
      headers: uploadHeaders(slot.headers, options.fileType),
      body: options.bytes,
      redirect: 'error',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (cause) {
    throw new GenesysError('GENESYS_UPLOAD_FAILED', `Upload of attachment ${slot.attachmentId} failed`, {
      cause,
    });
  }
  if (!response.ok) {
    await discardBody(response, MAX_UPLOAD_ANSWER_BYTES);
    throw new GenesysError(
      'GENESYS_UPLOAD_FAILED',
      `Upload of attachment ${slot.attachmentId} was refused: HTTP ${response.status}`,
      { genesysCode: response.status },
    );
  }
  // Read (and drop) the answer so the connection is released; a success answer is empty or short.
  try {
    await readCapped(response, MAX_UPLOAD_ANSWER_BYTES, `Upload of attachment ${slot.attachmentId}`);
  } catch (error) {
    if (error instanceof GenesysError) throw error;
    throw new GenesysError('GENESYS_UPLOAD_FAILED', `Upload of attachment ${slot.attachmentId} failed`, {
      cause: error,
    });
  }
}

type Outcome =
  | { readonly ok: true; readonly result: UploadResult }
  | { readonly ok: false; readonly error: Error };

interface Waiter {
  readonly resolve: (result: UploadResult) => void;
  readonly reject: (error: Error) => void;
  readonly timer: unknown;
}

/**
 * Outcomes of uploads by attachment id. An outcome that arrives before anyone waits (a frontend PUT
 * the bytes itself and was quick) is remembered, for the slots this session issued, up to `capacity`
 * of them; waiters time out after `timeoutMs`.
 */
export class UploadTracker {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #capacity: number;
  // Insertion-ordered, so the oldest expected id is dropped first when full.
  readonly #expected = new Map<string, Outcome | undefined>();
  readonly #waiters = new Map<string, Waiter[]>();

  constructor(clock: Clock, timeoutMs: number, capacity = 32) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#capacity = capacity;
  }

  /** Remembers an id this session issued a slot for, so an early outcome is kept. */
  expect(attachmentId: string): void {
    this.#expected.set(attachmentId, undefined);
    while (this.#expected.size > this.#capacity) {
      const oldest = this.#expected.keys().next();
      if (oldest.done) break;
      this.#expected.delete(oldest.value);
    }
  }

  /** Ids someone is waiting for. */
  waiting(): string[] {
    return [...this.#waiters.keys()];
  }

  /** Records an outcome; returns true when it concerned an upload of this session. */
  settle(attachmentId: string, outcome: Outcome): boolean {
    const waiters = this.#waiters.get(attachmentId);
    if (waiters !== undefined) {
      this.#waiters.delete(attachmentId);
      this.#expected.delete(attachmentId);
      for (const waiter of waiters) {
        this.#clock.clearTimeout(waiter.timer);
        if (outcome.ok) waiter.resolve(outcome.result);
        else waiter.reject(outcome.error);
      }
      return true;
    }
    if (this.#expected.has(attachmentId)) {
      this.#expected.set(attachmentId, outcome);
      return true;
    }
    return false;
  }

  /** Resolves with the upload's result, or rejects with its failure or GENESYS_TIMEOUT. */
  wait(attachmentId: string): Promise<UploadResult> {
    const known = this.#expected.get(attachmentId);
    if (known !== undefined) {
      this.#expected.delete(attachmentId);
      return known.ok ? Promise.resolve(known.result) : Promise.reject(known.error);
    }
    return new Promise<UploadResult>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        const list = this.#waiters.get(attachmentId)?.filter((waiter) => waiter.timer !== timer) ?? [];
        if (list.length > 0) this.#waiters.set(attachmentId, list);
        else this.#waiters.delete(attachmentId);
        reject(
          new GenesysError('GENESYS_TIMEOUT', `No upload outcome for attachment ${attachmentId} in time`),
        );
      }, this.#timeoutMs);
      const list = this.#waiters.get(attachmentId) ?? [];
      list.push({ resolve, reject, timer });
      this.#waiters.set(attachmentId, list);
    });
  }

  /** Rejects every waiter and forgets everything (session finished). */
  rejectAll(error: Error): void {
    const waiters = [...this.#waiters.values()].flat();
    this.#waiters.clear();
    this.#expected.clear();
    for (const waiter of waiters) {
      this.#clock.clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
