import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEPLOYMENT_ID,
  DEFAULT_SCRIPT,
  ManualClock,
  startGenesysEmulator,
} from '../../../src/genesys/emulator/index.js';
import { GuestClient, startHarness, textMessage } from './emulator-harness.js';

describe('emulator lifecycle', () => {
  it('listens on 127.0.0.1 on an ephemeral port with the default deployment id', async () => {
    const emulator = await startGenesysEmulator({ script: null });
    try {
      expect(emulator.port).toBeGreaterThan(0);
      expect(emulator.wsUrl).toBe(`ws://127.0.0.1:${emulator.port}/v1`);
      expect(emulator.httpUrl).toBe(`http://127.0.0.1:${emulator.port}`);
      expect(emulator.deploymentId).toBe(DEFAULT_DEPLOYMENT_ID);
    } finally {
      await emulator.close();
    }
  });

  it('closes every socket with 1001, clears every timer, and is idempotent', async () => {
    const harness = await startHarness({ script: DEFAULT_SCRIPT, limits: { sessionDurationSeconds: 600 } });
    const { emulator, clock } = harness;
    const { client } = await harness.guest('busy');
    client.send(textMessage('busy', 'slow'));
    await client.nextOfClass('StructuredMessage');
    emulator.faults.delayPushes(60_000);
    emulator.agent.say('busy', { text: 'held back' });
    emulator.faults.reorderPushes(3);
    expect(clock.pending).toBeGreaterThan(2);
    const closing = emulator.close();
    const again = emulator.close();
    await Promise.all([closing, again]);
    expect(clock.pending).toBe(0);
    expect((await client.closed).code).toBe(1001);
    await expect(fetch(`${emulator.httpUrl}/emulator/sessions`)).rejects.toThrow();
    await emulator.close();
  });

  it('refuses unknown options and out-of-range limits at start', async () => {
    await expect(startGenesysEmulator({ colour: 'red' } as never)).rejects.toThrow(
      /startGenesysEmulator: unknown option "colour"/,
    );
    await expect(startGenesysEmulator({ limits: { messagesPerSecond: 0 } })).rejects.toThrow(RangeError);
    await expect(startGenesysEmulator({ limits: { burst: 2 } as never })).rejects.toThrow(
      /startGenesysEmulator limits: unknown option "burst"/,
    );
    await expect(startGenesysEmulator({ port: 70_000 })).rejects.toThrow(RangeError);
  });

  it('rejects when the port is taken', async () => {
    const first = await startGenesysEmulator({ script: null });
    try {
      await expect(startGenesysEmulator({ script: null, port: first.port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it('keeps working for a client after its socket is cut, with the same token', async () => {
    const harness = await startHarness({ clock: new ManualClock() });
    try {
      const { client } = await harness.guest('again');
      await client.request(textMessage('again', 'one'), 'StructuredMessage');
      harness.emulator.faults.dropSockets('again');
      await client.closed;
      const back = await GuestClient.connect(harness.url);
      const session = await back.request(
        { action: 'configureSession', token: 'again', deploymentId: harness.emulator.deploymentId },
        'SessionResponse',
      );
      expect(session.body).toMatchObject({ connected: true, newSession: false });
      back.close();
    } finally {
      await harness.close();
    }
  });
});
