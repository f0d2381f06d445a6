/**
 * Why a session's upstream Genesys socket could not be opened or was lost, as one of a few reasons a
 * person can act on. The Genesys client classifies (src/genesys/client/failure-reason.ts); the protocol's
 * `upstream` event carries the same words to the frontend.
 */
export const UPSTREAM_FAILURE_REASONS = ['refused', 'dns', 'tls', 'timeout', 'http', 'closed'] as const;
export type UpstreamFailureReason = (typeof UPSTREAM_FAILURE_REASONS)[number];

/** What a person can do about each reason (the worker puts it in the events it sends). */
export const UPSTREAM_FAILURE_ADVICE: Readonly<Record<UpstreamFailureReason, string>> = {
  refused:
    'Nothing accepts connections at the Genesys address: check the region (or GENESYS_WS_URL) and that the host is up.',
  dns: 'The Genesys host name does not resolve: check the region (or GENESYS_WS_URL) and the DNS of the machine running the worker.',
  tls: 'The TLS handshake with Genesys failed (certificate or protocol): check GENESYS_WS_URL and the trust store.',
  timeout: 'Genesys did not answer in time: the network or Genesys is slow or down.',
  http: 'Genesys answered the socket with an HTTP error; a 5xx or 429 is temporary.',
  closed: 'The socket to Genesys closed unexpectedly.',
};
