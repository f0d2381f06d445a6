/**
 * Where a guest session connects: the web messaging socket and the REST base of one Genesys region
 * (reference §1), or explicit URLs for an emulator. Pure: the environment is passed in.
 */
import { GenesysError } from '../errors.js';

export interface GenesysEndpoint {
  /** Socket base without query, e.g. `wss://webmessaging.mypurecloud.ie/v1`. */
  readonly wsUrl: string;
  /** REST base without trailing slash, e.g. `https://api.mypurecloud.ie`. */
  readonly apiUrl: string;
}

/**
 * AWS-style region names → Genesys region domains, from the official Java web messaging SDK's
 * `GenesysCloudRegionWebSocketHosts` (reference §1), plus sa_east_1 from the Botium connector.
 */
export const REGION_DOMAINS: Readonly<Record<string, string>> = Object.freeze({
  us_east_1: 'mypurecloud.com',
  eu_west_1: 'mypurecloud.ie',
  ap_southeast_2: 'mypurecloud.com.au',
  ap_northeast_1: 'mypurecloud.jp',
  eu_central_1: 'mypurecloud.de',
  us_west_2: 'usw2.pure.cloud',
  ca_central_1: 'cac1.pure.cloud',
  ap_northeast_2: 'apne2.pure.cloud',
  eu_west_2: 'euw2.pure.cloud',
  ap_south_1: 'aps1.pure.cloud',
  us_east_2: 'use2.us-gov-pure.cloud',
  me_central_1: 'mec1.pure.cloud',
  ap_northeast_3: 'apne3.pure.cloud',
  eu_central_2: 'euc2.pure.cloud',
  mx_central_1: 'mxc1.pure.cloud',
  ap_southeast_1: 'apse1.pure.cloud',
  sa_east_1: 'sae1.pure.cloud',
});

const DOMAIN = /^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

function configError(message: string): GenesysError {
  return new GenesysError('GENESYS_CONFIG_INVALID', message);
}

function checkUrl(value: string, protocols: readonly string[], key: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(`${key} is not a URL: "${value}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw configError(`${key} must use ${protocols.join(' or ')}, got "${url.protocol}"`);
  }
  if (url.search !== '' || url.hash !== '') throw configError(`${key} must have no query or fragment`);
  return value.replace(/\/+$/, '');
}

/**
 * The endpoint of a Genesys region domain (`{ domain: 'mypurecloud.ie' }`), or explicit URLs
 * (`{ wsUrl, apiUrl }`) for an emulator or a proxy.
 *
 * @throws GenesysError `GENESYS_CONFIG_INVALID` for a malformed domain or URL.
 */
export function genesysEndpoint(
  source: { readonly domain: string } | { readonly wsUrl: string; readonly apiUrl: string },
): GenesysEndpoint {
  if ('domain' in source) {
    const domain = source.domain.trim().toLowerCase();
    if (!DOMAIN.test(domain)) throw configError(`Not a Genesys region domain: "${source.domain}"`);
    return Object.freeze({ wsUrl: `wss://webmessaging.${domain}/v1`, apiUrl: `https://api.${domain}` });
  }
  return Object.freeze({
    wsUrl: checkUrl(source.wsUrl, ['ws:', 'wss:'], 'wsUrl'),
    apiUrl: checkUrl(source.apiUrl, ['http:', 'https:'], 'apiUrl'),
  });
}

/** A region domain (`mypurecloud.ie`) as is, or an AWS-style name (`eu_west_1`, `eu-west-1`) mapped. */
export function regionDomain(region: string): string | undefined {
  const trimmed = region.trim().toLowerCase();
  if (trimmed.includes('.')) return DOMAIN.test(trimmed) ? trimmed : undefined;
  return REGION_DOMAINS[trimmed.replaceAll('-', '_')];
}

/**
 * The endpoint from configuration: `GENESYS_WS_URL` and `GENESYS_API_URL` together (they win), else
 * `GENESYS_REGION`. Fails naming the key that is missing or wrong.
 *
 * @throws GenesysError `GENESYS_CONFIG_INVALID`.
 */
export function endpointFromEnv(env: Readonly<Record<string, string | undefined>>): GenesysEndpoint {
  const wsUrl = env.GENESYS_WS_URL?.trim() || undefined;
  const apiUrl = env.GENESYS_API_URL?.trim() || undefined;
  if (wsUrl !== undefined && apiUrl !== undefined) return genesysEndpoint({ wsUrl, apiUrl });
  if (wsUrl !== undefined) throw configError('GENESYS_API_URL is not set (GENESYS_WS_URL is)');
  if (apiUrl !== undefined) throw configError('GENESYS_WS_URL is not set (GENESYS_API_URL is)');
  const region = env.GENESYS_REGION?.trim();
  if (!region) {
    throw configError('GENESYS_REGION is not set (nor GENESYS_WS_URL and GENESYS_API_URL)');
  }
  const domain = regionDomain(region);
  if (domain === undefined) {
    throw configError(
      `GENESYS_REGION "${region}" is neither a region domain (e.g. mypurecloud.ie) nor a known region ` +
        `name (${Object.keys(REGION_DOMAINS).join(', ')})`,
    );
  }
  return genesysEndpoint({ domain });
}

/** `${wsUrl}?deploymentId=…[&application=…]`, as Genesys' own SDKs build it (reference §1). */
export function socketUrl(endpoint: GenesysEndpoint, deploymentId: string, application?: string): string {
  const query = new URLSearchParams({ deploymentId });
  if (application !== undefined) query.set('application', application);
  return `${endpoint.wsUrl}?${query.toString()}`;
}
