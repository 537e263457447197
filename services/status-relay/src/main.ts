import { loadEnv } from '@boarding/config/env';
import { hesClientOptionsFromEnv } from '@boarding/hes/hes-env';
import { createHesClient } from '@boarding/hes/http-client';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { loadVerifiedKeyring } from '@boarding/registry/key-check';
import { StatusRelayEnv } from './env';
import { createStatusRelayService } from './status-relay-service';

/**
 * `boarding serve status-relay`: env → logger → keyring, verified against the database → HES
 * client → service → start (ops server, topic check, producer, relay, refresh scheduler and
 * worker), until SIGTERM/SIGINT stops it through the registry.
 */
export async function main(overrides: { port?: number } = {}): Promise<void> {
  const env = loadEnv(StatusRelayEnv);
  if (overrides.port !== undefined) env.STATUS_RELAY_PORT = overrides.port;
  const logger = createLogger('status-relay');
  // A wrong key would make every refresh fail to decrypt: refused at start, naming the key id.
  const { keyring } = await loadVerifiedKeyring(env.DATABASE_URL);
  const shutdown = new ShutdownRegistry(logger);
  shutdown.listen();
  const service = createStatusRelayService(env, logger, shutdown, {
    keyring,
    hes: createHesClient(hesClientOptionsFromEnv(env)),
  });
  try {
    await service.start({ http: true });
  } catch (err) {
    // Close what was opened (pool, Redis, Kafka, port), or its handles would keep a failed process alive.
    await shutdown.stop().catch(() => undefined);
    throw err;
  }
}
