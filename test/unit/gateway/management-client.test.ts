/** ManagementClient on errors no local engine produces: a bare 410 (no x-amzn-ErrorType), 5xx, a failing store. */
import { describe, expect, it } from 'vitest';
import { GatewayError, isGone, toGatewayError } from '../../../src/gateway/errors.js';
import { ManagementClient, type ManagementSdk } from '../../../src/gateway/management-client.js';

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

function fakeSdk(outcomes: (Error | undefined)[]): ManagementSdk & { calls: number } {
  const sdk = {
    calls: 0,
    async send(): Promise<unknown> {
      const outcome = outcomes[sdk.calls++];
      if (outcome) throw outcome;
      return {};
    },
  };
  return sdk;
}

const immediate = {
  setTimeout: (callback: () => void) => setTimeout(callback, 0),
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

describe('ManagementClient', () => {
  it('treats a 410 without x-amzn-ErrorType (SDK name "Unknown") as gone and deletes that row', async () => {
    const deleted: string[] = [];
    const client = new ManagementClient({
      sdk: fakeSdk([sdkError('Unknown', 410)]),
      connections: { delete: async (id) => void deleted.push(id) },
    });
    await expect(client.post('Abc12345XYZ=', 'x')).resolves.toEqual({ gone: true });
    expect(deleted).toEqual(['Abc12345XYZ=']);
  });

  it('retries throttling, with the attempts bounded', async () => {
    const sdk = fakeSdk([sdkError('LimitExceededException', 429), sdkError('LimitExceededException', 429)]);
    const client = new ManagementClient(
      { sdk, connections: { delete: async () => {} } },
      { maxAttempts: 3, clock: immediate },
    );
    await expect(client.post('id', 'x')).resolves.toEqual({ gone: false });
    expect(sdk.calls).toBe(3);
  });

  it('retries a 5xx and a failed connection, bounded, then reports GATEWAY_UNAVAILABLE', async () => {
    const reset = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
    const recovered = fakeSdk([sdkError('InternalServerError', 500), reset]);
    const client = new ManagementClient(
      { sdk: recovered, connections: { delete: async () => {} } },
      { clock: immediate },
    );
    await expect(client.post('id', 'x')).resolves.toEqual({ gone: false });
    expect(recovered.calls).toBe(3);

    const down = fakeSdk([1, 2, 3].map(() => sdkError('InternalServerError', 500)));
    const bounded = new ManagementClient(
      { sdk: down, connections: { delete: async () => {} } },
      { maxAttempts: 3, clock: immediate },
    );
    await expect(bounded.post('id', 'x')).rejects.toMatchObject({
      code: 'GATEWAY_UNAVAILABLE',
      retryable: true,
      message: expect.stringContaining('after 3 attempts'),
    });
    expect(down.calls).toBe(3);
  });

  it('does not retry what another try cannot fix (403, 413)', async () => {
    for (const error of [sdkError('ForbiddenException', 403), sdkError('PayloadTooLargeException', 413)]) {
      const sdk = fakeSdk([error]);
      const client = new ManagementClient(
        { sdk, connections: { delete: async () => {} } },
        { clock: immediate },
      );
      await expect(client.post('id', 'x')).rejects.toBeInstanceOf(GatewayError);
      expect(sdk.calls).toBe(1);
    }
  });

  it('reports GATEWAY_FAILED when the stale row cannot be deleted', async () => {
    const client = new ManagementClient({
      sdk: fakeSdk([sdkError('GoneException', 410)]),
      connections: {
        delete: async () => {
          throw new Error('db down');
        },
      },
    });
    await expect(client.post('id', 'x')).rejects.toMatchObject({ code: 'GATEWAY_FAILED' });
  });

  it('rejects unknown options and a bad maxAttempts', () => {
    const deps = { sdk: fakeSdk([]), connections: { delete: async () => {} } };
    expect(() => new ManagementClient(deps, { retries: 3 } as never)).toThrow(TypeError);
    expect(() => new ManagementClient(deps, { maxAttempts: 0 })).toThrow(RangeError);
  });

  it('fails fast with GATEWAY_ABORTED when the signal already fired', async () => {
    const sdk = fakeSdk([]);
    const client = new ManagementClient({ sdk, connections: { delete: async () => {} } });
    await expect(client.post('id', 'x', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'GATEWAY_ABORTED',
    });
    expect(sdk.calls).toBe(0);
  });
});

describe('gateway error mapping', () => {
  it.each([
    ['PayloadTooLargeException', 413, 'GATEWAY_PAYLOAD_TOO_LARGE'],
    ['ForbiddenException', 403, 'GATEWAY_FORBIDDEN'],
    ['LimitExceededException', 429, 'GATEWAY_THROTTLED'],
    ['ServiceUnavailable', 503, 'GATEWAY_UNAVAILABLE'],
    ['AbortError', 0, 'GATEWAY_ABORTED'],
    ['BadRequestException', 400, 'GATEWAY_FAILED'],
  ])('maps %s (%i) to %s', (name, status, code) => {
    const mapped = toGatewayError(sdkError(name, status), 'post');
    expect(mapped).toBeInstanceOf(GatewayError);
    expect(mapped.code).toBe(code);
  });

  it('recognises gone by class name or status', () => {
    expect(isGone(sdkError('GoneException', 0))).toBe(true);
    expect(isGone(sdkError('Unknown', 410))).toBe(true);
    expect(isGone(sdkError('ForbiddenException', 403))).toBe(false);
  });
});
