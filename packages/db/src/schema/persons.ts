import { sql } from 'drizzle-orm';
import { bigint, pgTable, timestamp } from 'drizzle-orm/pg-core';
import { bytea } from './types';

/**
 * A person known by TC kimlik no. The number is never stored in clear: `tc_enc` is AES-256-GCM
 * (field-cipher, context "tc"), `tc_index` a keyed HMAC so a TC can be looked up by equality.
 */
export const persons = pgTable('persons', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  tcIndex: bytea('tc_index').notNull().unique('persons_tc_index_key'),
  tcEnc: bytea('tc_enc').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`now()`),
});
