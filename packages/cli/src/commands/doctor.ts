import { stackEnvPath } from '@boarding/config/paths';
import { readStackEnv } from '@boarding/config/stack-env';
import type { Check } from '@boarding/doctor/check';
import { type DoctorReport, runDoctor, SERVICE_NAMES, type ServiceName } from '@boarding/doctor/run-doctor';
import { ExporterEnv } from '@boarding/exporter-service/env';
import { IngestEnv } from '@boarding/ingest/settings';
import { RegistryApiEnv } from '@boarding/registry-api-service/env';
import { StatusRelayEnv } from '@boarding/status-relay-service/env';
import { type Command, InvalidArgumentError } from 'commander';
import { emit, type GlobalOptions } from '../output';

type DoctorOptions = GlobalOptions & { service?: ServiceName };

function parseService(value: string): ServiceName {
  const service = SERVICE_NAMES.find((s) => s === value.trim());
  if (!service) throw new InvalidArgumentError(`one of ${SERVICE_NAMES.join(', ')}`);
  return service;
}

/** `✓ name: detail` or `✗ name: detail — fix`. */
export function formatCheck(check: Check): string {
  return `${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}${!check.ok && check.fix ? ` — ${check.fix}` : ''}`;
}

export function formatReport(report: DoctorReport): string {
  const failed = report.checks.filter((c) => !c.ok).length;
  const summary =
    failed === 0
      ? `all ${report.checks.length} checks passed (${report.services.join(', ')})`
      : `${failed} of ${report.checks.length} checks failed (${report.services.join(', ')})`;
  return [...report.checks.map(formatCheck), summary].join('\n');
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check every setting each service needs (and where it comes from) and every server it reaches; exit 1 on any failure',
    )
    .option('--service <name>', `only what one service needs: ${SERVICE_NAMES.join(', ')}`, parseService)
    .option('--json', 'print the checks as JSON')
    .action(async (options: DoctorOptions) => {
      const path = stackEnvPath();
      const report = await runDoctor({
        // The schemas each service parses at start: what it needs is what they say.
        schemas: {
          ingest: IngestEnv,
          exporter: ExporterEnv,
          'registry-api': RegistryApiEnv,
          'status-relay': StatusRelayEnv,
        },
        source: { processEnv: process.env, stackEnv: readStackEnv(path), stackEnvPath: path },
        ...(options.service ? { only: options.service } : {}),
      });
      emit(options, report, formatReport);
      if (!report.ok) process.exitCode = 1;
    });
}
