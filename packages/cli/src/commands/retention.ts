import { loadEnv } from '@boarding/config/env';
import { createDb } from '@boarding/db/client';
import { ExportEnv, exportSettings } from '@boarding/export/settings';
import { type RetentionReport, runRetention } from '@boarding/retention/run-retention';
import { RetentionEnv, retentionSettings } from '@boarding/retention/settings';
import type { Command } from 'commander';
import { emit, type GlobalOptions, progressLine, table } from '../output';

type RunOptions = GlobalOptions & { dryRun?: boolean };

export function renderRetentionReport(r: RetentionReport): string {
  const c = r.counts;
  const verb = r.dryRun ? 'would delete' : 'deleted';
  return [
    `${r.dryRun ? 'dry run (nothing deleted)' : 'retention run'} #${r.runId}`,
    table(
      ['kind', 'older than (service day before)', verb],
      [
        ['stored taps', r.cutoffs.tapsBefore, `${c.taps} (${c.dayPartitions} whole day partitions)`],
        ['tap keys (card, instant)', r.cutoffs.tapsBefore, c.tapKeys],
        ['duplicates', r.cutoffs.tapsBefore, c.duplicates],
        ['dead letters', r.cutoffs.tapsBefore, c.deadLetters],
        ['heartbeat log', r.cutoffs.tapsBefore, c.heartbeats],
        ['raw bytes of dead letters', r.cutoffs.deadLetterRawBefore, c.deadLetterRaw],
        ['local copies of day files', r.cutoffs.filesBefore, `${c.files} (${c.fileBytes} bytes)`],
      ],
    ),
  ].join('\n');
}

export function registerRetention(program: Command): void {
  const retention = program
    .command('retention')
    .description('delete personal data past its retention age (the registry is kept)');

  retention
    .command('run')
    .description(
      'delete taps, tap keys, duplicates, dead letters and the heartbeat log older than RETENTION_DAYS, the raw bytes of dead letters older than DEAD_LETTER_RAW_DAYS, local copies of day files older than EXPORT_KEEP_DAYS; the run is recorded with counts only',
    )
    .option('--dry-run', 'count what would be deleted, delete nothing (recorded as a dry run)')
    .option('--json', 'print the result as JSON')
    .action(async (options: RunOptions) => {
      const settings = retentionSettings(loadEnv(RetentionEnv));
      const exportDir = exportSettings(loadEnv(ExportEnv)).outDir;
      const { pool } = createDb();
      try {
        const report = await runRetention({
          pool,
          exportDir,
          settings,
          now: () => new Date(),
          dryRun: options.dryRun === true,
          source: 'cli',
          onProgress: options.json ? undefined : (p) => progressLine('retention', `${p.step} done`),
        });
        emit(options, report, renderRetentionReport);
      } finally {
        await pool.end();
      }
    });
}
