import { describe, expect, it, vi } from 'vitest';
import {
  endpointRegionDomain,
  GuestSession,
  genesysEndpoint,
  isKnownRegion,
  REGION_DOMAINS,
  regionDomain,
} from '../../../../src/genesys/client/index.js';
import { GenesysError } from '../../../../src/genesys/errors.js';
import { baseOptions, FakeClock, FakeSocket } from './fakes.js';

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

/** Domain-like names a guest could send: none is a Genesys region, and none may reach the network. */
const HOSTILE = [
  'attacker.net',
  'webmessaging.evil.mypurecloud.com.attacker.net',
  'evil.mypurecloud.com',
  'mypurecloud.com.attacker.net',
  'api.mypurecloud.ie',
  'mypurecloud.ie.',
  'pure.cloud',
  'localhost',
  '127.0.0.1',
  'mypurecloud.ie/../x',
  '__proto__',
  'constructor',
  'toString',
  '',
];

describe('genesysEndpoint of a domain', () => {
  it('builds the endpoint of every known region domain', () => {
    for (const domain of Object.values(REGION_DOMAINS)) {
      expect(genesysEndpoint({ domain }).apiUrl).toBe(`https://api.${domain}`);
    }
    expect(genesysEndpoint({ domain: ' MyPureCloud.IE ' }).wsUrl).toBe(
      'wss://webmessaging.mypurecloud.ie/v1',
    );
  });

  it.each(HOSTILE)('refuses %j, which is not a known region domain', (domain) => {
    try {
      genesysEndpoint({ domain });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GenesysError);
      expect((error as GenesysError).code).toBe('GENESYS_CONFIG_INVALID');
      expect((error as GenesysError).message).toMatch(/Not a known Genesys region domain/);
    }
  });
});

describe('a region a guest names', () => {
  it('never reaches the socket constructor or fetch when it is not known', () => {
    const WebSocket = vi.fn();
    const fetch = vi.fn();
    for (const region of HOSTILE) {
      expect(regionDomain(region)).toBeUndefined();
      expect(() => {
        const guest = new GuestSession(
          baseOptions(new FakeClock(), {
            endpoint: genesysEndpoint({ domain: region }),
            WebSocket: WebSocket as never,
            fetch: fetch as never,
          }),
        );
        void guest.start();
      }).toThrow(/Not a known Genesys region domain/);
    }
    expect(WebSocket).not.toHaveBeenCalled();
    expect(fetch).not.toHaveBeenCalled();
    expect(FakeSocket.instances).toHaveLength(0);
  });
});

describe('regionDomain', () => {
  it('maps every AWS-style name of the reference table, with _ or -', () => {
    expect(regionDomain('eu_west_1')).toBe('mypurecloud.ie');
    expect(regionDomain('us-east-1')).toBe('mypurecloud.com');
    expect(regionDomain('AP_SOUTHEAST_2')).toBe('mypurecloud.com.au');
    expect(regionDomain('eusc-de-east-1')).toBe('edee1.eusc-pure.cloud');
    expect(Object.keys(REGION_DOMAINS)).toHaveLength(18);
    for (const [name, domain] of Object.entries(REGION_DOMAINS)) expect(regionDomain(name)).toBe(domain);
  });

  it('keeps a known region domain as it is and knows nothing else', () => {
    expect(regionDomain('usw2.pure.cloud')).toBe('usw2.pure.cloud');
    expect(regionDomain(' MYPURECLOUD.DE ')).toBe('mypurecloud.de');
    expect(regionDomain('mars_north_1')).toBeUndefined();
  });

  it.each(HOSTILE)('returns undefined for %j', (region) => {
    expect(regionDomain(region)).toBeUndefined();
  });
});

describe('isKnownRegion', () => {
  it('accepts known region names and domains only', () => {
    expect(isKnownRegion('eu_west_1')).toBe(true);
    expect(isKnownRegion('eu-west-1')).toBe(true);
    expect(isKnownRegion('mypurecloud.ie')).toBe(true);
    expect(isKnownRegion('sae1.pure.cloud')).toBe(true);
    for (const region of HOSTILE) expect(isKnownRegion(region)).toBe(false);
    for (const value of [undefined, null, 1, {}, ['eu_west_1']]) expect(isKnownRegion(value)).toBe(false);
  });
});

describe('endpointRegionDomain', () => {
  it('names the region of an endpoint built from one', () => {
    expect(endpointRegionDomain(genesysEndpoint({ domain: 'euw2.pure.cloud' }))).toBe('euw2.pure.cloud');
  });

  it('is undefined for explicit URLs that are not exactly a region API', () => {
    for (const apiUrl of [
      'http://127.0.0.1:4000',
      'https://api.attacker.net',
      'http://api.mypurecloud.ie',
      'https://api.mypurecloud.ie:8443',
      'https://api.mypurecloud.ie/prefix',
      'https://user@api.mypurecloud.ie',
      'https://proxy.mypurecloud.ie',
    ]) {
      expect(endpointRegionDomain({ wsUrl: 'wss://x/v1', apiUrl }), apiUrl).toBeUndefined();
    }
  });
});
