// The guest's file uploads: ask the relay for a slot (`upload`), PUT the file to the URL it answers with,
// and show the progress until Genesys says `uploaded` or `uploadFailed`.

import { $, showError } from './dom.js';
import { safeLinkUrl } from './safe-url.js';
import { uploadRefusalText } from './upload-refusal.js';

/** `send(frame)` sends a frame on the guest's socket (false when it cannot). */
export function startUploads({ send }) {
  /** uploadId → {file, settled}: `settled` once Genesys said `uploaded` or `uploadFailed`. */
  const uploads = new Map();

  /** The upload line says what went wrong, and no longer shows progress. */
  function fail(message) {
    showError('upload-error', message);
    $('upload-progress').hidden = true;
    $('upload-state').textContent = '';
  }

  /** The file chosen in `#file`: ask for a slot. */
  function attach() {
    const file = $('file').files?.[0];
    if (!file) return;
    const uploadId = crypto.randomUUID();
    uploads.set(uploadId, { file, settled: false });
    showError('upload-error', '');
    $('upload-progress').value = 0;
    $('upload-progress').hidden = false;
    $('upload-state').textContent = `Asking for an upload slot for ${file.name}…`;
    send({
      action: 'upload',
      uploadId,
      filename: file.name,
      contentType: file.type || 'application/octet-stream',
      size: file.size,
      send: true,
    });
    $('file').value = '';
  }

  /** The relay's `upload` event: the slot to PUT the file to. */
  function put(slot) {
    const upload = uploads.get(slot.uploadId);
    if (!upload) return;
    const { file } = upload;
    const url = safeLinkUrl(slot.url);
    if (url === undefined) {
      fail('Upload refused: the upload URL is not an http(s) URL.');
      return;
    }
    const request = new XMLHttpRequest();
    request.open('PUT', url);
    for (const [name, value] of Object.entries(slot.headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (progress) => {
      if (progress.lengthComputable)
        $('upload-progress').value = Math.round((progress.loaded / progress.total) * 100);
    };
    request.onload = () => {
      if (request.status >= 300) fail(uploadRefusalText(request.status, request.responseText));
      // Genesys may have answered before the browser reports the PUT done: its answer stays.
      else if (!upload.settled) $('upload-state').textContent = `Sent ${file.name}; waiting for Genesys…`;
    };
    request.onerror = () => fail('Upload failed: network error. Try the file again.');
    $('upload-state').textContent = `Uploading ${file.name}…`;
    request.send(file);
  }

  function uploaded(event) {
    const upload = uploads.get(event.uploadId);
    if (upload) upload.settled = true;
    $('upload-state').textContent = `Uploaded ${upload?.file.name ?? ''}`;
    $('upload-progress').value = 100;
  }

  function failed(event) {
    const upload = uploads.get(event.uploadId);
    if (upload) upload.settled = true;
    fail(`Upload failed: ${event.code}${event.message ? `: ${event.message}` : ''}`);
  }

  return { attach, put, uploaded, failed, fail };
}
