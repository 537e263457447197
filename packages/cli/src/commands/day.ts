import { createDb } from '@boarding/db/client';
import { withTransaction } from '@boarding/db/transaction';
import {
  deliveredVersions,
  readLedger,
  summarizeVersion,
  type VersionSummary,
} from '@boarding/delivery/ledger';
import { dayCompleteness, type ValidatorGap } from '@boarding/export/completeness';
import { dayCounts } from '@boarding/export/manifest';
import type { Command } from 'commander';
import type { Pool } from 'pg';
import { parseDay } from '../arguments';
import { emit, type GlobalOptions, table } from '../output';

/** How many validators with gaps (and awaiting upload) are listed; the counts are always whole. */
export const LISTED_VALIDATORS = 20;
/** How many of the newest delivery attempts are shown. */
export const LISTED_ATTEMPTS = 10;

/** Everything known of one service day, as `boarding day show --json` prints it. */
export type DayReport = {
  day: string;
  taps: {
    stored: number;
    accepted: number;
    rejected: number;
    /** Stored with a match at tappedAt when ingested (boardings.match_id); the file re-joins at build. */
    matchedAtIngest: number;
    unmatchedAtIngest: number;
  };
  duplicates: number;
  deadLetters: { total: number; byReason: Record<string, number> };
  completeness: {
    validatorsSeen: number;
    validatorsComplete: number;
    validatorsWithGaps: number;
    validatorsAwaitingUpload: number;
    /** The first LISTED_VALIDATORS, by validator id. */
    gaps: ValidatorGap[];
    awaitingUpload: string[];
  };
  versions: VersionSummary[];
  /** Newest first. */
  attempts: {
    finishedAt: string;
    version: number;
    attempt: number;
    outcome: string;
    trigger: string;
    target: string;
    sha256: string;
    errorCode: string | null;
    error: string | null;
  }[];
};

/**
 * Read what is known of day D. Taps, duplicates, dead letters and completeness come from one
 * read-only REPEATABLE READ snapshot, so they agree with each other while the ingest writes;
 * the ledger is read after it (it takes a pool, and changes only when a file is delivered).
 */
export async function readDayReport(pool: Pool, day: string): Promise<DayReport> {
  const { counts, completeness } = await withTransaction(
    pool,
    async (client) => ({
      counts: await dayCounts(client, day),
      completeness: await dayCompleteness(client, day),
    }),
    'begin isolation level repeatable read read only',
  );
  const byReason = counts.deadLetteredByReason;
  const [versions, attempts] = await Promise.all([
    deliveredVersions(pool, day),
    readLedger(pool, { day, limit: LISTED_ATTEMPTS }),
  ]);
  return {
    day,
    taps: {
      stored: counts.tapsStored,
      accepted: counts.accepted,
      rejected: counts.rejected,
      matchedAtIngest: counts.matchedAtIngest,
      unmatchedAtIngest: counts.tapsStored - counts.matchedAtIngest,
    },
    duplicates: counts.duplicatesDropped,
    deadLetters: { total: Object.values(byReason).reduce((a, n) => a + n, 0), byReason },
    completeness: {
      validatorsSeen: completeness.validatorsSeen,
      validatorsComplete: completeness.validatorsComplete,
      validatorsWithGaps: completeness.validatorsWithGaps.length,
      validatorsAwaitingUpload: completeness.validatorsAwaitingUpload.length,
      gaps: completeness.validatorsWithGaps.slice(0, LISTED_VALIDATORS),
      awaitingUpload: completeness.validatorsAwaitingUpload.slice(0, LISTED_VALIDATORS),
    },
    versions: versions.map(summarizeVersion),
    attempts: attempts.map((a) => ({
      finishedAt: a.finishedAt.toISOString(),
      version: a.version,
      attempt: a.attempt,
      outcome: a.outcome,
      trigger: a.trigger,
      target: a.target,
      sha256: a.sha256,
      errorCode: a.errorCode,
      error: a.error,
    })),
  };
}

export function describeDay(r: DayReport): string {
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
            v.deliveredAt,
          ]),
        )}`,
  );
  lines.push(
    r.attempts.length === 0
      ? 'delivery attempts: none recorded'
      : `last delivery attempts (newest first)\n${table(
          ['finished', 'version', 'try', 'outcome', 'trigger', 'error'],
          r.attempts.map((a) => [
            a.finishedAt.replace(/\.\d+Z$/, 'Z'),
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
        emit(options, await readDayReport(pool, serviceDay), describeDay);
      } finally {
        await pool.end();
      }
    });
}
