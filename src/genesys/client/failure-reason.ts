/**
 * Why the Genesys socket could not be opened or was lost, in words a person can act on: the socket's own
 * error (Node's error codes) or the way it ended, reduced to one of a few reasons. The worker passes the
 * reason on to the frontends (`upstream` events), so a wrong URL, a DNS failure or a
 * certificate problem is said as such instead of a session that waits in `starting`.
 */
import type { UpstreamFailureReason } from '../../domain/upstream-failure.js';

export interface UpstreamFailure {
  readonly reason: UpstreamFailureReason;
  /**
   * The error code or status behind the reason (`ECONNREFUSED`, `HTTP 503`, `close 1006`), bounded; a
   * refused upgrade's status is followed by what Genesys said, when it said something
   * (`HTTP 404: Unknown deploymentId "x".`).
   */
  readonly detail: string;
}

const DNS_CODES: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EAI_NODATA',
]);
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);
/** OpenSSL's verification failures as Node reports them (besides the ERR_TLS_ and ERR_SSL_ families). */
const TLS_CODES: ReadonlySet<string> = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
]);
/** Causes the client itself names when it gives up on a socket (guest-session.ts `#abnormal`). */
const TIMEOUT_CAUSE = /timeout/i;
const MAX_DETAIL = 160;

/**
 * The reason for a lost or refused socket. `cause` is how the client saw it end (`close 1006`,
 * `connect timeout`, …), `error` the socket's last error, if any, `status` the HTTP status of a
 * refused upgrade and `said` the words of its body (./upgrade-refusal.ts).
 */
export function classifyUpstreamFailure(
  cause: string,
  error: { readonly code?: unknown; readonly message?: unknown } | undefined,
  status?: number,
  said?: string,
): UpstreamFailure {
  if (status !== undefined) {
    return { reason: 'http', detail: boundedDetail(httpDetail(status, said)) };
  }
  const code = typeof error?.code === 'string' ? error.code : undefined;
  if (code !== undefined) {
    if (code === 'ECONNREFUSED') return { reason: 'refused', detail: code };
    if (DNS_CODES.has(code)) return { reason: 'dns', detail: code };
    if (TIMEOUT_CODES.has(code)) return { reason: 'timeout', detail: code };
    if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) {
      return { reason: 'tls', detail: code };
    }
  }
  if (TIMEOUT_CAUSE.test(cause)) return { reason: 'timeout', detail: boundedDetail(cause) };
  return { reason: 'closed', detail: boundedDetail(code === undefined ? cause : `${code} (${cause})`) };
}

/** A refused upgrade's status and, when its body said something, the words: `HTTP 404: Unknown …`. */
export function httpDetail(status: number, said?: string): string {
  return said === undefined ? `HTTP ${status}` : `HTTP ${status}: ${said}`;
}

/** One detail as it may be shown: no query strings (a URL could carry one) and at most 160 characters. */
export function boundedDetail(text: string): string {
  const plain = text.replace(/\?\S*/g, '');
  return plain.length <= MAX_DETAIL ? plain : `${plain.slice(0, MAX_DETAIL - 1)}…`;
}
