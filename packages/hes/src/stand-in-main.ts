import { loadEnv } from '@boarding/config/env';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { z } from 'zod';
import { loadHesRecords } from './records';
import { createHesStandIn, refuseInProduction } from './stand-in';

/** The stand-in process's settings (local stack and demo only). */
export const HesStandInEnv = z.object({
  // Its data: a .json or .csv of records, or the simulator's registry CSV (README: Data).
  HES_STAND_IN_DATA: z.string().min(1),
  // Loopback by default: the stand-in answers anyone, from test data.
  HES_STAND_IN_HOST: z.string().min(1).default('127.0.0.1'),
  // The registry API's HES_SERVICE_URL points here locally.
  HES_STAND_IN_PORT: z.coerce.number().int().min(0).max(65535).default(7081),
});
export type HesStandInEnv = z.infer<typeof HesStandInEnv>;

/** Loads the data and listens; `stop` is idempotent. Refuses before reading anything in production. */
export async function startHesStandIn(
  env: HesStandInEnv,
  processEnv: Record<string, string | undefined> = process.env,
): Promise<{ url: string; records: number; stop: () => Promise<void> }> {
  refuseInProduction(processEnv);
  const records = loadHesRecords(env.HES_STAND_IN_DATA);
  const standIn = createHesStandIn({ records, env: processEnv });
  const url = await standIn.listen({ host: env.HES_STAND_IN_HOST, port: env.HES_STAND_IN_PORT });
  return { url, records: records.length, stop: () => standIn.close() };
}

/**
 * A process entry for the stand-in (e.g. `boarding serve hes-stand-in`): env → logger → stand-in
 * → listen, until SIGTERM/SIGINT. The port override mirrors `boarding serve --port`.
 */
export async function main(overrides: { port?: number } = {}): Promise<void> {
  const env = loadEnv(HesStandInEnv);
  if (overrides.port !== undefined) env.HES_STAND_IN_PORT = overrides.port;
  const logger = createLogger('hes-stand-in');
  const shutdown = new ShutdownRegistry(logger);
  shutdown.listen();
  const running = await startHesStandIn(env);
  shutdown.register('hes-stand-in', running.stop);
  logger.info(
    { url: running.url, records: running.records },
    'HES stand-in listening (never for production)',
  );
}
