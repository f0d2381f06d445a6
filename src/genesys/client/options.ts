/**
 * Options of a guest session: what is injected (socket constructor, fetch, clock, ids, randomness,
 * logger) and one frozen DEFAULTS object for the numbers. Unknown keys are refused, as everywhere in
 * this codebase, so a misspelt option fails at start instead of being silently ignored.
 */
import type { BackoffPolicy } from '../../domain/backoff.js';
import type { Clock } from '../../domain/clock.js';
import { rejectUnknownOptions } from '../../domain/options.js';
import type { ReconnectSlots } from '../../domain/reconnect-pacer.js';
import { type Log, silentLog } from '../../logging/log.js';
import { GenesysError } from '../errors.js';
import type { GenesysEndpoint } from './endpoint.js';
import type { UpgradeResponse } from './upgrade-refusal.js';

/** The part of a `ws` WebSocket the client uses. `ws`'s own class satisfies it. */
export interface SocketLike {
  on(event: 'open', listener: () => void): unknown;
  on(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: unknown) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'pong', listener: () => void): unknown;
  /**
   * `ws` only: the upgrade was answered with an HTTP response. With a listener `ws` leaves the socket
   * connecting; the client reads the response's words and then terminates it (./upgrade-refusal.ts).
   */
  on(event: 'unexpected-response', listener: (request: unknown, response: UpgradeResponse) => void): unknown;
  send(data: string): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/**
 * The options the client gives the socket constructor: a subset of `ws`' ClientOptions (`ws` 8 takes
 * them as the second argument when no subprotocols are given). The client always sets `maxPayload`
 * (./limits.ts); a wrapper around `ws` must pass the object on as it is.
 */
export interface SocketOptions {
  headers: Record<string, string>;
  origin?: string;
  /** Largest message accepted, in bytes; `ws` closes the socket with 1009 beyond it. */
  maxPayload?: number;
}

/** `new WebSocket(url, { headers, origin, maxPayload })`, as `ws` takes it. */
export type WebSocketConstructor = new (url: string, options: SocketOptions) => SocketLike;

/**
 * The part of a WHATWG `Response` the client uses. Bodies are read through ./http-body.ts only, which
 * caps them; `text()` and `json()` are left out on purpose (they read any size).
 */
export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
}

/** The part of WHATWG `fetch` the client uses; the global `fetch` satisfies it. */
export type FetchLike = (
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: Uint8Array;
    signal?: AbortSignal;
    /** Always `error`: a redirect could send a request (and its bytes) to a host nobody checked. */
    redirect: 'error';
  },
) => Promise<FetchResponse>;

/**
 * How far before the newest push seen (or `resumeFrom`) a backfill after a resume reaches: pushes that
 * were in transit when a socket died can be this much older than the newest one seen. Whoever sets
 * `resumeFrom` must know every stored push from `resumeFrom - BACKFILL_SLACK_MS` on, or those are
 * delivered again (worker/resume-from.ts).
 */
export const BACKFILL_SLACK_MS = 10_000;

