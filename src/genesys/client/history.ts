/**
 * The guest's REST history (reference §10.1): `GET {apiUrl}/api/v2/webmessaging/messages` with the
 * guest JWT from `getJwt` (§3.5, §10.3). Pages come newest first (inferred from Genesys' mobile SDK,
 * which reverses each page): paging stops at the first page that holds only messages older than the
 * caller's horizon, at `pageCount`, or at `maxPages`.
 */
import { GenesysError } from '../errors.js';
import { messageTime, type StructuredMessage } from '../responses.js';
import { discardBody, readJsonCapped } from './http-body.js';
import { MAX_JSON_BODY_BYTES } from './limits.js';
import type { FetchLike } from './options.js';

export const HISTORY_PAGE_SIZE = 25;
/** 20 pages of 25: 500 messages back, far more than a reconnect gap can hide. */
export const HISTORY_MAX_PAGES = 20;

export interface HistoryPage {
  readonly entities: readonly StructuredMessage[];
  readonly pageNumber: number;
  readonly pageCount?: number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads one page; entities without a string `id` are dropped. */
export function parseHistoryPage(json: unknown, pageNumber: number): HistoryPage {
  if (!isObject(json) || !Array.isArray(json.entities)) {
    throw new GenesysError('GENESYS_HTTP_ERROR', `History page ${pageNumber} has no entities array`);
  }
  const entities = json.entities.filter(
    (entity: unknown): entity is StructuredMessage => isObject(entity) && typeof entity.id === 'string',
  );
  const pageCount = typeof json.pageCount === 'number' ? json.pageCount : undefined;
  return pageCount === undefined ? { entities, pageNumber } : { entities, pageNumber, pageCount };
}

export interface HistoryRequest {
  readonly fetch: FetchLike;
  readonly apiUrl: string;
  readonly jwt: string;
  readonly origin?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * One page, read with a cap (MAX_JSON_BODY_BYTES) and without following redirects.
 *
 * @throws GenesysError `GENESYS_HTTP_ERROR` (status, not JSON, no entities) or
 *   `GENESYS_RESPONSE_TOO_LARGE`.
 */
export async function fetchHistoryPage(request: HistoryRequest, pageNumber: number): Promise<HistoryPage> {
  const url = `${request.apiUrl}/api/v2/webmessaging/messages?pageSize=${HISTORY_PAGE_SIZE}&pageNumber=${pageNumber}`;
  const headers: Record<string, string> = {
    Authorization: `bearer ${request.jwt}`,
    Accept: 'application/json',
  };
  if (request.origin !== undefined) headers.Origin = request.origin;
  const response = await request.fetch(url, {
    method: 'GET',
    headers,
    // A redirect would take the guest's JWT along to a host nobody checked.
    redirect: 'error',
    ...(request.signal ? { signal: request.signal } : {}),
  });
  if (!response.ok) {
    // Read (capped) so the connection goes back to the pool; its text is not shown (it may echo headers).
    await discardBody(response, MAX_JSON_BODY_BYTES);
    throw new GenesysError('GENESYS_HTTP_ERROR', `History page ${pageNumber}: HTTP ${response.status}`, {
      genesysCode: response.status,
    });
  }
  const json = await readJsonCapped(response, MAX_JSON_BODY_BYTES, `History page ${pageNumber}`);
  return parseHistoryPage(json, pageNumber);
}

/**
 * Pages back until `horizon` (epoch ms, Genesys time): the result holds every message of the pages
 * read, oldest first. Without a horizon it reads to `pageCount` (or `maxPages`).
 */
export async function fetchHistorySince(
  request: HistoryRequest,
  horizon: number | undefined,
  maxPages: number = HISTORY_MAX_PAGES,
): Promise<StructuredMessage[]> {
  const newestFirst: StructuredMessage[] = [];
  for (let pageNumber = 1; pageNumber <= maxPages; pageNumber++) {
    const page = await fetchHistoryPage(request, pageNumber);
    newestFirst.push(...page.entities);
    if (page.entities.length === 0) break;
    if (page.pageCount !== undefined && pageNumber >= page.pageCount) break;
    if (
      horizon !== undefined &&
      page.entities.every((entity) => (messageTime(entity) ?? horizon) < horizon)
    ) {
      break;
    }
  }
  return newestFirst.reverse();
}

/** The guest JWT, kept until a minute before its `exp` (epoch seconds). */
export class JwtCache {
  #jwt: string | undefined;
  #expiresAt = 0;

  get(now: number): string | undefined {
    return this.#jwt !== undefined && now < this.#expiresAt ? this.#jwt : undefined;
  }

  set(jwt: string, expSeconds: number): void {
    this.#jwt = jwt;
    this.#expiresAt = expSeconds * 1000 - 60_000;
  }

  clear(): void {
    this.#jwt = undefined;
    this.#expiresAt = 0;
  }
}
