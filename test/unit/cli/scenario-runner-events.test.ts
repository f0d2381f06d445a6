/**
 * How the scenario runner reads the stack's frames (recorded from a local stack whose emulator refused
 * Genesys connections, and from the documented shapes), and which ones end a step at once.
 */
import { describe, expect, it } from 'vitest';
import { describeUpstream, fatalReason, readFrame, type SentFrames } from '../../../cli/scenarios/events.js';

const SESSION = 'ynIlqDllpoJzez95w3vwhA';
const RETRYING =
  '{"type":"upstream","sessionId":"ynIlqDllpoJzez95w3vwhA","state":"retrying","reason":"http","detail":"HTTP 503","message":"The connection to Genesys failed (http: HTTP 503). Genesys answered the socket with an HTTP error; a 5xx or 429 is temporary. Trying again in 1 s.","attempt":1,"retryAt":"2026-12-06T05:29:07.905Z"}';
const CONNECTED =
  '{"type":"upstream","sessionId":"ynIlqDllpoJzez95w3vwhA","state":"connected","message":"Connected to Genesys again after 4 failed attempt(s)."}';
const STATUS =
  '{"type":"status","sessionId":"ynIlqDllpoJzez95w3vwhA","sequenceId":1,"status":"sent","clientMessageId":"m9"}';

const NOTHING_SENT: SentFrames = { clientMessageIds: new Set(), actions: new Set() };
const SENT: SentFrames = { clientMessageIds: new Set(['m9']), actions: new Set(['context']) };

function read(frame: Record<string, unknown>) {
  const event = readFrame(JSON.stringify({ sessionId: SESSION, ...frame }));
  if (event === undefined) throw new Error('not read');
  return event;
}

describe('readFrame', () => {
  it('reads the relay’s upstream events and an entry’s status as they were recorded', () => {
    expect(readFrame(RETRYING)).toEqual({
      type: 'upstream',
      sessionId: SESSION,
      upstream: {
        state: 'retrying',
        reason: 'http',
        detail: 'HTTP 503',
        message: expect.stringContaining('Trying again in 1 s.'),
        attempt: 1,
        retryAt: '2026-12-06T05:29:07.905Z',
      },
    });
    expect(readFrame(CONNECTED)).toMatchObject({ type: 'upstream', upstream: { state: 'connected' } });
    expect(readFrame(STATUS)).toMatchObject({ type: 'status', sequenceId: 1, status: 'sent' });
  });

  it('keeps the code and message of a session ended by an error, and errors with codes it does not know', () => {
    expect(
      read({
        type: 'sessionEnded',
        reason: 'error',
        code: 'upstream_rejected',
        message: 'HTTP 404',
        genesysCode: 404,
      }),
    ).toEqual({
      type: 'sessionEnded',
      sessionId: SESSION,
      reason: 'error',
      code: 'upstream_rejected',
      message: 'HTTP 404',
    });
    expect(
      read({ type: 'error', code: 'worker_lost', message: 'gone', error: 'gone', retryable: false }),
    ).toEqual({
      type: 'error',
      code: 'worker_lost',
      message: 'gone',
      retryable: false,
    });
  });

  it('ignores what it cannot read', () => {
    expect(readFrame('not json')).toBeUndefined();
    expect(readFrame('null')).toBeUndefined();
    expect(readFrame('{"type":"somethingNew","x":1}')).toBeUndefined();
    expect(readFrame('{"type":"upstream","sessionId":"s","state":"sleeping"}')).toBeUndefined();
  });
});

describe('fatalReason', () => {
  it('ends the step on an upstream failure code, whatever frame it answers, with code and message', () => {
    for (const code of ['upstream_rejected', 'upstream_unavailable', 'deployment_not_allowed']) {
      const error = read({
        type: 'error',
        code,
        message: 'why',
        retryable: code === 'upstream_unavailable',
        clientMessageId: 'm9',
      });
      expect(fatalReason(error, SENT)).toBe(`${code}: why`);
    }
  });

  it('ends the step on a non-retryable error about no frame the runner sent, not on a refusal of its own frames', () => {
    const stray = read({ type: 'error', code: 'token_expired', message: 'expired', retryable: false });
    expect(fatalReason(stray, SENT)).toBe('token_expired: expired');
    const ours = read({
      type: 'error',
      code: 'text_too_long',
      message: 'long',
      retryable: false,
      clientMessageId: 'm9',
    });
    expect(fatalReason(ours, SENT)).toBeUndefined();
    const ourContext = read({
      type: 'error',
      code: 'context_too_large',
      message: 'big',
      retryable: false,
      action: 'context',
    });
    expect(fatalReason(ourContext, SENT)).toBeUndefined();
    expect(fatalReason(ourContext, NOTHING_SENT)).toBe('context_too_large: big');
    const retryable = read({ type: 'error', code: 'rate_limited', message: 'wait', retryable: true });
    expect(fatalReason(retryable, NOTHING_SENT)).toBeUndefined();
  });

  it('ends the step when the session ends with an error, or Genesys is unavailable; not on progress', () => {
    expect(
      fatalReason(
        read({ type: 'sessionEnded', reason: 'error', code: 'upstream_unavailable', message: 'unreachable' }),
        SENT,
      ),
    ).toBe('the session ended with an error: upstream_unavailable: unreachable');
    expect(fatalReason(read({ type: 'sessionEnded', reason: 'error' }), SENT)).toBe(
      'the session ended with an error (the stack gave no reason)',
    );
    expect(fatalReason(read({ type: 'sessionEnded', reason: 'agent' }), SENT)).toBeUndefined();
    expect(
      fatalReason(
        read({
          type: 'upstream',
          state: 'unavailable',
          reason: 'dns',
          detail: 'ENOTFOUND',
          message: 'Check the region.',
        }),
        SENT,
      ),
    ).toBe('Genesys is unavailable (dns: ENOTFOUND): Check the region.');
    expect(fatalReason(read({ type: 'upstream', state: 'unavailable', reason: 'tls' }), SENT)).toBe(
      'Genesys is unavailable (tls)',
    );
    expect(
      fatalReason(readFrame(RETRYING) as NonNullable<ReturnType<typeof readFrame>>, SENT),
    ).toBeUndefined();
  });
});

describe('describeUpstream', () => {
  it('gives the state, the reason and the stack’s message, or the attempt and next try without one', () => {
    const retrying = readFrame(RETRYING);
    if (retrying?.type !== 'upstream') throw new Error('not an upstream notice');
    expect(describeUpstream(retrying.upstream)).toBe(
      'Genesys retrying (http: HTTP 503): The connection to Genesys failed (http: HTTP 503). Genesys answered the socket with an HTTP error; a 5xx or 429 is temporary. Trying again in 1 s.',
    );
    expect(describeUpstream({ state: 'retrying', reason: 'refused', attempt: 2, retryAt: '05:30:02' })).toBe(
      'Genesys retrying (refused), attempt 2, next try at 05:30:02',
    );
  });
});
