/**
 * The thread `startDynaliteThread` runs: dynalite (src/store/dynalite.ts, with its loopback endpoint for
 * other processes) answering the requests that arrive on the parent port. Messages besides requests:
 * `{type: "close"}` closes the engine (waiting for requests in progress) and answers `{type: "closed"}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serveRequests } from '../aws/thread-handler.js';
import { startDynalite } from './dynalite.js';

const port = parentPort;
if (port === null) throw new Error('dynalite-thread: not started as a worker thread');
const options = workerData as { host?: string; port?: number };
const dynamo = await startDynalite(options);
serveRequests(port, dynamo.requestHandler);
port.on('message', (message: { type?: string }) => {
  if (message.type !== 'close') return;
  void dynamo.close().then(() => port.postMessage({ type: 'closed' }));
});
port.postMessage({ type: 'ready', endpoint: dynamo.endpoint });
