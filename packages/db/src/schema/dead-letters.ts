import { sql } from 'drizzle-orm';
import {
  bigint,
  customType,
  date,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

const bytes = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * Every message the ingest could not store as a tap, with its raw bytes, Kafka coordinates and
 * a reason code (SPEC §2). Keyed by the coordinates: a replay records the same letter once.
 * The raw value may hold a card number, TC or HES in clear, so readers mask (deadletters show).
 */
export const deadLetters = pgTable(
  'dead_letters',
  {
    topic: text('topic').notNull(),
    kafkaPartition: integer('kafka_partition').notNull(),
    kafkaOffset: bigint('kafka_offset', { mode: 'number' }).notNull(),
    kafkaTimestamp: timestamp('kafka_timestamp', { withTimezone: true, precision: 3 }).notNull(),
    messageKey: bytes('message_key'),
    rawValue: bytes('raw_value'),
    reason: text('reason').notNull(),
    detail: text('detail').notNull(),
    validatorId: text('validator_id'),
    seq: bigint('seq', { mode: 'number' }),
    // The tap's service day when it could be read, else the Istanbul date of the Kafka timestamp.
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ name: 'dead_letters_pkey', columns: [t.topic, t.kafkaPartition, t.kafkaOffset] }),
    index('dead_letters_day_idx').on(t.serviceDay, t.reason),
  ],
);
