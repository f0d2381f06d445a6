import { describe, expect, it } from 'vitest';
import type { ClientFrame } from '../../../src/protocol/index.js';
import { ProtocolError } from '../../../src/protocol/index.js';
import { assertAllowed, type Caller, callerOf } from '../../../src/relay/access.js';

const frames: Record<string, ClientFrame> = {
  start: { action: 'connect' },
  resume: { action: 'connect', sessionId: 'AAAAAAAAAAAAAAAAAAAAAA' },
  send: { action: 'send', text: 'hi' },
  typing: { action: 'typing' },
  context: { action: 'context', data: {} },
  upload: { action: 'upload', filename: 'a.png', contentType: 'image/png', size: 1, send: false },
  history: { action: 'history' },
  end: { action: 'end' },
  ping: { action: 'ping' },
};

const caller = (role: Caller['role']): Caller => ({ connectionId: 'c', team: 'blue', role });

describe('assertAllowed', () => {
  it.each(['guest', 'admin'] as const)('%s may do everything', (role) => {
    for (const frame of Object.values(frames)) expect(() => assertAllowed(caller(role), frame)).not.toThrow();
  });

  it('agent-console may resume, read history and ping only', () => {
    const allowed = Object.entries(frames)
      .filter(([, frame]) => {
        try {
          assertAllowed(caller('agent-console'), frame);
          return true;
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          expect((error as ProtocolError).code).toBe('forbidden');
          return false;
        }
      })
      .map(([name]) => name);
    expect(allowed).toEqual(['resume', 'history', 'ping']);
  });
});

describe('callerOf', () => {
  it('reads the authorizer claims', () => {
    expect(
      callerOf({
        requestContext: {
          connectionId: 'c',
          authorizer: { team: 'blue', role: 'guest', subject: 'x', principalId: 'p' },
        },
      }),
    ).toEqual({ connectionId: 'c', team: 'blue', role: 'guest', subject: 'x' });
  });

  it.each([undefined, {}, { team: 'blue' }, { team: 'blue', role: 'root' }, { team: '', role: 'guest' }])(
    'refuses missing or bad claims %j with forbidden',
    (authorizer) => {
      expect(() => callerOf({ requestContext: { connectionId: 'c', authorizer } })).toThrow(
        expect.objectContaining({ code: 'forbidden' }),
      );
    },
  );
});
