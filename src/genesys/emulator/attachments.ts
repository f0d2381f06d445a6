/**
 * Attachments: guest uploads through presigned URLs (reference §9) and the files agents send. The
 * presigned PUT must carry every header the PresignedUrlResponse listed and exactly the declared number
 * of bytes, as S3 would insist.
 */
import { type ChannelConstraints, checkAttachment } from '../../domain/constraints.js';
import type { PresignedUrlBody } from '../responses.js';
import { type AttachmentInfo, mediaTypeOf } from './frames.js';
import { newUuid, sign, signatureMatches } from './ids.js';

export interface StoredAttachment {
  readonly id: string;
  /** The session (token) the attachment belongs to. */
  readonly token: string;
  readonly fileName: string;
  readonly fileType: string;
  /** Declared (guest uploads) or actual (agent files) size in bytes. */
  readonly fileSize: number;
  readonly origin: 'guest' | 'agent';
  state: 'pending' | 'uploaded' | 'deleted';
  bytes: Buffer | undefined;
  uploadedAt: number | undefined;
}

/** An upload the guest may not make: the wire error code (reference §6) and a message. */
export interface UploadRefusal {
  readonly code: 4001 | 4002 | 4004 | 4005;
  readonly message: string;
}

/** What the checks of onAttachment need; the same rules the SessionResponse advertises. */
export function uploadRefusal(
  request: { readonly fileName: string; readonly fileType: string; readonly fileSize: number },
  constraints: ChannelConstraints,
): UploadRefusal | undefined {
  const error = checkAttachment(
    { filename: request.fileName, contentType: request.fileType, size: request.fileSize },
    constraints,
  );
  if (!error) return undefined;
  switch (error.code) {
    case 'attachment_name_invalid':
      return { code: error.details.maxLength !== undefined ? 4005 : 4004, message: error.message };
    case 'attachment_extension_blocked':
    case 'attachment_type_not_allowed':
      return { code: 4001, message: error.message };
    default:
      return { code: 4002, message: error.message };
  }
}

// A 1×1 PNG and a one-page PDF: what an agent "sends" when a reply names no url.
const SAMPLE_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const SAMPLE_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

export function sampleFile(fileName: string, mime: string): Buffer {
  if (mime === 'image/png') return SAMPLE_PNG;
  if (mime === 'application/pdf') return SAMPLE_PDF;
  return Buffer.from(`Sample file "${fileName}" (${mime}) sent by the Genesys emulator.\n`);
}

export class AttachmentStore {
  readonly #key: string;
  readonly #httpUrl: string;
  readonly #tagging: string;
  readonly #attachments = new Map<string, StoredAttachment>();

  constructor(options: {
    readonly signingKey: string;
    readonly httpUrl: string;
    readonly organizationId: string;
  }) {
    this.#key = options.signingKey;
    this.#httpUrl = options.httpUrl;
    this.#tagging = `organizationId=${options.organizationId}&originPlatform=PureCloud&role=darth&owner=Dev-CloudAppsDarth@genesys.com`;
  }

  get(id: string): StoredAttachment | undefined {
    return this.#attachments.get(id);
  }

  /** Whether an id is free, or already this token's (a client may retry onAttachment with its own id). */
  available(id: string, token: string): boolean {
    const existing = this.#attachments.get(id);
    return existing === undefined || (existing.token === token && existing.state === 'pending');
  }

  createUpload(request: {
    readonly token: string;
    readonly attachmentId?: string | undefined;
    readonly fileName: string;
    readonly fileType: string;
    readonly fileSize: number;
  }): StoredAttachment {
    const attachment: StoredAttachment = {
      id: request.attachmentId ?? newUuid(),
      token: request.token,
      fileName: request.fileName,
      fileType: request.fileType,
      fileSize: request.fileSize,
      origin: 'guest',
      state: 'pending',
      bytes: undefined,
      uploadedAt: undefined,
    };
    this.#attachments.set(attachment.id, attachment);
    return attachment;
  }

  createAgentFile(token: string, fileName: string, mime: string, now: number): StoredAttachment {
    const bytes = sampleFile(fileName, mime);
    const attachment: StoredAttachment = {
      id: newUuid(),
      token,
      fileName,
      fileType: mime,
      fileSize: bytes.length,
      origin: 'agent',
      state: 'uploaded',
      bytes,
      uploadedAt: now,
    };
    this.#attachments.set(attachment.id, attachment);
    return attachment;
  }

  /** The headers the presigned PUT must carry, each with exactly this value. */
  uploadHeaders(): Readonly<Record<string, string>> {
    return { 'x-amz-tagging': this.#tagging };
  }

  uploadUrl(attachment: StoredAttachment): string {
    const id = encodeURIComponent(attachment.id);
    return `${this.#httpUrl}/uploads/${id}?signature=${sign(this.#key, `PUT ${attachment.id}`)}`;
  }

  downloadUrl(attachment: StoredAttachment): string {
    const id = encodeURIComponent(attachment.id);
    return `${this.#httpUrl}/downloads/${id}?signature=${sign(this.#key, `GET ${attachment.id}`)}`;
  }

  uploadSignatureValid(id: string, signature: string | null): boolean {
    return signatureMatches(this.#key, `PUT ${id}`, signature);
  }

  downloadSignatureValid(id: string, signature: string | null): boolean {
    return signatureMatches(this.#key, `GET ${id}`, signature);
  }

  presigned(attachment: StoredAttachment): PresignedUrlBody {
    return {
      attachmentId: attachment.id,
      headers: this.uploadHeaders(),
      url: this.uploadUrl(attachment),
      fileName: attachment.fileName,
      fileSize: attachment.fileSize,
      fileType: attachment.fileType,
    };
  }

  /** getAttachment's answer: a fresh download URL, no headers, the size (T `isRefreshUrl`). */
  refreshed(attachment: StoredAttachment): PresignedUrlBody {
    return {
      attachmentId: attachment.id,
      headers: {},
      url: this.downloadUrl(attachment),
      fileName: attachment.fileName,
      fileSize: attachment.bytes?.length ?? attachment.fileSize,
      fileType: attachment.fileType,
    };
  }

  info(attachment: StoredAttachment): AttachmentInfo {
    return {
      id: attachment.id,
      filename: attachment.fileName,
      mediaType: mediaTypeOf(attachment.fileType),
      fileSize: attachment.bytes?.length ?? attachment.fileSize,
      mime: attachment.fileType,
      url: this.downloadUrl(attachment),
    };
  }

  delete(attachment: StoredAttachment): void {
    attachment.state = 'deleted';
    attachment.bytes = undefined;
  }
}
