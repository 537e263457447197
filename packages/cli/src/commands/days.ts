import { loadEnv } from '@boarding/config/env';
import { serviceDayOf } from '@boarding/contracts/time';
import {
  DayRangeError,
  type DaySummary,
  DEFAULT_SILENT_ALERT_RATIO,
  daysOfRange,
  rangeAsked,
  summarizeDays,
} from '@boarding/day/summarize-days';
import { createDb } from '@boarding/db/client';
import type { Command } from 'commander';
import { z } from 'zod';
import { parseDay, UsageError } from '../arguments';
import { emit, type GlobalOptions, table } from '../output';

// The exporter's alert threshold, read the same way (SPEC §5), so the list flags what it flags.
const DaysEnv = z.object({
  EXPORT_SILENT_ALERT_RATIO: z.coerce.number().min(0).max(1).default(DEFAULT_SILENT_ALERT_RATIO),
});

const pct = (p: number | null) => (p === null ? null : `${p.toFixed(1)} %`);

/** The `/days` table in the terminal: newest day first. */
export function renderDaySummaries(days: DaySummary[]): string {
  if (days.length === 0) return 'no days';
  const alerting = days.filter((d) => d.alerts.length > 0).length;
  return [
    table(
      [
        'day',
        'taps',
        'matched',
        'dead letters',
        'complete',
        'ingest behind',
        'version',
        'delivered at',
        'alerts',
      ],
      days.map((d) => [
        d.day,
        d.taps,
        pct(d.matchedPercent),
        d.deadLetters,
        pct(d.completePercent),
        d.latestVersion === null ? null : d.ingestBehind === null ? 'not checked' : d.ingestBehind.messages,
        d.latestVersion === null
          ? null
          : `v${d.latestVersion.version}${d.latestVersion.state === 'IN_FLIGHT' ? ' (in flight)' : ''}`,
        d.deliveredAt === null ? null : d.deliveredAt.replace(/\.\d+Z$/, 'Z'),
        d.alerts.length === 0 ? null : d.alerts.map((a) => a.code).join(', '),
      ]),
    ),
    alerting === 0
      ? `${days.length} day(s), no alerts`
      : `${days.length} day(s), ${alerting} with alerts: boarding day show D for one day`,
  ].join('\n');
}

export function registerDays(program: Command): void {
  const days = program.command('days').description('what is known of a range of service days');
  days
    .command('list')
    .description(
      'per day: taps, matched % of the newest file, dead letters, complete validators, ingest lag at build, newest version, delivery and alerts (default: the 30 days before today, Europe/Istanbul)',
    )
    .option('--from <YYYY-MM-DD>', 'the first day (default: 30 days before today)')
    .option('--to <YYYY-MM-DD>', 'the last day (default: yesterday)')
    .option('--json', 'print the days as one JSON array, newest first')
    .action(async (options: GlobalOptions & { from?: string; to?: string }) => {
      const range = rangeAsked(serviceDayOf(Date.now()), {
        from: options.from === undefined ? undefined : parseDay(options.from, '--from'),
        to: options.to === undefined ? undefined : parseDay(options.to, '--to'),
      });
      try {
        daysOfRange(range);
      } catch (err) {
        if (err instanceof DayRangeError) {
          throw new UsageError(
            err.message.replace(/^from \(/, '--from (').replace(' after to (', ' after --to ('),
          );
        }
        throw err;
      }
      const env = loadEnv(DaysEnv);
      const { pool } = createDb();
      try {
        const summaries = await summarizeDays(pool, range, {
          silentAlertRatio: env.EXPORT_SILENT_ALERT_RATIO,
        });
        emit(options, summaries, renderDaySummaries);
      } finally {
        await pool.end();
      }
    });
}
