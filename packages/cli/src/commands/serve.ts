import type { Command } from 'commander';
import { parseDay, UsageError, wholeNumber } from '../arguments';

type ServeOptions = { port?: number; night?: string };

// Each service's module is loaded only when it is the one to run (`boarding ingest` needs none of
// the exporter's or the registry API's libraries).
const SERVICES: Record<string, (o: ServeOptions) => Promise<void>> = {
  ingest: (o) =>
    (require('@boarding/ingest-service/main') as typeof import('@boarding/ingest-service/main')).main(o),
  exporter: (o) =>
    (require('@boarding/exporter-service/main') as typeof import('@boarding/exporter-service/main')).main(o),
  'registry-api': (o) =>
    (
      require('@boarding/registry-api-service/main') as typeof import('@boarding/registry-api-service/main')
    ).main(o),
  'hes-stand-in': (o) =>
    (require('@boarding/hes/stand-in-main') as typeof import('@boarding/hes/stand-in-main')).main(o),
  'status-relay': (o) =>
    (
      require('@boarding/status-relay-service/main') as typeof import('@boarding/status-relay-service/main')
    ).main(o),
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
