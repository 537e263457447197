import { type DayReport, describeDay } from '@boarding/day/describe-day';
import { createDb } from '@boarding/db/client';
import type { Command } from 'commander';
import { parseDay } from '../arguments';
import { emit, type GlobalOptions, table } from '../output';

export function renderDayReport(r: DayReport): string {
  const t = r.taps;
  const c = r.completeness;
  const reasons = Object.entries(r.deadLetters.byReason).map(([k, v]) => `${k} ${v}`);
  const lines = [
    `day ${r.day}`,
    `taps stored: ${t.stored} (${t.accepted} accepted, ${t.rejected} rejected); matched at ingest: ${t.matchedAtIngest}, unmatched: ${t.unmatchedAtIngest}; duplicates: ${r.duplicates}`,
    `dead letters: ${r.deadLetters.total}${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`,
    `validators: ${c.validatorsSeen} seen, ${c.validatorsComplete} complete, ${c.validatorsWithGaps} with gaps, ${c.validatorsAwaitingUpload} not yet uploaded past the day`,
  ];
  if (c.gaps.length > 0) {
    lines.push(
      `validators with gaps${c.validatorsWithGaps > c.gaps.length ? ` (first ${c.gaps.length} of ${c.validatorsWithGaps})` : ''}`,
      table(
        ['validator', 'missing seq'],
        c.gaps.map((g) => [
          g.validatorId,
          g.missing.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', '),
        ]),
      ),
    );
  }
  if (c.awaitingUpload.length > 0) {
    lines.push(
      `awaiting upload past the day${c.validatorsAwaitingUpload > c.awaitingUpload.length ? ` (first ${c.awaitingUpload.length} of ${c.validatorsAwaitingUpload})` : ''}: ${c.awaitingUpload.join(', ')}`,
    );
  }
  lines.push(
    r.versions.length === 0
      ? 'versions delivered: none yet'
      : `versions delivered\n${table(
          ['version', 'file', 'rows', 'sha256', 'supersedes', 'delivered at'],
          r.versions.map((v) => [
            `v${v.version}`,
            v.file,
            v.rows,
            v.sha256.slice(0, 16),
            v.supersedes === null ? null : `v${v.supersedes}`,
            // Sent, never confirmed: its number is used all the same (SPEC §5).
            v.deliveredAt ?? 'IN_FLIGHT (unconfirmed)',
          ]),
        )}`,
  );
  lines.push(
    r.attempts.length === 0
      ? 'delivery attempts: none recorded'
      : `last delivery attempts (newest first)\n${table(
          ['finished', 'version', 'try', 'outcome', 'trigger', 'error'],
          r.attempts.map((a) => [
            a.finishedAt === null ? 'IN_FLIGHT' : a.finishedAt.replace(/\.\d+Z$/, 'Z'),
            `v${a.version}`,
            a.attempt,
            a.outcome,
            a.trigger,
            a.error === null ? null : `${a.errorCode ?? ''} ${a.error}`.trim().slice(0, 80),
          ]),
        )}`,
  );
  return lines.join('\n');
}

export function registerDay(program: Command): void {
  const day = program.command('day').description('what is known of one service day');
  day
    .command('show')
    .description(
      'taps stored, matched at ingest, duplicates, dead letters by reason, completeness, versions delivered and the last delivery attempts',
    )
    .argument('<YYYY-MM-DD>', 'the service day (Europe/Istanbul)')
    .option('--json', 'print the report as one JSON object')
    .action(async (value: string, options: GlobalOptions) => {
      const serviceDay = parseDay(value, 'day');
      const { pool } = createDb();
      try {
        emit(options, await describeDay(pool, serviceDay), renderDayReport);
      } finally {
        await pool.end();
      }
    });
}
