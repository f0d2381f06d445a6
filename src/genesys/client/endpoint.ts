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
 * AWS-style region names → Genesys region domains: the official Java web messaging SDK's
 * `GenesysCloudRegionWebSocketHosts` and the official JS Platform SDK's `PureCloudRegionHosts` (reference
 * §1, sources J and P), plus sa_east_1 from the Botium connector (source B).
 *
 * This table is also the allowlist of where a session may connect: a guest chooses its region, and a
 * region that is not here would let a guest point the worker (and everyone's sessions on it) at any
 * host. A region Genesys opens later is added here, with its source.
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
  // EU sovereign region: in the Platform SDK's `PureCloudRegionHosts` (purecloud-platform-client-v2
  // 262.0.0, src/purecloud-platform-client-v2/PureCloudRegionHosts.js) and in third-party copies of that
  // table; reference §1 marks webmessaging there [UNCONFIRMED]. Listed because the domain is Genesys'
  // own: allowing it cannot send a session anywhere else.
  eusc_de_east_1: 'edee1.eusc-pure.cloud',
});

const KNOWN_DOMAINS: ReadonlySet<string> = new Set(Object.values(REGION_DOMAINS));

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
 * The endpoint of a known Genesys region domain (`{ domain: 'mypurecloud.ie' }`), or explicit URLs
 * (`{ wsUrl, apiUrl }`) for an emulator or a proxy. Explicit URLs are operator configuration only: a
 * value a guest chose must go through `regionDomain()` / `{ domain }`, which know only REGION_DOMAINS.
 *
 * @throws GenesysError `GENESYS_CONFIG_INVALID` for a domain that is not a known Genesys region domain,
 *   or a malformed URL.
 */
export function genesysEndpoint(
  source: { readonly domain: string } | { readonly wsUrl: string; readonly apiUrl: string },
): GenesysEndpoint {
  if ('domain' in source) {
    const domain = String(source.domain).trim().toLowerCase();
    if (!KNOWN_DOMAINS.has(domain)) {
      throw configError(
        `Not a known Genesys region domain: "${source.domain}" (known: ${[...KNOWN_DOMAINS].join(', ')})`,
      );
    }
    return Object.freeze({ wsUrl: `wss://webmessaging.${domain}/v1`, apiUrl: `https://api.${domain}` });
  }
  return Object.freeze({
    wsUrl: checkUrl(source.wsUrl, ['ws:', 'wss:'], 'wsUrl'),
    apiUrl: checkUrl(source.apiUrl, ['http:', 'https:'], 'apiUrl'),
  });
}

/**
 * A known region domain (`mypurecloud.ie`) as is, or a known AWS-style name (`eu_west_1`, `eu-west-1`)
 * mapped; undefined for anything else, however domain-like (`attacker.net`,
 * `webmessaging.evil.mypurecloud.com.attacker.net`).
 */
export function regionDomain(region: string): string | undefined {
  if (typeof region !== 'string') return undefined;
  const trimmed = region.trim().toLowerCase();
  if (KNOWN_DOMAINS.has(trimmed)) return trimmed;
  const name = trimmed.replaceAll('-', '_');
  return Object.hasOwn(REGION_DOMAINS, name) ? REGION_DOMAINS[name] : undefined;
}

/** Whether a region named by a guest (domain or AWS-style name) is one of REGION_DOMAINS: for frame validation. */
export function isKnownRegion(region: unknown): boolean {
  return typeof region === 'string' && regionDomain(region) !== undefined;
}

/**
 * The region domain of an endpoint built from one (`https://api.<known domain>`, nothing else in the
 * URL); undefined for explicit URLs elsewhere (an emulator, a proxy).
 */
export function endpointRegionDomain(endpoint: GenesysEndpoint): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint.apiUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.port !== '' || url.username !== '' || url.password !== '') {
    return undefined;
  }
  if (url.pathname !== '/' || !url.hostname.startsWith('api.')) return undefined;
  const domain = url.hostname.slice('api.'.length);
  return KNOWN_DOMAINS.has(domain) ? domain : undefined;
}

/** `${wsUrl}?deploymentId=…[&application=…]`, as Genesys' own SDKs build it (reference §1). */
export function socketUrl(endpoint: GenesysEndpoint, deploymentId: string, application?: string): string {
  const query = new URLSearchParams({ deploymentId });
  if (application !== undefined) query.set('application', application);
  return `${endpoint.wsUrl}?${query.toString()}`;
}
