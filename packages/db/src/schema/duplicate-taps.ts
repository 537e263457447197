import { sql } from 'drizzle-orm';
import { bigint, date, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Messages recognised as repeats of a stored tap (same validator, seq, card and instant), by
 * their Kafka coordinates: counted exactly once even when a day is replayed.
 */
export const duplicateTaps = pgTable(
  'duplicate_taps',
  {
    topic: text('topic').notNull(),
    kafkaPartition: integer('kafka_partition').notNull(),
    kafkaOffset: bigint('kafka_offset', { mode: 'number' }).notNull(),
    validatorId: text('validator_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ name: 'duplicate_taps_pkey', columns: [t.topic, t.kafkaPartition, t.kafkaOffset] }),
    index('duplicate_taps_day_idx').on(t.serviceDay),
  ],
);
