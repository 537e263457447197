import { sql } from 'drizzle-orm';
import { boolean, date, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per `boarding retention run` or nightly retention job (SPEC §11: each run is recorded
 * with counts per kind, never values). Written RUNNING when the run starts and finished with its
 * outcome, so a run that died midway is still seen. Only counts, settings and cutoff days: no
 * card number, validator or file name ever goes in here.
 */
export const retentionRuns = pgTable('retention_runs', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().default(sql`now()`),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
  // cli (boarding retention run) or job (the exporter's nightly job).
  source: text('source', { enum: ['cli', 'job'] }).notNull(),
  // A dry run counted what it would delete and deleted nothing.
  dryRun: boolean('dry_run').notNull(),
  outcome: text('outcome', { enum: ['RUNNING', 'COMPLETED', 'FAILED'] }).notNull(),
  // Service days before these were (or would be) deleted: taps/duplicates/dead letters, the
  // raw bytes of dead letters, local copies of delivered files.
  tapsBefore: date('taps_before', { mode: 'string' }).notNull(),
  deadLetterRawBefore: date('dead_letter_raw_before', { mode: 'string' }).notNull(),
  filesBefore: date('files_before', { mode: 'string' }).notNull(),
  // Counts per kind (RetentionCounts): what was deleted so far, also when the run failed.
  counts: jsonb('counts').$type<Record<string, number>>().notNull().default({}),
  // The error's code (and message) of a FAILED run; PostgreSQL's and ours name no row values.
  error: text('error'),
});
