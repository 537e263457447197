import { bigint, date, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Stored taps, PARTITIONED BY RANGE (service_day), one partition per Europe/Istanbul day,
 * created by the ingest as days appear. drizzle-kit cannot declare partitioning, so the table
 * is created by the custom migration 0003_boardings.sql and this definition (not exported from
 * the schema index that drizzle-kit reads) is for typed queries only.
 *
 * match_id is the match found as of tapped_at when the tap was stored (null: unmatched); the
 * export joins the registry again as it stands at build time.
 */
export const boardings = pgTable('boardings', {
  serviceDay: date('service_day', { mode: 'string' }).notNull(),
  validatorId: text('validator_id').notNull(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  cardNo: text('card_no').notNull(),
  tappedAt: timestamp('tapped_at', { withTimezone: true, precision: 3 }).notNull(),
  mode: text('mode').notNull(),
  lineCode: text('line_code').notNull(),
  vehicleId: text('vehicle_id'),
  stopCode: text('stop_code'),
  result: text('result').notNull(),
  rejectReason: text('reject_reason'),
  matchId: bigint('match_id', { mode: 'number' }),
  kafkaPartition: integer('kafka_partition').notNull(),
  kafkaOffset: bigint('kafka_offset', { mode: 'number' }).notNull(),
  kafkaTimestamp: timestamp('kafka_timestamp', { withTimezone: true, precision: 3 }).notNull(),
});
