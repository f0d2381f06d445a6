/**
 * Child-process entry of bench/support/genesys-process.ts (forked with `--import tsx` and an IPC
 * channel; not run by hand): a Genesys emulator on 127.0.0.1, an ephemeral port and no bot. It answers
 * the parent's requests, forwards guest-socket observations in batches every OBSERVATION_BATCH_MS (each
 * carries its own time, so batching does not blur them), and exits when told to or when the parent is
 * gone.
 */
import { type GuestSocketObservation, startGenesysEmulator } from '../../src/genesys/emulator/index.js';
import type { GenesysReport, GenesysRequest } from './genesys-process.js';

const OBSERVATION_BATCH_MS = 20;

const emulator = await startGenesysEmulator({ script: null });
let batch: GuestSocketObservation[] = [];
emulator.observeGuestSockets((observation) => {
  if (observation.type !== 'closed') batch.push(observation);
});
const flusher = setInterval(() => {
  if (batch.length === 0) return;
  report({ type: 'observations', list: batch });
  batch = [];
}, OBSERVATION_BATCH_MS);

function report(message: GenesysReport): void {
  process.send?.(message);
}

async function stop(): Promise<never> {
  clearInterval(flusher);
  await emulator.close();
  process.exit(0);
}

function answer(request: GenesysRequest): unknown {
  switch (request.op) {
    case 'drop':
      return emulator.faults.dropSockets();
    case 'say':
      emulator.agent.say(request.token, { from: 'agent', nickname: 'Bench', text: request.text });
      return undefined;
    case 'transcript':
      return emulator.transcript(request.token);
    case 'close':
      return undefined;
  }
}

process.on('message', (request: GenesysRequest) => {
  try {
    report({ type: 'answer', id: request.id, value: answer(request) });
  } catch (error) {
    report({ type: 'answer', id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
  if (request.op === 'close') void stop();
});
process.on('disconnect', () => void stop());
report({
  type: 'ready',
  wsUrl: emulator.wsUrl,
  httpUrl: emulator.httpUrl,
  deploymentId: emulator.deploymentId,
});
