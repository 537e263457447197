import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Every change to the registry and every read of clear TC/HES outside the export, written in
 * the same transaction as the change. Subjects are masked (`*******6060`, `****-****-X9`).
 */
export const registryAudit = pgTable(
  'registry_audit',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp('at', { withTimezone: true }).notNull().default(sql`now()`),
    actor: text('actor').notNull(),
    channel: text('channel').notNull(),
    // The API key and, for kiosks and activation points, the location behind an API change
    // (SPEC §9: every change audited with its channel, key id and location); null otherwise.
    keyId: text('key_id'),
    locationId: text('location_id'),
    action: text('action').notNull(),
    cardNo: text('card_no'),
    personId: bigint('person_id', { mode: 'number' }),
    matchId: bigint('match_id', { mode: 'number' }),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    index('registry_audit_at_idx').on(t.at),
    index('registry_audit_card_idx').on(t.cardNo),
    index('registry_audit_key_idx').on(t.keyId),
  ],
);
