import { describe, expect, it } from 'vitest';
import { SessionState, TRANSITIONS } from '../../../../src/genesys/client/index.js';
import { canTransition, isTerminal } from '../../../../src/genesys/client/states.js';

describe('session states', () => {
  it('has a row for every state and names only known states', () => {
    const states = Object.values(SessionState);
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...states].sort());
    for (const targets of Object.values(TRANSITIONS)) {
      for (const target of targets) expect(states).toContain(target);
    }
  });

  it('has no way out of closed or expired', () => {
    expect(TRANSITIONS.closed).toEqual([]);
    expect(TRANSITIONS.expired).toEqual([]);
    expect(isTerminal('closed')).toBe(true);
    expect(isTerminal('ready')).toBe(false);
  });

  it('lets every live state close', () => {
    for (const state of ['idle', 'connecting', 'configuring', 'ready', 'readOnly', 'reconnecting'] as const) {
      expect(canTransition(state, 'closing')).toBe(true);
      expect(canTransition(state, 'closed')).toBe(true);
    }
  });

  it('reaches ready only through configuring', () => {
    const into = Object.entries(TRANSITIONS)
      .filter(([, targets]) => targets.includes('ready'))
      .map(([from]) => from);
    expect(into).toEqual(['configuring']);
  });

  it('never reconnects out of closing', () => {
    expect(canTransition('closing', 'reconnecting')).toBe(false);
    expect(canTransition('closing', 'connecting')).toBe(false);
  });
});
