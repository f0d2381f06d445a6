import { describe, expect, it } from 'vitest';
import { type Log, silentLog } from '../../../src/logging/log.js';
import { createRedactingLogger } from '../../../src/logging/logger.js';

describe('Log', () => {
  it('is satisfied by the redacting Powertools logger and by console', () => {
    // Compile-time checks, above all: these lines stop compiling if either logger stops fitting Log.
    const loggers: Log[] = [createRedactingLogger({ logLevel: 'SILENT' }), console];
    for (const log of loggers) expect(typeof log.debug).toBe('function');
  });

  it('has a frozen silent implementation that writes nothing', () => {
    expect(Object.isFrozen(silentLog)).toBe(true);
    expect(() => silentLog.error('nothing', { error: new Error('x') })).not.toThrow();
  });
});
