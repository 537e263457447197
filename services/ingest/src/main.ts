import { loadEnv } from '@boarding/config/env';
import { createIngestService } from '@boarding/ingest/ingest-service';
import { IngestEnv } from '@boarding/ingest/settings';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';

/** `boarding serve ingest`: env → logger → clients → service → start, until SIGTERM. */
export async function main(overrides: { port?: number } = {}): Promise<void> {
  const env = loadEnv(IngestEnv);
  if (overrides.port !== undefined) env.INGEST_PORT = overrides.port;
  const logger = createLogger('ingest');
  const shutdown = new ShutdownRegistry(logger);
  shutdown.listen();
  const service = createIngestService(env, logger, shutdown);
  try {
    await service.start({ http: true });
  } catch (err) {
    // Close what was opened (pool, Kafka admin, port), or its handles would keep a failed process alive.
    await shutdown.stop().catch(() => undefined);
    throw err;
  }
  // A consumer that crashed for good must not leave a live-looking process behind.
  void service.crashed.then(async () => {
    await shutdown.stop().catch(() => undefined);
    process.exit(1);
  });
}
