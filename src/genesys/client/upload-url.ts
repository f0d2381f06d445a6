/**
 * Where `upload()` may PUT a guest's bytes. The URL comes from the PresignedUrlResponse (reference §9),
 * i.e. from whatever answers on the upstream socket: unchecked, one hostile or broken upstream could
 * make the worker send files, or requests, anywhere its network reaches.
 *
 * The reference documents no host pattern for presigned upload URLs (its fixtures use placeholders; the
 * `x-amz-tagging` header suggests an S3-style store), so the default allows only what the endpoint
 * itself vouches for, and `uploadHosts` (an option) adds what an operator has seen Genesys use:
 * - an endpoint of a known region (`https://api.<region domain>`): https, default port, a host under
 *   that region domain (`*.mypurecloud.ie`);
 * - explicit URLs (the emulator): the endpoint's own origin (scheme, host and port of `apiUrl`), the one
 *   case where http is allowed.
 * Entries of `uploadHosts` are always https on the default port: `host` exactly, `.domain` its subdomains.
 */
import { GenesysError } from '../errors.js';
import { endpointRegionDomain, type GenesysEndpoint } from './endpoint.js';

/** Throws GENESYS_UPLOAD_URL_REFUSED for a URL the client must not PUT to; returns it parsed otherwise. */
export type UploadUrlCheck = (url: string) => URL;

function refused(message: string): GenesysError {
  return new GenesysError('GENESYS_UPLOAD_URL_REFUSED', `Upload URL refused: ${message}`);
}

function listed(host: string, hosts: readonly string[]): boolean {
  return hosts.some((entry) => (entry.startsWith('.') ? host.endsWith(entry) : host === entry));
}

/** An endpoint built by hand may hold anything: a URL that does not parse allows no origin. */
function originOf(apiUrl: string): string | undefined {
  try {
    return new URL(apiUrl).origin;
  } catch {
    return undefined;
  }
}

/** The check for one session's endpoint; `uploadHosts` as resolved by ./options.ts (lower-cased). */
export function uploadUrlCheck(endpoint: GenesysEndpoint, uploadHosts: readonly string[]): UploadUrlCheck {
  const regionDomain = endpointRegionDomain(endpoint);
  const ownOrigin = regionDomain === undefined ? originOf(endpoint.apiUrl) : undefined;
  const allowedHere =
    regionDomain === undefined
      ? `neither the endpoint's own origin (${ownOrigin ?? 'none'}) nor in uploadHosts`
      : `not under the region domain ${regionDomain} nor in uploadHosts`;
  return (value) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      // The value itself is not repeated: a presigned URL carries a signature.
      throw refused('not a URL');
    }
    const host = url.hostname;
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw refused(`the scheme must be https, not ${url.protocol}`);
    }
    if (url.username !== '' || url.password !== '') {
      throw refused(`host "${host}": the URL carries credentials`);
    }
    if (ownOrigin !== undefined && url.origin === ownOrigin) return url;
    const underRegion = regionDomain !== undefined && host.endsWith(`.${regionDomain}`);
    if (!underRegion && !listed(host, uploadHosts)) throw refused(`host "${host}" is ${allowedHere}`);
    if (url.protocol !== 'https:') {
      throw refused(`host "${host}": the scheme must be https, not ${url.protocol}`);
    }
    if (url.port !== '') throw refused(`host "${host}": port ${url.port} (only the default https port)`);
    return url;
  };
}
