import { sql } from 'drizzle-orm';
import { bigint, date, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The idempotency ledger of taps: one row per (validator_id, seq), the identity of a tap across
 * all days (SPEC §2). A repeat with the same card and instant is a duplicate; with another card
 * or instant a SEQ_CONFLICT. The Kafka coordinates tell a replay of the very message that was
 * stored (not a duplicate) from a second upload of the tap (a duplicate).
 */
export const tapKeys = pgTable(
  'tap_keys',
  {
    validatorId: text('validator_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    cardNo: text('card_no').notNull(),
    tappedAt: timestamp('tapped_at', { withTimezone: true, precision: 3 }).notNull(),
    kafkaPartition: integer('kafka_partition').notNull(),
    kafkaOffset: bigint('kafka_offset', { mode: 'number' }).notNull(),
    storedAt: timestamp('stored_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ name: 'tap_keys_pkey', columns: [t.validatorId, t.seq] })],
);
