import { sql } from 'drizzle-orm';
import { bigint, date, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per version number of a day's file that was ever sent (SPEC §4–§5). The row is written
 * `IN_FLIGHT` before the first byte of its upload leaves, and becomes `DELIVERED` in the same
 * transaction as its DELIVERED attempt. A version with a row is used for good: its number never
 * names other bytes (an IN_FLIGHT row may have reached the receiver, its ledger write lost). The
 * newest DELIVERED row of a day is "the last delivered version" a rebuild is compared with (by
 * content_sha256, the CSV before any gzip), and its manifest is what a `--force` re-delivery
 * sends again, byte for byte.
 */
export const exportVersions = pgTable(
  'export_versions',
  {
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    version: integer('version').notNull(),
    fileName: text('file_name').notNull(),
    // sha256 of the CSV bytes (uncompressed): what "the content differs" means.
    contentSha256: text('content_sha256').notNull(),
    // sha256 and size of the file as delivered (the .gz when compressed), as in the manifest.
    sha256: text('sha256').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    rows: integer('rows').notNull(),
    supersedes: integer('supersedes'),
    // The manifest exactly as delivered (text, not jsonb: jsonb reorders keys, and a --force
    // re-delivery must send the very bytes the receiver had).
    manifestJson: text('manifest_json').notNull(),
    // IN_FLIGHT: reserved before its upload started; it may or may not have reached the receiver.
    state: text('state', { enum: ['IN_FLIGHT', 'DELIVERED'] })
      .notNull()
      .default('DELIVERED'),
    reservedAt: timestamp('reserved_at', { withTimezone: true }).notNull().default(sql`now()`),
    // Null while IN_FLIGHT.
    deliveredAt: timestamp('delivered_at', { withTimezone: true }).default(sql`now()`),
  },
  (t) => [primaryKey({ name: 'export_versions_pkey', columns: [t.serviceDay, t.version] })],
);

/**
 * The delivery ledger (SPEC §4): every attempt to deliver a day's file, failed or not, and every
 * rebuild that found nothing new to deliver (UNCHANGED). Errors are stored as their message and
 * code; they never hold personal data (file names, hosts and reasons only).
 */
export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    version: integer('version').notNull(),
    fileName: text('file_name').notNull(),
    sha256: text('sha256').notNull(),
    // Which try of one run this was (1, 2, … under the retry backoff).
    attempt: integer('attempt').notNull(),
    // IN_FLIGHT: written before the try's upload starts, set to DELIVERED or FAILED when it ends;
    // one left IN_FLIGHT is a try whose end was never recorded (a crash, the database away).
    outcome: text('outcome', { enum: ['IN_FLIGHT', 'DELIVERED', 'FAILED', 'UNCHANGED'] }).notNull(),
    // What started it: nightly, late-window, cli, force, replay, demo.
    trigger: text('trigger').notNull(),
    target: text('target').notNull(),
    errorCode: text('error_code'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    // Null while IN_FLIGHT.
    finishedAt: timestamp('finished_at', { withTimezone: true }).default(sql`now()`),
  },
  (t) => [index('delivery_attempts_day_idx').on(t.serviceDay, t.id)],
);
