import { loadEnv } from '@boarding/config/env';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { IngestEnv } from './env';
import { createIngestService } from './ingest-service';

/** `boarding serve ingest`: env → logger → clients → service → start, until SIGTERM. */
export async function main(overrides: { port?: number } = {}): Promise<void> {
  const env = loadEnv(IngestEnv);
  if (overrides.port !== undefined) env.INGEST_PORT = overrides.port;
  const logger = createLogger('ingest');
  const shutdown = new ShutdownRegistry(logger);
  shutdown.listen();
  await createIngestService(env, logger, shutdown).start({ http: true });
}
