import { loadEnv } from '@boarding/config/env';
import { sftpTransportFromEnv } from '@boarding/delivery/sftp-transport';
import type { Keyring } from '@boarding/encryption/keyring';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger, type Logger } from '@boarding/logger/logger';
import { loadVerifiedKeyring } from '@boarding/registry/key-check';
import { ExporterEnv } from './env';
import { createExporterService } from './exporter-service';
import { type NightOutcome, runNight } from './run-night';

/**
 * `boarding serve exporter`: env → logger → keyring, verified against the database → SFTP
 * transport → service → start (ops server, nightly scheduler, worker), until SIGTERM/SIGINT stops
 * it through the registry.
 * With `night`: only a worker, the nightly job of that day run now, its outcome printed as one
 * JSON line on stdout, then stop (exit 1 if the job failed).
 */
export async function main(overrides: { port?: number; night?: string } = {}): Promise<void> {
  if (overrides.night !== undefined) return runOneNight(overrides.night);
  const env = loadEnv(ExporterEnv);
  if (overrides.port !== undefined) env.EXPORTER_PORT = overrides.port;
  const logger = createLogger('exporter');
  const keyring = await loadCheckedKeyring(env.DATABASE_URL, logger);
  const shutdown = new ShutdownRegistry(logger);
  shutdown.listen();
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

async function runOneNight(day: string): Promise<void> {
  const env = loadEnv(ExporterEnv);
  const logger = createLogger('exporter', { level: process.env.LOG_LEVEL ?? 'warn' });
  const keyring = await loadCheckedKeyring(env.DATABASE_URL, logger);
  const shutdown = new ShutdownRegistry(logger);
  shutdown.listen();
  const service = createExporterService(env, logger, shutdown, {
    keyring,
    transport: sftpTransportFromEnv(env),
  });
  let outcome: NightOutcome;
  try {
    await service.start({ http: false, scheduler: false, worker: true });
    outcome = await runNight(service, env, day, { timeoutMs: 15 * 60000 });
  } finally {
    await shutdown.stop().catch(() => undefined);
  }
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  if (outcome.state === 'failed') process.exitCode = 1;
}

/**
 * The keyring, checked against the database's key check on a connection of its own before the
 * service exists: a wrong key stops the start with PII_INDEX_KEY_MISMATCH / PII_DATA_KEY_MISMATCH
 * (naming the kid) instead of failing the nightly decrypt at 03:30.
 */
async function loadCheckedKeyring(databaseUrl: string, logger: Logger): Promise<Keyring> {
  const { keyring, check } = await loadVerifiedKeyring(databaseUrl);
  logger.info({ keyCheck: check }, 'PII keys match the database key check');
  return keyring;
}
