import { describe, expect, it } from 'vitest';
import {
  endpointFromEnv,
  genesysEndpoint,
  REGION_DOMAINS,
  regionDomain,
  socketUrl,
} from '../../../../src/genesys/client/index.js';
import { GenesysError } from '../../../../src/genesys/errors.js';

describe('genesysEndpoint', () => {
  it('derives the socket and REST URLs of a region domain', () => {
    expect(genesysEndpoint({ domain: 'mypurecloud.ie' })).toEqual({
      wsUrl: 'wss://webmessaging.mypurecloud.ie/v1',
      apiUrl: 'https://api.mypurecloud.ie',
    });
  });

  it('takes full overrides for an emulator and drops trailing slashes', () => {
    expect(genesysEndpoint({ wsUrl: 'ws://127.0.0.1:4000/v1/', apiUrl: 'http://127.0.0.1:4000/' })).toEqual({
      wsUrl: 'ws://127.0.0.1:4000/v1',
      apiUrl: 'http://127.0.0.1:4000',
    });
  });

  it('refuses a malformed domain, a wrong scheme or a query', () => {
    expect(() => genesysEndpoint({ domain: 'not a domain' })).toThrow(GenesysError);
    expect(() => genesysEndpoint({ wsUrl: 'http://x/v1', apiUrl: 'http://x' })).toThrow(/wsUrl must use/);
    expect(() => genesysEndpoint({ wsUrl: 'ws://x/v1?a=1', apiUrl: 'http://x' })).toThrow(/no query/);
    expect(() => genesysEndpoint({ wsUrl: 'ws://x/v1', apiUrl: 'nope' })).toThrow(/apiUrl is not a URL/);
  });
});

describe('regionDomain', () => {
  it('maps every AWS-style name of the reference table, with _ or -', () => {
    expect(regionDomain('eu_west_1')).toBe('mypurecloud.ie');
    expect(regionDomain('us-east-1')).toBe('mypurecloud.com');
    expect(regionDomain('AP_SOUTHEAST_2')).toBe('mypurecloud.com.au');
    expect(Object.keys(REGION_DOMAINS)).toHaveLength(17);
  });

  it('keeps a region domain as it is and knows nothing else', () => {
    expect(regionDomain('usw2.pure.cloud')).toBe('usw2.pure.cloud');
    expect(regionDomain('mars_north_1')).toBeUndefined();
  });
});

describe('endpointFromEnv', () => {
  it('prefers explicit URLs', () => {
    expect(
      endpointFromEnv({
        GENESYS_WS_URL: 'ws://127.0.0.1:1/v1',
        GENESYS_API_URL: 'http://127.0.0.1:1',
        GENESYS_REGION: 'eu_west_1',
      }),
    ).toEqual({ wsUrl: 'ws://127.0.0.1:1/v1', apiUrl: 'http://127.0.0.1:1' });
  });

  it('reads GENESYS_REGION as a domain or an AWS-style name', () => {
    expect(endpointFromEnv({ GENESYS_REGION: 'mypurecloud.de' }).wsUrl).toBe(
      'wss://webmessaging.mypurecloud.de/v1',
    );
    expect(endpointFromEnv({ GENESYS_REGION: 'ca_central_1' }).apiUrl).toBe('https://api.cac1.pure.cloud');
  });

  it('names the missing key', () => {
    expect(() => endpointFromEnv({})).toThrow(/GENESYS_REGION is not set/);
    expect(() => endpointFromEnv({ GENESYS_WS_URL: 'ws://x/v1' })).toThrow(/GENESYS_API_URL is not set/);
    expect(() => endpointFromEnv({ GENESYS_API_URL: 'http://x' })).toThrow(/GENESYS_WS_URL is not set/);
    expect(() => endpointFromEnv({ GENESYS_REGION: '  ' })).toThrow(/GENESYS_REGION is not set/);
  });

  it('says which value of GENESYS_REGION it cannot read', () => {
    try {
      endpointFromEnv({ GENESYS_REGION: 'mars_north_1' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GenesysError);
      expect((error as GenesysError).code).toBe('GENESYS_CONFIG_INVALID');
      expect((error as GenesysError).message).toMatch(/GENESYS_REGION "mars_north_1"/);
    }
  });
});

describe('socketUrl', () => {
  const endpoint = genesysEndpoint({ domain: 'mypurecloud.ie' });

  it('puts the deploymentId in the query', () => {
    expect(socketUrl(endpoint, 'dep-1')).toBe('wss://webmessaging.mypurecloud.ie/v1?deploymentId=dep-1');
  });

  it('adds application when given, encoded', () => {
    expect(socketUrl(endpoint, 'd&1', 'guest-relay-0.1.0')).toBe(
      'wss://webmessaging.mypurecloud.ie/v1?deploymentId=d%261&application=guest-relay-0.1.0',
    );
  });
});
