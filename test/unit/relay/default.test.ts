import { describe, expect, it } from 'vitest';
import type { ClientFrame, ServerEvent } from '../../../src/protocol/index.js';
import { type ActionHandlers, createDefaultHandler } from '../../../src/relay/default.js';

describe('createDefaultHandler', () => {
  it('hands a valid frame that reached $default to its own handler', async () => {
    const seen: string[] = [];
    const handler = (name: string) => async () => {
      seen.push(name);
      return { type: 'pong', time: '2026-01-01T00:00:00.000Z' } as ServerEvent;
    };
    const handlers = Object.fromEntries(
      ['connect', 'send', 'typing', 'context', 'upload', 'history', 'end', 'ping'].map((a) => [
        a,
        handler(a),
      ]),
    ) as unknown as ActionHandlers;
    const dispatch = createDefaultHandler(handlers);
    const frame: ClientFrame = { action: 'history' };
    await dispatch({ requestContext: { connectionId: 'c' }, frame });
    expect(seen).toEqual(['history']);
  });
});
