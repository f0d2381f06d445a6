/**
 * guest-relay in local mode (the code `npm start` runs: dynalite, the gateway emulators with the real
 * handlers, the worker) as its own process, pointed at a Genesys emulator the benchmark runs in its own
 * process, so both ends of every measured path are on one clock. On SIGUSR2 it reports how many
 * requests its DynamoDB engine has answered, by operation (the benchmark counts them per message), and
 * the requests it sent since the previous report with their times (the benchmark counts how many of a
 * message's requests ran one after the other).
 *
 *   node --import tsx bench/relay/local-stack.ts <guest-api ws url> <api url> <deploymentId> <reorder window ms>
 *   node --import tsx bench/relay/local-stack.ts emulator      (local mode's own emulator and bot: bench/load.ts)
 */
import { EMBEDDED, startLocalStack } from '../../local/stack.js';
import { announceReady, answerReports } from './child.js';

const [wsUrl, apiUrl, deploymentId, windowMs] = process.argv.slice(2);
const ownEmulator = wsUrl === 'emulator';
if (!ownEmulator && (wsUrl === undefined || apiUrl === undefined || deploymentId === undefined)) {
  console.error(
    'usage: local-stack.ts <guest-api ws url> <api url> <deploymentId> [reorder window ms] | emulator',
  );
  process.exit(2);
}
const stack = await startLocalStack(
  ownEmulator
    ? EMBEDDED
    : {
        ...EMBEDDED,
        genesys: {
          deploymentId: deploymentId as string,
          endpoint: { wsUrl: wsUrl as string, apiUrl: apiUrl as string },
        },
        reorderWindowMs: Number(windowMs ?? '300'),
      },
);
stack.dynamo.trace(true);
answerReports(() => {
  const report = { dynamoRequests: stack.dynamo.requests(), traced: stack.dynamo.traced() };
  stack.dynamo.trace(true); // the next report carries what comes after this one
  return report;
});
announceReady({ url: stack.wsUrl, token: stack.token, deploymentId: stack.deploymentId }, () => stack.stop());
