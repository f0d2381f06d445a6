/** The Genesys guest session client: one upstream guest session per instance. See docs/genesys-client.md. */

export type { AttachmentInfo, UploadResult, UploadSlot } from './attachments.js';
export { uploadHeaders } from './attachments.js';
export type { GenesysEndpoint } from './endpoint.js';
export {
  endpointRegionDomain,
  genesysEndpoint,
  isKnownRegion,
  REGION_DOMAINS,
  regionDomain,
  socketUrl,
} from './endpoint.js';
export type {
  ClosedEvent,
  CloseReason,
  EchoEvent,
  ErrorEvent,
  GuestSessionEvents,
  Listener,
  MessageEvent,
  OutboundAuthor,
  PresenceEvent,
  PresenceType,
  ReadyEvent,
  ReceiptEvent,
  ReconnectingEvent,
  TypingEvent,
  UploadEvent,
} from './events.js';
export type { UpstreamFailure } from './failure-reason.js';
export { classifyUpstreamFailure } from './failure-reason.js';
export type { SendOptions, SendResult } from './guest-session.js';
export { GuestSession } from './guest-session.js';
export { MAX_FRAME_BYTES, MAX_JSON_BODY_BYTES, MAX_UPLOAD_ANSWER_BYTES } from './limits.js';
export type {
  FetchLike,
  FetchResponse,
  GuestSessionOptions,
  SocketLike,
  SocketOptions,
  WebSocketConstructor,
} from './options.js';
export { BACKFILL_SLACK_MS, DEFAULTS, isUploadHostEntry, tokenTag } from './options.js';
export { SessionState, TRANSITIONS } from './states.js';
export type { RefusedUpgrade, UpgradeResponse } from './upgrade-refusal.js';
export { readRefusal, refusalWords } from './upgrade-refusal.js';
export type { UploadUrlCheck } from './upload-url.js';
export { uploadUrlCheck } from './upload-url.js';
