import { sql } from 'drizzle-orm';
import { bigint, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** One row per `boarding registry import` run that reached the database, applied or not. */
export const importRuns = pgTable('import_runs', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().default(sql`now()`),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
  fileName: text('file_name').notNull(),
  fileSha256: text('file_sha256').notNull(),
  actor: text('actor').notNull(),
  outcome: text('outcome', { enum: ['APPLIED', 'UNCHANGED', 'REJECTED'] }).notNull(),
  rowsRead: integer('rows_read').notNull(),
  rowsInvalid: integer('rows_invalid').notNull(),
  matchesInserted: integer('matches_inserted').notNull(),
  matchesClosed: integer('matches_closed').notNull(),
  matchesUnchanged: integer('matches_unchanged').notNull(),
  summary: jsonb('summary').$type<Record<string, unknown>>().notNull().default({}),
});
