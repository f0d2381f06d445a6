import { describe, expect, it } from 'vitest';
import {
  fetchHistoryPage,
  fetchHistorySince,
  JwtCache,
  parseHistoryPage,
} from '../../../../src/genesys/client/history.js';
import { GenesysError } from '../../../../src/genesys/errors.js';
import { fakeFetch } from './fakes.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString();
const msg = (id: string, seconds: number | null) => ({
  id,
  type: 'Text',
  text: id,
  direction: 'Outbound',
  channel: { time: seconds === null ? null : at(seconds) },
});

/** 60 messages m0…m59, one per second, served newest first in pages of 25. */
function pagedHistory() {
  const all = Array.from({ length: 60 }, (_, i) => msg(`m${i}`, i)).reverse();
  return fakeFetch(({ url }) => {
    const page = Number(new URL(url).searchParams.get('pageNumber'));
    return {
      json: { entities: all.slice((page - 1) * 25, page * 25), pageSize: 25, pageNumber: page, pageCount: 3 },
    };
  });
}

describe('fetchHistoryPage', () => {
  it('sends the bearer JWT and the Origin', async () => {
    const fetch = fakeFetch(() => ({ json: { entities: [], pageCount: 1 } }));
    await fetchHistoryPage({ fetch, apiUrl: 'https://api.x', jwt: 'j.w.t', origin: 'https://site' }, 2);
    const call = fetch.calls[0];
    expect(call?.url).toBe('https://api.x/api/v2/webmessaging/messages?pageSize=25&pageNumber=2');
    expect(call?.init.headers).toMatchObject({ Authorization: 'bearer j.w.t', Origin: 'https://site' });
    expect(call?.init.method).toBe('GET');
  });

  it('turns an HTTP error into a typed error that does not show the JWT', async () => {
    const fetch = fakeFetch(() => ({ status: 401, text: 'bad token j.w.t' }));
    const error = await fetchHistoryPage({ fetch, apiUrl: 'https://api.x', jwt: 'j.w.t' }, 1).catch((e) => e);
    expect(error).toBeInstanceOf(GenesysError);
    expect(error.code).toBe('GENESYS_HTTP_ERROR');
    expect(error.genesysCode).toBe(401);
    expect(error.message).not.toContain('j.w.t');
  });
});

describe('parseHistoryPage', () => {
  it('drops entities without an id and refuses a body without entities', () => {
    expect(parseHistoryPage({ entities: [{ id: 'a' }, { nope: 1 }, 'x'], pageCount: 2 }, 1)).toEqual({
      entities: [{ id: 'a' }],
      pageNumber: 1,
      pageCount: 2,
    });
    expect(() => parseHistoryPage({}, 1)).toThrow(GenesysError);
  });
});

describe('fetchHistorySince', () => {
  it('stops at the first page holding only messages older than the horizon', async () => {
    const fetch = pagedHistory();
    const messages = await fetchHistorySince(
      { fetch, apiUrl: 'https://api.x', jwt: 'j' },
      Date.parse(at(40)),
    );
    // Page 1 holds m59…m35: it reaches below 40 but not only below, so page 2 is read as well.
    expect(fetch.calls).toHaveLength(2);
    expect(messages[0]?.id).toBe('m10');
    expect(messages.at(-1)?.id).toBe('m59');
  });

  it('stops after page 1 when even its oldest message is older than the horizon', async () => {
    const fetch = pagedHistory();
    await fetchHistorySince({ fetch, apiUrl: 'https://api.x', jwt: 'j' }, Date.parse(at(59)) + 1);
    expect(fetch.calls).toHaveLength(1);
  });

  it('reads to pageCount without a horizon, and returns oldest first', async () => {
    const fetch = pagedHistory();
    const messages = await fetchHistorySince({ fetch, apiUrl: 'https://api.x', jwt: 'j' }, undefined);
    expect(fetch.calls).toHaveLength(3);
    expect(messages.map((m) => m.id)).toEqual(Array.from({ length: 60 }, (_, i) => `m${i}`));
  });

  it('keeps paging past messages whose time is null, up to maxPages', async () => {
    const fetch = fakeFetch(() => ({ json: { entities: [msg('x', null)], pageCount: 99 } }));
    await fetchHistorySince({ fetch, apiUrl: 'https://api.x', jwt: 'j' }, 0, 4);
    expect(fetch.calls).toHaveLength(4);
  });
});

describe('JwtCache', () => {
  it('keeps the JWT until a minute before it expires', () => {
    const cache = new JwtCache();
    cache.set('jwt', 1000);
    expect(cache.get(1000 * 1000 - 60_001)).toBe('jwt');
    expect(cache.get(1000 * 1000 - 60_000)).toBeUndefined();
    cache.clear();
    expect(cache.get(0)).toBeUndefined();
  });
});
