import { describe, expect, it } from 'vitest';
import {
  GenesysError,
  type GenesysErrorCode,
  GenesysRateLimitError,
  GenesysRequestError,
} from '../../../src/genesys/errors.js';
import { isErrorCode } from '../../../src/protocol/error-codes.js';
import { failureOf } from '../../../worker/failures.js';

/** Looks like a credential: it must never be copied from an error into a stored/shown failure. */
const TOKEN = 'tok_SECRET_5f2c9a71e4b8';
const LEAKY = `upstream said: bearer ${TOKEN} rejected`;

function expectClean(failure: { code: string; message: string }): void {
  expect(isErrorCode(failure.code)).toBe(true);
  expect(failure.message).not.toContain(TOKEN);
  expect(failure.message).not.toContain('upstream said');
  expect(failure.message.length).toBeGreaterThan(0);
}

describe('failureOf', () => {
  it.each([
    ['a plain Error', new Error(LEAKY)],
    ['a TypeError', new TypeError(LEAKY)],
    ['a string', LEAKY],
    ['undefined', undefined],
    [
      'an object with a Genesys-looking code',
      { code: 'GENESYS_READ_ONLY', genesysCode: 4011, message: LEAKY },
    ],
  ])('maps %s (not a GenesysError) to upstream_unavailable', (_name, error) => {
    const failure = failureOf(error);
    expect(failure.code).toBe('upstream_unavailable');
    expectClean(failure);
  });

  it('maps a GenesysRateLimitError to rate_limited', () => {
    const failure = failureOf(new GenesysRateLimitError(2_000, LEAKY));
    expect(failure.code).toBe('rate_limited');
    expectClean(failure);
  });

  it.each<[GenesysErrorCode, string]>([
    ['GENESYS_SESSION_EXPIRED', 'session_ended'],
    ['GENESYS_READ_ONLY', 'session_read_only'],
    ['GENESYS_TIMEOUT', 'upstream_unavailable'],
    ['GENESYS_CONNECTION_LOST', 'upstream_unavailable'],
    ['GENESYS_HTTP_ERROR', 'upstream_unavailable'],
    ['GENESYS_RATE_LIMITED', 'rate_limited'],
  ])('maps %s to %s, whatever wire code it carries', (code, expected) => {
    for (const kind of ['send', 'upload', 'context'] as const) {
      for (const genesysCode of [undefined, 4011, 4001]) {
        const error = new GenesysError(
          code,
          LEAKY,
          genesysCode === undefined ? {} : { genesysCode, cause: new Error(TOKEN) },
        );
        const failure = failureOf(error, kind);
        expect(failure.code, `${code} ${kind} ${genesysCode}`).toBe(expected);
        expectClean(failure);
      }
    }
  });

  it('tells a lost connection apart from a slow answer, and says what to do about each', () => {
    const lost = failureOf(new GenesysError('GENESYS_CONNECTION_LOST', LEAKY), 'upload');
    expect(lost.message).toMatch(/connection to Genesys was lost.*try again once it says connected/);
    const slow = failureOf(new GenesysError('GENESYS_TIMEOUT', LEAKY), 'upload');
    expect(slow.message).toMatch(/did not answer in time; try again/);
  });

  it.each([
    [4011, 'text_too_long'],
    [4013, 'context_too_large'],
    [4010, 'attachment_not_found'],
    [4008, 'attachment_not_found'],
    [4006, 'session_ended'],
    [4007, 'session_not_found'],
    [4029, 'rate_limited'],
    [4999, 'upstream_rejected'],
    [500, 'upstream_rejected'],
  ])('maps a GenesysRequestError %i to %s', (wire, expected) => {
    const failure = failureOf(new GenesysRequestError(wire, LEAKY));
    expect(failure.code).toBe(expected);
    expect(failure.message).toContain(String(wire));
    expectClean(failure);
  });

  it('uses the same table for context flushes', () => {
    expect(failureOf(new GenesysRequestError(4013, LEAKY), 'context').code).toBe('context_too_large');
    expect(failureOf(new GenesysRequestError(4999, LEAKY), 'context').code).toBe('upstream_rejected');
  });

  it.each([
    [4001, 'attachment_type_not_allowed'],
    [4002, 'attachment_too_large'],
    [4003, 'attachment_empty'],
    [4004, 'attachment_name_invalid'],
    [4010, 'attachment_not_found'],
    [4999, 'upstream_rejected'],
  ])('maps an upload refusal %i to %s', (wire, expected) => {
    for (const error of [
      new GenesysRequestError(wire, LEAKY),
      new GenesysError('GENESYS_UPLOAD_FAILED', LEAKY, { genesysCode: wire }),
    ]) {
      const failure = failureOf(error, 'upload');
      expect(failure.code).toBe(expected);
      expectClean(failure);
    }
  });

  it('uses the upload meaning of 4003 only for uploads', () => {
    // 4003 is listed by no protocol code: outside an upload it is just a refusal.
    expect(failureOf(new GenesysRequestError(4003, LEAKY), 'send').code).toBe('upstream_rejected');
    expect(failureOf(new GenesysRequestError(4003, LEAKY), 'upload').code).toBe('attachment_empty');
  });

  it('defaults to kind send', () => {
    expect(failureOf(new GenesysRequestError(4003, LEAKY))).toEqual(
      failureOf(new GenesysRequestError(4003, LEAKY), 'send'),
    );
  });

  it.each<GenesysErrorCode>([
    'GENESYS_REQUEST_REJECTED',
    'GENESYS_UPLOAD_FAILED',
    'GENESYS_CONFIG_INVALID',
    'GENESYS_INVALID_STATE',
  ])('maps %s without a wire code to upstream_rejected', (code) => {
    const failure = failureOf(new GenesysError(code, LEAKY));
    expect(failure).toEqual({ code: 'upstream_rejected', message: 'Genesys refused it.' });
  });
});
