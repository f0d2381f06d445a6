// Which URLs from upstream (attachments, card and carousel buttons) the page may turn into links.
// Genesys passes on whatever a flow or an agent put there; a `javascript:` or `data:` URL as an href
// runs script in this page when clicked. Only absolute http: and https: URLs become links; anything
// else is shown as plain text. The page makes no previews, so no blob: or data: URL is ever needed.

const LINK_PROTOCOLS = new Set(['http:', 'https:']);

/**
 * The URL as a string an `href` (or `src`, or a request) may take, or undefined when it must not be
 * one: not a string, not an absolute URL, or a scheme other than http: and https:.
 * @param {unknown} value
 * @returns {string | undefined}
 */
export function safeLinkUrl(value) {
  if (typeof value !== 'string') return undefined;
  let url;
  try {
    // No base: a relative URL would resolve against this page and could be anything it serves.
    url = new URL(value);
  } catch {
    return undefined;
  }
  return LINK_PROTOCOLS.has(url.protocol) ? url.href : undefined;
}
