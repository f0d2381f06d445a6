import type { DomainErrorCode } from '../domain/errors.js';

export interface ErrorCodeInfo {
  /** What went wrong, for the documentation and for people reading logs. */
  readonly meaning: string;
  /** True when sending the same frame again later can succeed without changing it. */
  readonly retryable: boolean;
  /** The Genesys guest API codes this code stands for, where there is one (reference §6). */
  readonly genesys?: readonly number[];
}

/**
 * Every error code the public protocol can send in an `error` event (or `uploadFailed`, or a message's
 * `failure`). Codes are stable: new ones may be added, existing ones never change meaning.
 * docs/protocol.md documents each one; a test keeps the two in step.
 */
export const ERROR_CODES = {
  invalid_json: { meaning: 'The frame is not valid JSON text (or not valid UTF-8).', retryable: false },
  invalid_frame: { meaning: 'The frame is JSON but not an object with a string `action`.', retryable: false },
  frame_too_large: { meaning: 'The frame is larger than 128 KB (131,072 bytes of UTF-8).', retryable: false },
  too_deep: { meaning: 'Objects or arrays are nested deeper than 32 levels.', retryable: false },
  forbidden_key: {
    meaning: 'A key named `__proto__`, `constructor` or `prototype` appears somewhere in the frame.',
    retryable: false,
  },
  invalid_number: {
    meaning: 'A number cannot be represented (for example `1e400`, which overflows to infinity).',
    retryable: false,
  },
  unknown_action: { meaning: 'The `action` is not one of the documented actions.', retryable: false },
  unknown_field: { meaning: 'The frame has a field that its action does not define.', retryable: false },
  invalid_field: {
    meaning: 'A field is missing, has the wrong type, or is out of its documented bounds.',
    retryable: false,
  },
  text_too_long: {
    meaning: "The text has more characters than the session's `maxTextLength` allows.",
    retryable: false,
    genesys: [4011],
  },
  text_invalid: {
    meaning:
      'A text (`details.field`) contains a lone surrogate, or a control or bidi formatting character that text may not hold (`details.codePoint`, as U+XXXX).',
    retryable: false,
  },
  context_too_large: {
    meaning:
      "The custom attributes would exceed the session's `maxCustomDataBytes` (UTF-8, keys plus values).",
    retryable: false,
    genesys: [4013],
  },
  context_invalid: {
    meaning: 'The context cannot be flattened into custom attributes (an empty key, a key with a dot, ...).',
    retryable: false,
  },
  attachment_type_not_allowed: {
    meaning: "The file's content type is not among the deployment's allowed inbound media.",
    retryable: false,
    genesys: [4001],
  },
  attachment_extension_blocked: {
    meaning: "The file's extension is on the deployment's blocked list.",
    retryable: false,
    genesys: [4001],
  },
  attachment_too_large: {
    meaning: "The file is larger than the deployment's `maxFileSizeKB`.",
    retryable: false,
    genesys: [4002],
  },
  attachment_empty: { meaning: 'The file is empty.', retryable: false, genesys: [4002] },
  attachment_name_invalid: {
    meaning:
      'The file name is empty, too long, or contains a path separator or a control, bidi or invisible formatting character (`details.codePoint`).',
    retryable: false,
    genesys: [4004, 4005],
  },
  attachment_content_mismatch: {
    meaning:
      "The inline file's bytes are not of its declared content type (a `image/png` that is not a PNG, a `text/plain` that is not UTF-8).",
    retryable: false,
  },
  attachment_not_found: {
    meaning: 'An attachment id names no finished upload of this session (unknown, failed or expired).',
    retryable: false,
    genesys: [4008, 4009, 4010],
  },
  not_connected: {
    meaning: 'The action needs a session: send `connect` on this connection first.',
    retryable: false,
  },
  session_not_found: {
    meaning: 'No session with this id exists for your team.',
    retryable: false,
    genesys: [4007],
  },
  session_ended: {
    meaning: 'The session has ended (by the guest, the agent, or expiry); start a new one.',
    retryable: false,
    genesys: [4006],
  },
  session_read_only: {
    meaning: 'The agent ended the conversation and the deployment keeps it read-only; start a new session.',
    retryable: false,
  },
  forbidden: {
    meaning:
      "Your access token's role may not perform this action, or the session was started by another subject (only its owner may act in it).",
    retryable: false,
  },
  deployment_not_allowed: {
    meaning:
      "The Genesys deployment (or its region) is not in your team's policy; the operator of the relay lists the deployments each team may open.",
    retryable: false,
  },
  token_expired: {
    meaning:
      'The access token this connection was opened with has expired: the event is followed by the connection closing. Connect again with a fresh token.',
    retryable: false,
  },
  conflict: {
    meaning: 'The `clientMessageId` was already used in this session for a different command.',
    retryable: false,
  },
  rate_limited: {
    meaning:
      "The session's queue of unsent commands is full, too many of its messages are being stored at once (a burst), or a quota of your team or subject is used up (open sessions, starts a minute, upload bytes an hour; `details.quota` names it); wait `retryAfterMs` and try again.",
    retryable: true,
    genesys: [429, 4029],
  },
  upstream_rejected: {
    meaning:
      'Genesys refused the command or the session; `details.genesysCode` is its code or HTTP status, the message says what to check. A refused session also ends (`sessionEnded` with this code).',
    retryable: false,
  },
  upstream_unavailable: {
    meaning:
      "Genesys could not be reached for the worker's bound (30 s by default; `upstream` events said why before: refused, dns, tls, timeout, http). A session that never connected ends; a live one keeps trying and its messages wait. Nothing was lost.",
    retryable: true,
  },
  service_unavailable: {
    meaning:
      'guest-relay is overloaded or a dependency is down; try again (a retry with the same `clientMessageId` is safe).',
    retryable: true,
  },
  internal_error: {
    meaning: 'An unexpected failure on our side; retrying with the same `clientMessageId` is safe.',
    retryable: true,
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** Compile-time proof that every code the domain core raises is a documented protocol code. */
type UndocumentedDomainCodes = Exclude<DomainErrorCode, ErrorCode>;
const domainCodesAreDocumented: [UndocumentedDomainCodes] extends [never] ? true : UndocumentedDomainCodes =
  true;
void domainCodesAreDocumented;
