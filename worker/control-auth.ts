/**
 * Signing the control API's WebSocket upgrade with SigV4 (the control API authorizes `$connect` with
 * IAM, DESIGN §2). A browser-style upgrade cannot carry signed headers through every proxy, so the
 * request is presigned: the signature travels in the query string (`X-Amz-Signature`, …), as the
 * execute-api service accepts for WebSocket APIs. Credentials come from the task role through the SDK's
 * default chain; the URL is signed again for every connection (it expires after a minute).
 */
import { createHash, createHmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export type CredentialSource = () => Promise<AwsCredentials>;

/** SHA-256 (and HMAC-SHA-256 with a secret) from node:crypto, in the shape SignatureV4 takes. */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export interface PresignOptions {
  readonly region: string;
  readonly credentials: CredentialSource;
  /** Seconds the signed URL is good for (only the upgrade uses it). */
  readonly expiresIn?: number;
  /** For tests: the signing time. */
  readonly signingDate?: Date;
}

/** `wss://{api}.execute-api.{region}.amazonaws.com/{stage}` → the same URL with a SigV4 query string. */
export async function presignControlUrl(url: string, options: PresignOptions): Promise<string> {
  const parsed = new URL(url);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: NodeSha256,
  });
  const query: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) query[key] = value;
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: parsed.protocol,
      hostname: parsed.hostname,
      ...(parsed.port === '' ? {} : { port: Number(parsed.port) }),
      path: parsed.pathname,
      query,
      headers: { host: parsed.host },
    },
    {
      expiresIn: options.expiresIn ?? 60,
      ...(options.signingDate === undefined ? {} : { signingDate: options.signingDate }),
    },
  );
  const out = new URL(url);
  out.search = '';
  for (const [key, value] of Object.entries(signed.query ?? {})) {
    if (typeof value === 'string') out.searchParams.set(key, value);
  }
  return out.toString();
}

/** The SDK's default credential chain (environment, ECS task role, …). */
export function defaultCredentials(): CredentialSource {
  return defaultProvider();
}
