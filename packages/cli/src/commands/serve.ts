import { main as serveExporter } from '@boarding/exporter-service/main';
import { main as serveHesStandIn } from '@boarding/hes/stand-in-main';
import { main as serveIngest } from '@boarding/ingest-service/main';
import { main as serveRegistryApi } from '@boarding/registry-api-service/main';
import { main as serveStatusRelay } from '@boarding/status-relay-service/main';
import type { Command } from 'commander';
import { parseDay, UsageError, wholeNumber } from '../arguments';

type ServeOptions = { port?: number; night?: string };

const SERVICES: Record<string, (o: ServeOptions) => Promise<void>> = {
  ingest: serveIngest,
  exporter: serveExporter,
  'registry-api': serveRegistryApi,
  'hes-stand-in': serveHesStandIn,
  'status-relay': serveStatusRelay,
};

/**
 * Run a service in the foreground until SIGTERM. The one way the CLI reaches a service
 * (`boarding serve`, and `boarding ingest` without --until-caught-up).
 */
export async function serveService(service: string, options: ServeOptions = {}): Promise<void> {
  const run = SERVICES[service];
  if (!run) throw new UsageError(`unknown service ${service}; known: ${Object.keys(SERVICES).join(', ')}`);
  if (options.night !== undefined && service !== 'exporter')
    throw new UsageError('--night is for the exporter');
  await run(options);
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run a service in the foreground until SIGTERM (/healthz, /readyz, /metrics on --port)')
    .argument('<service>', `one of: ${Object.keys(SERVICES).join(', ')}`)
    .option(
      '--port <port>',
      'port of the ops endpoints (registry-api: of the API and its ops endpoints)',
      wholeNumber(0, 65535),
    )
    .option(
      '--night <YYYY-MM-DD>',
      'exporter: run the nightly export job of this day now on a worker, print its outcome as JSON, and exit',
      (v) => parseDay(v, '--night'),
    )
    .action((service: string, options: ServeOptions) => serveService(service, options));
}
