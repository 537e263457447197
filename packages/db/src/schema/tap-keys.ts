import { sql } from 'drizzle-orm';
import { bigint, date, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The idempotency ledger of taps: one row per (validator_id, seq), the identity of a tap across
 * all days (SPEC §2). A repeat with the same card and instant is a duplicate; with another card
 * or instant a SEQ_CONFLICT. The Kafka coordinates tell a replay of the very message that was
 * stored (not a duplicate) from a second upload of the tap (a duplicate), and account for that
 * offset (SPEC §2: every message read is exactly one stored tap, duplicate, dead letter or
 * heartbeat); the offset index lets `ingest reconcile` walk a committed range.
 */
export const tapKeys = pgTable(
  'tap_keys',
  {
    validatorId: text('validator_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    cardNo: text('card_no').notNull(),
    tappedAt: timestamp('tapped_at', { withTimezone: true, precision: 3 }).notNull(),
    // Rows stored before migration 0005 were given the SPEC's topic, validator.taps.v1.
    topic: text('topic').notNull(),
    kafkaPartition: integer('kafka_partition').notNull(),
    kafkaOffset: bigint('kafka_offset', { mode: 'number' }).notNull(),
    storedAt: timestamp('stored_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ name: 'tap_keys_pkey', columns: [t.validatorId, t.seq] }),
    index('tap_keys_offset_idx').on(t.topic, t.kafkaPartition, t.kafkaOffset),
  ],
);
