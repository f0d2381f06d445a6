/** The emulator's pure parts: frame limits, route selection, the authorizer policy decision, options. */
import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/gateway/emulator/authorize.js';
import { newConnectionId } from '../../../src/gateway/emulator/events.js';
import { FrameInspector } from '../../../src/gateway/emulator/frame-inspector.js';
import { resolveOptions } from '../../../src/gateway/emulator/options.js';
import { selectRoute } from '../../../src/gateway/emulator/route-selection.js';

/** A masked client frame header (payload not included). */
function header(opcode: number, fin: boolean, length: number): Buffer {
  const first = (fin ? 0x80 : 0) | opcode;
  const mask = Buffer.from([1, 2, 3, 4]);
  if (length < 126) return Buffer.concat([Buffer.from([first, 0x80 | length]), mask]);
  if (length < 65_536) {
    const b = Buffer.from([first, 0x80 | 126, 0, 0]);
    b.writeUInt16BE(length, 2);
    return Buffer.concat([b, mask]);
  }
  const b = Buffer.alloc(10);
  b[0] = first;
  b[1] = 0x80 | 127;
  b.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([b, mask]);
}

const limits = { maxFrameBytes: 32 * 1024, maxMessageBytes: 128 * 1024 };

describe('FrameInspector', () => {
  it('passes frames at the limits, split across chunks at any byte', () => {
    const small = { maxFrameBytes: 300, maxMessageBytes: 600 };
    const stream = Buffer.concat([
      header(1, false, 300),
      Buffer.alloc(300),
      header(9, true, 4),
      Buffer.alloc(4),
      header(0, true, 300),
      Buffer.alloc(300),
    ]);
    for (const size of [1, 3, 7, 100, stream.length]) {
      let frames = 0;
      const inspector = new FrameInspector(small, () => frames++);
      for (let i = 0; i < stream.length; i += size)
        expect(inspector.push(stream.subarray(i, i + size))).toBeUndefined();
      expect(frames).toBe(2);
    }
  });

  it('flags a frame over the frame limit with 1009 from its header alone', () => {
    expect(new FrameInspector(limits).push(header(1, true, 32 * 1024 + 1))).toMatchObject({ code: 1009 });
    expect(new FrameInspector(limits).push(header(1, true, 2 ** 40))).toMatchObject({ code: 1009 });
  });

  it('flags a fragmented message over the message limit with 1009, and resets after FIN', () => {
    const ok = new FrameInspector(limits);
    for (let i = 0; i < 4; i++)
      ok.push(Buffer.concat([header(i === 0 ? 1 : 0, i === 3, 32 * 1024), Buffer.alloc(32 * 1024)]));
    expect(ok.push(Buffer.concat([header(1, true, 10), Buffer.alloc(10)]))).toBeUndefined();
    const over = new FrameInspector(limits);
    let result: unknown;
    for (let i = 0; i < 5; i++)
      result = over.push(Buffer.concat([header(i === 0 ? 1 : 0, false, 32 * 1024), Buffer.alloc(32 * 1024)]));
    expect(result).toMatchObject({ code: 1009 });
  });

  it('flags a binary frame with 1003', () => {
    expect(new FrameInspector(limits).push(header(2, true, 3))).toMatchObject({ code: 1003 });
  });
});

describe('selectRoute', () => {
  const routes = { $default: 1, send: 2, '42': 3 };
  it.each([
    ['{"action":"send"}', 'send'],
    ['{"action":"other"}', '$default'],
    ['{"action":42}', '42'],
    ['{"action":"$connect"}', '$default'],
    ['{"text":"no action"}', '$default'],
    ['[1,2]', '$default'],
    ['not json', '$default'],
  ])('routes %s to %s', (body, key) => {
    expect(selectRoute(body, ['action'], routes)).toBe(key);
  });

  it('follows nested paths and gives undefined without $default', () => {
    expect(selectRoute('{"a":{"b":"send"}}', ['a', 'b'], { send: 1 })).toBe('send');
    expect(selectRoute('{"action":"x"}', ['action'], { send: 1 })).toBeUndefined();
  });
});

describe('authorizer decision', () => {
  const arn = 'arn:aws:execute-api:us-east-1:000000000000:abc/local/$connect';
  const result = (effect: string, resource: string, context: Record<string, unknown> = {}) => ({
    principalId: 'p',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
    },
    context,
  });

  it('allows a matching Allow and flattens the context with principalId', () => {
    expect(decide(result('Allow', arn, { team: 'blue', n: 1 }), arn)).toEqual({
      allow: true,
      authorizer: { principalId: 'p', team: 'blue', n: 1 },
    });
    expect(decide(result('Allow', 'arn:aws:execute-api:*:*:abc/*'), arn).allow).toBe(true);
  });

  it('refuses Deny and an Allow for another resource with 403', () => {
    expect(decide(result('Deny', arn), arn)).toMatchObject({ allow: false, status: 403 });
    expect(decide(result('Allow', 'arn:aws:execute-api:*:*:other/*'), arn)).toMatchObject({ status: 403 });
  });

  it('treats a missing principalId or a nested context value as a 500', () => {
    expect(decide({ policyDocument: { Statement: [] } }, arn)).toMatchObject({ status: 500 });
    expect(decide(result('Allow', arn, { nested: { a: 1 } }), arn)).toMatchObject({ status: 500 });
  });
});

describe('emulator options', () => {
  it('rejects unknown options and limits, and bad expressions', () => {
    expect(() => resolveOptions({ routes: {}, prot: 1 } as never)).toThrow(TypeError);
    expect(() => resolveOptions({ routes: {}, prot: 1 } as never)).toThrow(
      /^startWebSocketApi: unknown option "prot" \(known options: host, port, /,
    );
    expect(() => resolveOptions({ routes: {}, limits: { maxMsg: 1 } as never })).toThrow(
      /startWebSocketApi limits: unknown option "maxMsg"/,
    );
    expect(() => resolveOptions({} as never)).toThrow(/"routes" option is required/);
    expect(() => resolveOptions({ routes: {}, routeSelectionExpression: '$request.header.x' })).toThrow(
      RangeError,
    );
    expect(() => resolveOptions({ routes: {}, limits: { maxFrameBytes: 0 } })).toThrow(RangeError);
  });

  it('makes connection ids that need URL-encoding', () => {
    const id = newConnectionId();
    expect(id).toMatch(/^[A-Za-z0-9]{11}=$/);
    expect(encodeURIComponent(id)).toContain('%3D');
  });
});