export interface GuestSessionOptions {
  /** The Messenger deployment id (query string and configureSession body). */
  readonly deploymentId: string;
  readonly endpoint: GenesysEndpoint;
  /** Sent as the `Origin` header on the upgrade and on REST calls (deployments may restrict it). */
  readonly origin?: string;
  /** `application` query parameter, e.g. `guest-relay-0.1.0`; left out when absent. */
  readonly application?: string;
  /** The guest token of a session to resume; a new one (`newId()`) otherwise. A credential: never logged. */
  readonly token?: string;
  /**
   * This session was held by someone else (another worker, before a failover) until about this time
   * (epoch ms): on the first SessionResponse with `newSession:false`, backfill the history as after a
   * resume, from `resumeFrom` minus BACKFILL_SLACK_MS. Only with `token`.
   */
  readonly resumeFrom?: number;
  readonly WebSocket: WebSocketConstructor;
  readonly fetch: FetchLike;
  readonly clock: Clock;
  /** [0, 1) randomness for backoff jitter. Default Math.random. */
  readonly random?: () => number;
  /** Ids for tokens, tracingIds and attachment ids. Default crypto.randomUUID. */
  readonly newId?: () => string;
  /**
   * Lines are a message and one object of fields. The token never reaches it: fields carry
   * `session` = its last 4 characters (tokenTag). Default: silent.
   */
  readonly logger?: Log;
  /** Reconnect delays: full jitter, base 500 ms, cap 30 s, counter reset after 5 s of uptime. */
  readonly backoff?: Partial<BackoffPolicy>;
  /**
   * Shared by the sessions of a process (src/domain/reconnect-pacer.ts): each reconnect reserves a start
   * there and waits for the later of that and its own backoff delay, so that a crowd dropped at once
   * comes back spread out. Absent: the backoff delay alone.
   */
  readonly reconnectPacer?: ReconnectSlots;
  /** RFC 6455 ping every … (Genesys' mobile SDK: 15 s). */
  readonly pingIntervalMs?: number;
  /** No pong within … of a ping: the socket is dead, reconnect. */
  readonly pongTimeoutMs?: number;
  /** An `echo` at most once per …, and only after that long without any other request. 0 = never. */
  readonly echoIntervalMs?: number;
  /** onMessage per second (Genesys: 2 per session since Dec 2023). */
  readonly ratePerSecond?: number;
  /**
   * Added to the interval between two onMessage (1000 / ratePerSecond): Genesys counts arrivals, and
   * network jitter can bring sends spaced exactly at the limit closer together than that.
   */
  readonly pacingMarginMs?: number;
  /** At most one typing notice per … (Genesys' SDK: 5 s). */
  readonly typingIntervalMs?: number;
  /** How long Outbound pushes are held to be ordered by channel.time. */
  readonly reorderWindowMs?: number;
  /** Sends waiting or unacknowledged at once; one more is refused with GENESYS_QUEUE_FULL. */
  readonly maxQueue?: number;
  /** Sends on the wire without an echo yet. 1 keeps Genesys' order equal to ours even across 429s. */
  readonly maxInFlight?: number;
  /** A send without echo, or a request without answer, after … counts as lost. */
  readonly ackTimeoutMs?: number;
  /** Opening the socket and getting the SessionResponse must take less than …. */
  readonly connectTimeoutMs?: number;
  /** From the upload slot to UploadSuccessEvent/UploadFailureEvent: at most …. */
  readonly uploadTimeoutMs?: number;
  /**
   * More hosts `upload()` may PUT bytes to, beyond the default (./upload-url.ts: subdomains of the
   * endpoint's region domain, or the emulator's own origin): `s3.example.com` matches that host only,
   * `.example.com` its subdomains. Always over https, on the default port.
   */
  readonly uploadHosts?: readonly string[];
}

type Numbers = Required<
  Pick<
    GuestSessionOptions,
    | 'pingIntervalMs'
    | 'pongTimeoutMs'
    | 'echoIntervalMs'
    | 'ratePerSecond'
    | 'pacingMarginMs'
    | 'typingIntervalMs'
    | 'reorderWindowMs'
    | 'maxQueue'
    | 'maxInFlight'
    | 'ackTimeoutMs'
    | 'connectTimeoutMs'
    | 'uploadTimeoutMs'
  >
>;

export const DEFAULTS: Readonly<Numbers> = Object.freeze({
  pingIntervalMs: 15_000,
  pongTimeoutMs: 10_000,
  echoIntervalMs: 30_000,
  ratePerSecond: 2,
  pacingMarginMs: 20,
  typingIntervalMs: 5_000,
  reorderWindowMs: 300,
  maxQueue: 100,
  maxInFlight: 1,
  ackTimeoutMs: 30_000,
  connectTimeoutMs: 15_000,
  uploadTimeoutMs: 120_000,
});

const INJECTED = [
  'deploymentId',
  'endpoint',
  'origin',
  'application',
  'token',
  'resumeFrom',
  'WebSocket',
  'fetch',
  'clock',
  'random',
  'newId',
  'logger',
  'backoff',
  'reconnectPacer',
  'uploadHosts',
] as const;

/** Options with every default applied. */
export type ResolvedOptions = Numbers &
  Pick<GuestSessionOptions, 'deploymentId' | 'endpoint' | 'WebSocket' | 'fetch' | 'clock'> & {
    readonly origin: string | undefined;
    readonly application: string | undefined;
    readonly token: string;
    readonly resumeFrom: number | undefined;
    readonly random: () => number;
    readonly newId: () => string;
    readonly logger: Log;
    readonly backoff: Partial<BackoffPolicy>;
    readonly reconnectPacer: ReconnectSlots | undefined;
    readonly uploadHosts: readonly string[];
  };

