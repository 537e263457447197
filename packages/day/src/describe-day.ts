import { withTransaction } from '@boarding/db/transaction';
import {
  deliveredVersions,
  readLedger,
  summarizeVersion,
  type VersionSummary,
} from '@boarding/delivery/ledger';
import { dayCompleteness, type ValidatorGap } from '@boarding/export/completeness';
import { dayCounts } from '@boarding/export/manifest';
import type { Pool } from 'pg';

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
    /** Null while the try is IN_FLIGHT (or its end was never recorded). */
    finishedAt: string | null;
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
export async function describeDay(pool: Pool, day: string): Promise<DayReport> {
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
      finishedAt: a.finishedAt?.toISOString() ?? null,
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
