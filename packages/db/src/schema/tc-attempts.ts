import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, timestamp } from 'drizzle-orm/pg-core';
import { bytea } from './types';

/**
 * The registry API's attempts per TC kimlik no and hour (SPEC §9: a number cannot be
 * brute-forced across cards), in the database so that every API process counts into the same
 * window: a limit held in each process would allow N times the setting with N replicas. The
 * subject is the keyed HMAC of the TC (the same index as persons.tc_index), never the number.
 * Rows older than two windows are pruned by the API.
 */
export const tcAttempts = pgTable(
  'tc_attempts',
  {
    tcIndex: bytea('tc_index').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    count: integer('count').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tcIndex, t.windowStart] }),
    index('tc_attempts_window_idx').on(t.windowStart),
    check('tc_attempts_count_positive', sql`${t.count} > 0`),
  ],
);
