import { sql } from 'drizzle-orm';
import { pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * What the keys this database was written with look like, without holding them: for the index
 * key an HMAC of a fixed label under it, for each data key id a sealed canary. Written on first
 * use, verified by every command and service at start, so a wrong key is a clear error before
 * any write (not duplicate persons, nor a failed decrypt at 03:30).
 */
export const keyChecks = pgTable(
  'key_checks',
  {
    // INDEX (key_id ''), or DATA (key_id: the data key's id).
    kind: text('kind', { enum: ['INDEX', 'DATA'] }).notNull(),
    keyId: text('key_id').notNull(),
    // INDEX: hex HMAC-SHA-256 of the label; DATA: the canary sealed under that key.
    checkValue: text('check_value').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ name: 'key_checks_pkey', columns: [t.kind, t.keyId] })],
);
