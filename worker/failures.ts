/**
 * What a Genesys refusal means to a frontend: the protocol's error code for an entry's `failure`, an
 * `uploadFailed` or an `error` event. The wire codes come from ERROR_CODES' `genesys` column (reference
 * §6); a refusal without a code of its own is `upstream_rejected`, and anything that says "Genesys could
 * not be reached" is `upstream_unavailable`.
 */
import { GenesysError } from '../src/genesys/errors.js';
import { ERROR_CODES, type ErrorCode } from '../src/protocol/error-codes.js';

export interface Failure {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Wire code → protocol code, built from the one table (the first code listing it wins). */
const BY_GENESYS_CODE: ReadonlyMap<number, ErrorCode> = (() => {
  const map = new Map<number, ErrorCode>();
  for (const [code, info] of Object.entries(ERROR_CODES) as [ErrorCode, { genesys?: readonly number[] }][]) {
    for (const wire of info.genesys ?? []) if (!map.has(wire)) map.set(wire, code);
  }
  return map;
})();

/** Upload refusals: 4001 is "type or extension": the type is the likelier cause behind our own check. */
const UPLOAD_CODES: ReadonlyMap<number, ErrorCode> = new Map([
  [4001, 'attachment_type_not_allowed'],
  [4002, 'attachment_too_large'],
  [4003, 'attachment_empty'],
]);

/** The failure to store and show for an error of a send, an upload or a context flush. */
export function failureOf(error: unknown, kind: 'send' | 'upload' | 'context' = 'send'): Failure {
  if (!(error instanceof GenesysError)) {
    return {
      code: 'upstream_unavailable',
      message: 'Genesys could not be reached; the command was not completed.',
    };
  }
  const wire = error.genesysCode;
  switch (error.code) {
    case 'GENESYS_RATE_LIMITED':
      return { code: 'rate_limited', message: 'Genesys refused the message: too many messages (429).' };
    case 'GENESYS_SESSION_EXPIRED':
      return { code: 'session_ended', message: 'The Genesys session has expired.' };
    case 'GENESYS_READ_ONLY':
      return { code: 'session_read_only', message: 'The conversation is read-only: start a new session.' };
    case 'GENESYS_TIMEOUT':
      return { code: 'upstream_unavailable', message: 'Genesys did not answer in time; try again.' };
    case 'GENESYS_CONNECTION_LOST':
      return {
        code: 'upstream_unavailable',
        message:
          'The connection to Genesys was lost and did not come back in time; the session keeps trying ' +
          '(see its upstream events): try again once it says connected.',
      };
    case 'GENESYS_HTTP_ERROR':
      return {
        code: 'upstream_unavailable',
        message: 'Genesys answered with an HTTP error or an answer it should not give; try again.',
      };
    default:
      break;
  }
  if (wire !== undefined) {
    const code = (kind === 'upload' ? UPLOAD_CODES.get(wire) : undefined) ?? BY_GENESYS_CODE.get(wire);
    if (code !== undefined) return { code, message: `Genesys refused it (${wire}).` };
    return { code: 'upstream_rejected', message: `Genesys refused it (${wire}).` };
  }
  return { code: 'upstream_rejected', message: 'Genesys refused it.' };
}
