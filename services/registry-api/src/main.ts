import { loadEnv } from '@boarding/config/env';
import { hesClientOptionsFromEnv } from '@boarding/hes/hes-env';
import { createHesClient } from '@boarding/hes/http-client';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { loadVerifiedKeyring } from '@boarding/registry/key-check';
import { RegistryApiEnv } from './env';
import { createRegistryApiService } from './registry-api';

/** `boarding serve registry-api`: env → logger → keyring, verified → service → start, until SIGTERM. */
export async function main(overrides: { port?: number } = {}): Promise<void> {
  const env = loadEnv(RegistryApiEnv);
  if (overrides.port !== undefined) env.REGISTRY_API_PORT = overrides.port;
  const logger = createLogger('registry-api');
  // A wrong key would show every match as undecryptable: refused at start, naming the key id.
  const { keyring } = await loadVerifiedKeyring(env.DATABASE_URL);
  const shutdown = new ShutdownRegistry(logger);
  shutdown.listen();
  const service = createRegistryApiService(env, logger, shutdown, {
    keyring,
    hes: createHesClient(hesClientOptionsFromEnv(env)),
  });
  try {
    await service.start();
  } catch (err) {
    // Close what was opened (pool, port), or its handles would keep a failed process alive.
    await shutdown.stop().catch(() => undefined);
    throw err;
  }
}