/** Whole numbers ≥ 1 (counts) or finite ≥ 0 / > 0 (durations and rates). */
const RULES: Readonly<Record<keyof Numbers, (value: number) => boolean>> = Object.freeze({
  pingIntervalMs: (v) => Number.isFinite(v) && v > 0,
  pongTimeoutMs: (v) => Number.isFinite(v) && v > 0,
  echoIntervalMs: (v) => Number.isFinite(v) && v >= 0,
  ratePerSecond: (v) => Number.isFinite(v) && v > 0,
  pacingMarginMs: (v) => Number.isFinite(v) && v >= 0,
  typingIntervalMs: (v) => Number.isFinite(v) && v >= 0,
  reorderWindowMs: (v) => Number.isFinite(v) && v >= 0,
  maxQueue: (v) => Number.isSafeInteger(v) && v >= 1,
  maxInFlight: (v) => Number.isSafeInteger(v) && v >= 1,
  ackTimeoutMs: (v) => Number.isFinite(v) && v > 0,
  connectTimeoutMs: (v) => Number.isFinite(v) && v > 0,
  uploadTimeoutMs: (v) => Number.isFinite(v) && v > 0,
});

/** Genesys: "the token cannot exceed 2048 characters" (reference §7.1). */
const MAX_TOKEN_LENGTH = 2048;

function invalid(message: string, cause?: unknown): GenesysError {
  return new GenesysError('GENESYS_CONFIG_INVALID', message, cause === undefined ? {} : { cause });
}

/** A host name, or `.` + a domain for its subdomains: letters, digits, dots and hyphens, lower-cased. */
const UPLOAD_HOST = /^\.?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Whether `value` (already lower-cased) is an `uploadHosts` entry: a host name or `.` + a domain. */
export function isUploadHostEntry(value: string): boolean {
  return UPLOAD_HOST.test(value);
}

function checkUploadHosts(hosts: readonly string[] | undefined): readonly string[] {
  if (hosts === undefined) return Object.freeze([]);
  if (!Array.isArray(hosts)) throw invalid('Option "uploadHosts" must be a list of host names');
  const checked = hosts.map((host: unknown) => {
    const value = typeof host === 'string' ? host.trim().toLowerCase() : '';
    if (!isUploadHostEntry(value)) {
      throw invalid(`Option "uploadHosts" holds "${String(host)}", not a host name or .domain`);
    }
    return value;
  });
  return Object.freeze(checked);
}

/**
 * Applies DEFAULTS and checks every option.
 *
 * @throws GenesysError `GENESYS_CONFIG_INVALID` naming the offending key (never its value when that
 *   is the token).
 */
export function resolveOptions(options: GuestSessionOptions): ResolvedOptions {
  try {
    rejectUnknownOptions('GuestSession', [...Object.keys(DEFAULTS), ...INJECTED], options);
  } catch (error) {
    throw invalid((error as Error).message, error);
  }
  if (typeof options.deploymentId !== 'string' || options.deploymentId.trim() === '') {
    throw invalid('Option "deploymentId" is required');
  }
  if (options.endpoint === undefined) throw invalid('Option "endpoint" is required');
  for (const key of ['WebSocket', 'fetch'] as const) {
    if (typeof options[key] !== 'function') throw invalid(`Option "${key}" is required`);
  }
  if (options.clock === undefined) throw invalid('Option "clock" is required');
  if (options.token !== undefined && (options.token === '' || options.token.length > MAX_TOKEN_LENGTH)) {
    throw invalid(`Option "token" must have 1 to ${MAX_TOKEN_LENGTH} characters`);
  }
  if (options.resumeFrom !== undefined) {
    if (options.token === undefined) throw invalid('Option "resumeFrom" needs "token"');
    // Number.isFinite is false for anything but a finite number (a string from a store included).
    if (!Number.isFinite(options.resumeFrom) || options.resumeFrom < 0) {
      throw invalid(`Option "resumeFrom" is out of range: ${options.resumeFrom}`);
    }
  }
  const numbers = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof Numbers)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!RULES[key](value)) throw invalid(`Option "${key}" is out of range: ${value}`);
    numbers[key] = value;
  }
  const uploadHosts = checkUploadHosts(options.uploadHosts);
  const newId = options.newId ?? (() => globalThis.crypto.randomUUID());
  return Object.freeze({
    ...numbers,
    deploymentId: options.deploymentId,
    endpoint: options.endpoint,
    origin: options.origin,
    application: options.application,
    token: options.token ?? newId(),
    resumeFrom: options.resumeFrom,
    WebSocket: options.WebSocket,
    fetch: options.fetch,
    clock: options.clock,
    random: options.random ?? Math.random,
    newId,
    logger: options.logger ?? silentLog,
    backoff: options.backoff ?? {},
    reconnectPacer: options.reconnectPacer,
    uploadHosts,
  });
}

/** A short, non-reversible tag for logs: the token's last 4 characters. */
export function tokenTag(token: string): string {
  return `…${token.slice(-4)}`;
}
