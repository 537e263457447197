import { sql } from 'drizzle-orm';
import { date, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Every firing of the nightly export that was planned (SPEC §5), kept in PostgreSQL rather than
 * only in Redis: an exporter that starts after a firing it missed (down at 03:30, or Redis lost
 * the scheduler) finds the gap between the last row and the firings the cron says should have
 * happened, and runs those nights at once.
 */
export const nightlyRuns = pgTable('nightly_runs', {
  // The scheduled firing time (not when a worker got to it).
  firedAt: timestamp('fired_at', { withTimezone: true }).primaryKey(),
  // D: the service day the firing exports.
  serviceDay: date('service_day', { mode: 'string' }).notNull(),
  // scheduler: the BullMQ job scheduler fired it; catch-up: an exporter found it missed.
  source: text('source', { enum: ['scheduler', 'catch-up'] }).notNull(),
  plannedAt: timestamp('planned_at', { withTimezone: true }).notNull().default(sql`now()`),
});
