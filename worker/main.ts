/**
 * The worker process (ECS Fargate in the cloud, `npm run worker` or local mode here). Configuration from
 * the environment (worker/config.ts); JSON logs on stdout; SIGTERM or SIGINT hands the sessions over and
 * exits 0. A configuration error exits 2 naming the key.
 */
import { createRedactingLogger } from '../src/logging/logger.js';
import { loadWorkerConfig, WorkerConfigError } from './config.js';
import { startWorkerRuntime } from './runtime.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadWorkerConfig>;
  try {
    config = loadWorkerConfig(process.env);
  } catch (error) {
    if (error instanceof WorkerConfigError) {
      console.error(`guest-relay worker: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const log = createRedactingLogger({ serviceName: 'guest-relay-worker', logLevel: config.logLevel });
  log.appendKeys({ workerId: config.workerId });
  const local = config.dynamodbEndpoint !== undefined;
  const runtime = await startWorkerRuntime(config, {
    log,
    // Local engines and the local gateway accept any static pair; in AWS the task role signs.
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  log.info('worker ready', { healthPort: runtime.health.port, controlUrl: config.controlUrl });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping: handing sessions over', { signal });
    runtime.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('stop failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('guest-relay worker failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
