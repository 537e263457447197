import { loadEnv } from '@boarding/config/env';
import { sftpTransportFromEnv } from '@boarding/delivery/sftp-transport';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { ExporterEnv } from './env';
import { createExporterService } from './exporter-service';

/**
 * `boarding serve exporter`: env → logger → keyring → SFTP transport → service → start (ops
 * server, nightly scheduler, worker), until SIGTERM/SIGINT stops it through the registry.
 */
export async function main(overrides: { port?: number } = {}): Promise<void> {
  const env = loadEnv(ExporterEnv);
  if (overrides.port !== undefined) env.EXPORTER_PORT = overrides.port;
  const logger = createLogger('exporter');
  const shutdown = new ShutdownRegistry(logger);
  shutdown.listen();
  const keyring = loadKeyring();
  const transport = sftpTransportFromEnv(env);
  const service = createExporterService(env, logger, shutdown, { keyring, transport });
  try {
    await service.start({ http: true, scheduler: true, worker: true });
  } catch (err) {
    // Close what was opened (pool, Redis, port), or its handles would keep a failed process alive.
    await shutdown.stop().catch(() => undefined);
    throw err;
  }
}
