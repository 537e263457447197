import { sql } from 'drizzle-orm';
import { bigint, date, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Every heartbeat message the ingest read, by its Kafka coordinates (SPEC §2: accounting holds
 * at every committed offset, so a heartbeat leaves a record like a tap or a dead letter does).
 * `validator_heartbeats` keeps only what completeness uses; this is the log behind it, including
 * heartbeats whose lastSeq went backwards (kept here, never lowering what completeness uses).
 */
export const heartbeatLog = pgTable(
  'heartbeat_log',
  {
    topic: text('topic').notNull(),
    kafkaPartition: integer('kafka_partition').notNull(),
    kafkaOffset: bigint('kafka_offset', { mode: 'number' }).notNull(),
    kafkaTimestamp: timestamp('kafka_timestamp', { withTimezone: true, precision: 3 }).notNull(),
    validatorId: text('validator_id').notNull(),
    lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull(),
    // Europe/Istanbul date of `at`: what retention and `day show` select by.
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ name: 'heartbeat_log_pkey', columns: [t.topic, t.kafkaPartition, t.kafkaOffset] }),
    index('heartbeat_log_day_idx').on(t.serviceDay),
  ],
);
