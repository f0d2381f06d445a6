/**
 * The client's caps on what it reads from upstream. One worker holds every team's sessions, so one
 * broken or hostile upstream must not make it buffer megabytes: `ws` alone accepts 100 MiB frames and
 * `fetch` reads any body whole. Genesys documents no frame or body size (reference §8, §16), so each cap
 * is derived from the documented maxima, with wide headroom so that real traffic never meets it.
 */

/**
 * Largest WebSocket message accepted from Genesys (the socket's `maxPayload`): 256 KiB. The largest
 * documented payloads are an agent's text, at most 4000 characters (reference §8, F5), i.e. at most
 * 16 000 bytes of UTF-8, 24 000 if every character came \u-escaped, and custom attributes, at most
 * 2048 bytes (§8, TT); a SessionResponse lists a few file types and extensions. Structured content
 * (cards, carousels, quick replies: §5) has no documented bound; 256 KiB is ten times the largest text
 * message escaped. A bigger frame makes `ws` close with 1009 and the session fail (GENESYS_FRAME_TOO_LARGE).
 */
export const MAX_FRAME_BYTES = 256 * 1024;

/**
 * Largest JSON answer read over HTTP (a history page): 1 MiB. A page holds `pageSize` = 25 messages
 * (§8, §10.1; J, P), so even 25 agent texts of 4000 escaped characters (~24 KB each, ~600 KB) fit;
 * real pages are a few KB.
 */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/**
 * Largest answer to the presigned upload PUT: 64 KiB. Its body is not used (the upload is settled by
 * the UploadSuccessEvent push, §9): S3-style stores answer a success with an empty body and a refusal
 * with a short XML document.
 */
export const MAX_UPLOAD_ANSWER_BYTES = 64 * 1024;
