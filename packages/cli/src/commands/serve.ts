import { main as serveExporter } from '@boarding/exporter-service/main';
import { main as serveIngest } from '@boarding/ingest-service/main';
import type { Command } from 'commander';

const SERVICES: Record<string, (o: { port?: number }) => Promise<void>> = {
  ingest: serveIngest,
  exporter: serveExporter,
};

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run a service in the foreground until SIGTERM (/healthz, /readyz, /metrics on --port)')
    .argument('<service>', `one of: ${Object.keys(SERVICES).join(', ')}`)
    .option('--port <port>', 'port of the ops endpoints', (v) => Number.parseInt(v, 10))
    .action(async (service: string, options: { port?: number }) => {
      const run = SERVICES[service];
      if (!run) throw new Error(`unknown service ${service}; known: ${Object.keys(SERVICES).join(', ')}`);
      await run({ port: options.port });
    });
}
