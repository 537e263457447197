import { loadEnv } from '@boarding/config/env';
import { sftpTransportFromEnv } from '@boarding/delivery/sftp-transport';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { ExporterEnv } from './env';
import { createExporterService } from './exporter-service';
import { type NightOutcome, runNight } from './run-night';

/**
 * `boarding serve exporter`: env → logger → keyring → SFTP transport → service → start (ops
 * server, nightly scheduler, worker), until SIGTERM/SIGINT stops it through the registry.
 * With `night`: only a worker, the nightly job of that day run now, its outcome printed as one
 * JSON line on stdout, then stop (exit 1 if the job failed).
 */
export async function main(overrides: { port?: number; night?: string } = {}): Promise<void> {
  if (overrides.night !== undefined) return runOneNight(overrides.night);
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

async function runOneNight(day: string): Promise<void> {
  const env = loadEnv(ExporterEnv);
  const logger = createLogger('exporter', { level: process.env.LOG_LEVEL ?? 'warn' });
  const shutdown = new ShutdownRegistry(logger);
  shutdown.listen();
  const service = createExporterService(env, logger, shutdown, {
    keyring: loadKeyring(),
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
