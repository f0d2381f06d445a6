// What the page says when the storage host refuses the PUT of a file to its presigned URL. Genesys hands
// out Amazon S3 URLs (docs/genesys-guest-api.md), whose refusals are XML with a <Code> and a <Message>;
// the page shows them (bounded, one line) with what to do, instead of a bare status.

/** How much of a refusal's body is read; an S3 error is a few hundred bytes. */
const MAX_BODY_CHARS = 4096;
const MAX_WORDS_CHARS = 200;

/** What to do about a refusal, by its S3 code, else its status. */
function advice(status, code) {
  if (code === 'EntityTooLarge' || status === 413) return 'The file is too large for this deployment.';
  if (code === 'RequestTimeTooSkewed') return "This computer's clock is off: set it right, then try again.";
  if (status === 403 || code === 'AccessDenied' || code === 'SignatureDoesNotMatch') {
    return 'The upload URL expired or was refused: choose the file again for a new one.';
  }
  return 'Try the file again.';
}

/** One line of at most MAX_WORDS_CHARS without control characters. */
function line(text) {
  const plain = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes.
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length <= MAX_WORDS_CHARS ? plain : `${plain.slice(0, MAX_WORDS_CHARS - 1)}…`;
}

/**
 * The sentence for a refused PUT: the status, the storage host's code and message when its body has
 * them, and what to do.
 * @param {number} status
 * @param {unknown} body the response's text (any size; only its start is read; anything else is none)
 */
export function uploadRefusalText(status, body) {
  const text = typeof body === 'string' ? body.slice(0, MAX_BODY_CHARS) : '';
  const found = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
  const code = found === undefined ? undefined : line(found);
  const message = /<Message>([^<]{1,1000})<\/Message>/.exec(text)?.[1];
  const said = [code, message === undefined ? undefined : line(message)].filter(Boolean).join(': ');
  return `Upload refused (HTTP ${status}${said ? `, ${said}` : ''}). ${advice(status, code)}`;
}
