import { main as serveExporter } from '@boarding/exporter-service/main';
import { main as serveIngest } from '@boarding/ingest-service/main';
import type { Command } from 'commander';

const SERVICES: Record<string, (o: { port?: number }) => Promise<void>> = {
  ingest: serveIngest,
  exporter: serveExporter,
};

/**
 * Run a service in the foreground until SIGTERM. The one way the CLI reaches a service
 * (`boarding serve`, and `boarding ingest` without --until-caught-up).
 */
export async function serveService(service: string, options: { port?: number } = {}): Promise<void> {
  const run = SERVICES[service];
  if (!run) throw new Error(`unknown service ${service}; known: ${Object.keys(SERVICES).join(', ')}`);
  await run({ port: options.port });
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run a service in the foreground until SIGTERM (/healthz, /readyz, /metrics on --port)')
    .argument('<service>', `one of: ${Object.keys(SERVICES).join(', ')}`)
    .option('--port <port>', 'port of the ops endpoints', (v) => Number.parseInt(v, 10))
    .action((service: string, options: { port?: number }) => serveService(service, options));
}
