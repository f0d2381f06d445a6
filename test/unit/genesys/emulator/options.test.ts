import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../../src/domain/clock.js';
import type { ChannelConstraints } from '../../../../src/domain/constraints.js';
import { uploadRefusal } from '../../../../src/genesys/emulator/attachments.js';
import { DEFAULT_SCRIPT } from '../../../../src/genesys/emulator/default-script.js';
import { DEFAULT_DEPLOYMENT_ID, resolveOptions } from '../../../../src/genesys/emulator/options.js';
import { ScriptValidationError } from '../../../../src/genesys/emulator/scripts.js';

describe('resolveOptions', () => {
  it('fills every default', () => {
    const options = resolveOptions();
    expect(options).toMatchObject({
      host: '127.0.0.1',
      port: 0,
      deploymentId: DEFAULT_DEPLOYMENT_ID,
      allowedOrigins: [],
      script: DEFAULT_SCRIPT,
      limits: {
        messagesPerSecond: 2,
        maxTextLength: 4000,
        maxCustomDataBytes: 2048,
        sessionDurationSeconds: 86400,
        maxFileSizeKB: 10240,
        maxConnectionsPerSession: 0,
      },
      allowedFileTypes: ['image/jpeg', 'image/png', 'image/gif', 'application/pdf', 'text/plain'],
      blockedExtensions: ['.exe', '.bat', '.cmd', '.js', '.vbs'],
      conversationDisconnect: 'ReadOnly',
      conversationClear: true,
      typingCountsTowardRateLimit: true,
      oauthClients: [{ clientId: 'emulator-client', clientSecret: 'emulator-secret' }],
      clock: systemClock,
    });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('keeps null as "no bot", lower-cases file types and dots extensions', () => {
    const options = resolveOptions({
      script: null,
      allowedFileTypes: ['IMAGE/PNG'],
      blockedExtensions: ['EXE'],
    });
    expect(options.script).toBeNull();
    expect(options.allowedFileTypes).toEqual(['image/png']);
    expect(options.blockedExtensions).toEqual(['.exe']);
  });

  it('accepts Infinity as "no rate limit" and refuses other non-integers', () => {
    expect(
      resolveOptions({ limits: { messagesPerSecond: Number.POSITIVE_INFINITY } }).limits.messagesPerSecond,
    ).toBe(Number.POSITIVE_INFINITY);
    expect(() => resolveOptions({ limits: { messagesPerSecond: 1.5 } })).toThrow(/messagesPerSecond/);
    expect(() => resolveOptions({ limits: { sessionDurationSeconds: 0 } })).toThrow(RangeError);
  });

  it('refuses unknown keys, bad modes and an invalid script, naming them', () => {
    expect(() => resolveOptions({ prot: 1 } as never)).toThrow(
      /^startGenesysEmulator: unknown option "prot"/,
    );
    expect(() => resolveOptions({ limits: { rate: 1 } as never })).toThrow(
      /^startGenesysEmulator limits: unknown option "rate" \(known options: messagesPerSecond, /,
    );
    expect(() => resolveOptions({ conversationDisconnect: 'Close' as never })).toThrow(
      /conversationDisconnect/,
    );
    expect(() => resolveOptions({ oauthClients: [{ clientId: '', clientSecret: 'x' }] })).toThrow(
      /oauthClients/,
    );
    expect(() => resolveOptions({ script: { name: 'x' } as never })).toThrow(ScriptValidationError);
  });
});

describe('uploadRefusal', () => {
  const constraints: ChannelConstraints = {
    maxTextLength: 4000,
    maxCustomDataBytes: 2048,
    attachments: {
      enabled: true,
      fileTypes: ['image/*', 'application/pdf'],
      maxFileSizeKB: 1,
      blockedExtensions: ['.exe'],
      maxPerMessage: 1,
    },
    sendRatePerSecond: 2,
    typingIntervalMs: 0,
  };
  const refusal = (fileName: string, fileType: string, fileSize: number) =>
    uploadRefusal({ fileName, fileType, fileSize }, constraints)?.code;

  it('maps each problem to its wire code', () => {
    expect(refusal('a.png', 'image/png', 1024)).toBeUndefined();
    expect(refusal('a.mp4', 'video/mp4', 10)).toBe(4001);
    expect(refusal('a.exe', 'image/png', 10)).toBe(4001);
    expect(refusal('a.png', 'image/png', 1025)).toBe(4002);
    expect(refusal('a.png', 'image/png', 0)).toBe(4002);
    expect(refusal('dir/a.png', 'image/png', 10)).toBe(4004);
    expect(refusal(`${'a'.repeat(300)}.png`, 'image/png', 10)).toBe(4005);
  });
});
