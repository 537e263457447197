import { bigint, date, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Per validator and service day: the lowest and highest seq stored and how many taps, kept
 * incrementally by the ingest. A day is gap-free when tap_count = max_seq - min_seq + 1, so
 * "is validator V complete for D?" (SPEC §5) is one row read; gaps are listed only when not.
 */
export const validatorDays = pgTable(
  'validator_days',
  {
    validatorId: text('validator_id').notNull(),
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    minSeq: bigint('min_seq', { mode: 'number' }).notNull(),
    maxSeq: bigint('max_seq', { mode: 'number' }).notNull(),
    tapCount: bigint('tap_count', { mode: 'number' }).notNull(),
    lastTappedAt: timestamp('last_tapped_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [primaryKey({ name: 'validator_days_pkey', columns: [t.validatorId, t.serviceDay] })],
);

/** The newest heartbeat of each validator: it has recorded every seq up to last_seq at `at`. */
export const validatorHeartbeats = pgTable('validator_heartbeats', {
  validatorId: text('validator_id').primaryKey(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
  at: timestamp('at', { withTimezone: true, precision: 3 }).notNull(),
});
